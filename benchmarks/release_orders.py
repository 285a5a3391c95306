"""Benchmark: release N orders (1-2 lines each) to the 3PL: prepare, stage, upload to a real SFTP server, chatter notes.

Prints wall time and the number of Odoo calls per method (chatter included), for several N, against the goal of
issue 14: at most 10 + 2 * ceil(N / 500) calls. On the stand-in by default, on a real Odoo when ODOO_URL... are set.

    ./bin/bench benchmarks/release_orders.py            # N = 250, 500, 1000, on the stand-in
    ODOO_URL=... ODOO_DB=... ODOO_USER=... ODOO_PASSWORD=... ./bin/bench benchmarks/release_orders.py 100
                                                        # a real Odoo: seeds its own warehouse BNCH
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from types import SimpleNamespace
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "plugins"), str(REPO)]
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="bench-airflow-"))

from sandbox.odoo_standin import OdooStandIn, build  # noqa: E402
from sandbox.sftp_server import EmbeddedSftpServer  # noqa: E402
from threepl_bridge.flows.orders import note_released, prepare_orders  # noqa: E402
from threepl_bridge.flows.outbound import deliver_pending  # noqa: E402
from threepl_bridge.flows.products import prepare_products  # noqa: E402
from threepl_bridge.ledger.repo import Ledger  # noqa: E402
from threepl_bridge.odoo.client import OdooClient, OdooSettings  # noqa: E402
from threepl_bridge.specs.loader import load_partner  # noqa: E402
from threepl_bridge.transport.sftp import SftpTransport  # noqa: E402

SKUS = ("FURN_7800", "E-COM11", "FURN_8855")


def lines_of(i: int) -> list[tuple[str, int]]:
    """Order i's lines: one or two (alternately), 1-3 units each, as in the issue's measurements."""
    return [(sku, 1 + (i % 3)) for sku in SKUS[: 1 + i % 2]]


def seed_orders(n: int):  # type: ignore[no-untyped-def]
    """A stand-in holding n confirmed orders of 1-2 lines in the 3PL warehouse (loaded in-process, fast)."""
    env = build(etl_email="etl@example.com")
    env.transactional = False
    products = {sku: env.execute_kw(8, "etl", "product.product", "search", [[["default_code", "=", sku]]], {})[0] for sku in SKUS}
    [warehouse] = env.execute_kw(8, "etl", "stock.warehouse", "read", [[3]], {"fields": ["out_type_id"]})
    env.execute_kw(8, "etl", "stock.picking.type", "write", [[warehouse["out_type_id"][0]], {"auto_batch": False}], {})  # as measured on real Odoo
    for pid in products.values():
        env.execute_kw(8, "etl", "stock.quant", "create", [{"product_id": pid, "location_id": 35, "inventory_quantity_auto_apply": 10 * n}], {"context": {"inventory_mode": True}})
    for i in range(n):
        so = env.execute_kw(8, "etl", "sale.order", "create", [{
            "partner_id": 10, "warehouse_id": 3, "client_order_ref": f"B-{i}",
            "order_line": [[0, 0, {"product_id": products[sku], "product_uom_qty": qty}] for sku, qty in lines_of(i)],
        }], {})
        env.execute_kw(8, "etl", "sale.order", "action_confirm", [[so]], {})
    env.transactional = True
    return env


REAL = all(os.environ.get(k) for k in ("ODOO_URL", "ODOO_DB", "ODOO_USER", "ODOO_PASSWORD"))
BENCH_WAREHOUSE = "BNCH"  # on a real server the benchmark works in a warehouse of its own


def real_client() -> OdooClient:
    return OdooClient(OdooSettings(url=os.environ["ODOO_URL"], database=os.environ["ODOO_DB"], login=os.environ["ODOO_USER"],
                                   password=os.environ["ODOO_PASSWORD"], protocol=os.environ.get("ODOO_PROTOCOL", "xmlrpc")))


def seed_real(client: OdooClient, n: int, *, tag: str = "B") -> list[int]:
    """n confirmed orders of 1-2 lines in the benchmark's own warehouse of a real Odoo (auto-batch off on its
    delivery type, as measured in the issue); earlier runs' open orders there are cancelled first, so each run
    releases exactly its n orders. Seeded in bulk (100 orders per create, one confirm per 100). Returns the orders."""
    found = client.execute("stock.warehouse", "search_read", [["code", "=", BENCH_WAREHOUSE]], fields=["lot_stock_id", "out_type_id"])
    if not found:
        client.execute("stock.warehouse", "create", {"name": "3PL Benchmark Warehouse", "code": BENCH_WAREHOUSE})
        found = client.execute("stock.warehouse", "search_read", [["code", "=", BENCH_WAREHOUSE]], fields=["lot_stock_id", "out_type_id"])
    [warehouse] = found
    client.execute("stock.picking.type", "write", [warehouse["out_type_id"][0]], {"auto_batch": False})
    [user] = client.execute("res.users", "read", [client.uid], fields=["email"])
    if not user["email"]:
        client.execute("res.users", "write", [client.uid], {"email": "etl-bench@example.com"})
    old = client.execute("sale.order", "search", [["warehouse_id", "=", warehouse["id"]], ["state", "=", "sale"], ["client_order_ref", "=like", f"{tag}-%"]])
    if old:
        client.execute("sale.order", "write", old, {"client_order_ref": f"{tag}-cancelled"})
        client.call_button("sale.order", "action_cancel", old, context={"disable_cancel_warning": True})
    products = {sku: client.execute("product.product", "search", [["default_code", "=", sku]])[0] for sku in SKUS}
    customer = client.execute("res.partner", "search", [["is_company", "=", True], ["zip", "!=", False], ["street", "!=", False]], limit=1)[0]
    client.create_many("stock.quant", [{"product_id": pid, "location_id": warehouse["lot_stock_id"][0], "inventory_quantity_auto_apply": 10 * n + 1000}
                                       for pid in products.values()], context={"inventory_mode": True})
    orders: list[int] = []
    for start in range(0, n, 100):
        ids = client.execute("sale.order", "create", [{
            "partner_id": customer, "warehouse_id": warehouse["id"], "client_order_ref": f"{tag}-{i}",
            "order_line": [[0, 0, {"product_id": products[sku], "product_uom_qty": qty}] for sku, qty in lines_of(i)],
        } for i in range(start, min(n, start + 100))])
        client.execute("sale.order", "action_confirm", ids)
        orders.extend(ids)
    return orders


@contextmanager
def bench_world(n: int, prefix: str, *, real: bool | None = None, extra: int = 0) -> Iterator[SimpleNamespace]:
    """n confirmed orders (the stand-in, or the real Odoo given by ODOO_URL...), an SFTP server and a ledger; the
    product master already sent. ``odoo_calls`` is what Odoo received (the stand-in counts on its side). ``real``
    defaults to whether ODOO_URL... are set; ``extra`` more orders are seeded (confirmed, not released: the
    posting benchmark's floor works on them)."""
    real = REAL if real is None else real
    work = Path(tempfile.mkdtemp(prefix=f"{prefix}-{n}-"))
    partner = load_partner(REPO / "sftp_formats" / "partners" / "demo3pl.yaml")
    with ExitStack() as stack:
        if real:
            client = real_client()
            seed_real(client, n + extra)
            data = partner.spec.model_dump()
            data["odoo"]["warehouses"] = [BENCH_WAREHOUSE]
            partner = type(partner)(spec=type(partner.spec).model_validate(data), layouts=partner.layouts, source=partner.source)
            server_calls = None
        else:
            env = seed_orders(n + extra)
            odoo = stack.enter_context(OdooStandIn(env))
            client = OdooClient(OdooSettings(url=odoo.url, database="odoo3pl", login="etl", password="standin-etl-api-key"))
            server_calls = env.calls
        sftp = stack.enter_context(EmbeddedSftpServer(work / "sftp"))
        os.environ["AIRFLOW_CONN_DEMO3PL_SFTP"] = sftp.airflow_connection()
        world = SimpleNamespace(
            work=work, partner=partner, transport=SftpTransport("demo3pl_sftp"), ledger=Ledger.open(f"sqlite:///{work / 'ledger.db'}"),
            client=client, server_calls=server_calls, now=datetime.now(timezone.utc) if real else datetime(2026, 11, 20, 9, 30, tzinfo=timezone.utc),
        )
        prepare_products(partner=partner, client=world.client, ledger=world.ledger, now=world.now)
        deliver_pending(world.ledger, world.transport, partner, "products")
        yield world


def release(w: SimpleNamespace) -> int:
    """What one orders_to_3pl run does for new orders: prepare and stage, deliver, then the chatter notes (the
    note step is part of the release's cost: real Odoo pays per chatter call)."""
    prepared = prepare_orders(partner=w.partner, client=w.client, ledger=w.ledger, now=w.now)
    for delivery in deliver_pending(w.ledger, w.transport, w.partner, "orders"):
        note_released(partner=w.partner, client=w.client, ledger=w.ledger, exchange_id=delivery.exchange_id)
    return prepared.released


def goal(n: int) -> int:
    """Issue 14: a release of N orders in at most 10 + 2 * ceil(N / 500) Odoo calls."""
    return 10 + 2 * math.ceil(n / 500)


def run(n: int, *, real: bool | None = None) -> dict[str, object]:
    with bench_world(n, "bench-orders", real=real) as w:
        w.client.calls.clear()
        if w.server_calls is not None:
            w.server_calls.clear()
        started = time.perf_counter()
        released = release(w)
        elapsed = time.perf_counter() - started
        if w.server_calls is not None:  # the stand-in's own count must be what the client sent
            assert w.server_calls == w.client.calls, (w.server_calls, w.client.calls)
    lines = sum(len(p.read_text().splitlines()) - 1 for p in (w.work / "sftp" / "to_3pl" / "orders").iterdir())
    return {"orders": n, "released": released, "lines": lines, "seconds": elapsed, "calls": dict(w.client.calls)}


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or ([100] if REAL else [250, 500, 1000])
    print(f"Odoo: {os.environ['ODOO_URL'] + ' ' + str(real_client().version().get('server_version')) if REAL else 'the stand-in'}")
    print(f"{'orders':>7} {'released':>9} {'lines':>6} {'wall s':>8} {'Odoo calls':>11} {'goal':>5}  by method")
    for n in sizes:
        r = run(n)
        calls = r["calls"]
        total = sum(calls.values())
        print(f"{r['orders']:>7} {r['released']:>9} {r['lines']:>6} {r['seconds']:>8.2f} {total:>11} {'<= ' + str(goal(n)):>5} "
              f"{'met' if total <= goal(n) else 'MISSED'}  " + ", ".join(f"{k}={v}" for k, v in sorted(calls.items())))


if __name__ == "__main__":
    main()
