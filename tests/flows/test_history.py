"""History-independent runs (issue 14): the pending check and the reconciliation's timing lookup ask the ledger
for the window they need, so their SQL does not grow with the files recorded before; and an exception row whose
shipment a replay posted is no longer counted as goods Odoo still holds."""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

from sqlalchemy import event

from tests.flows.conftest import dispatch_csv, drop, run_dispatches, run_stock, stock_csv
from tests.flows.test_replay import admin
from threepl_bridge.flows.dispatches import flag_pending
from threepl_bridge.ledger.states import Outcome
from threepl_bridge.odoo.stock_queries import StockQueries


@contextmanager
def statements(engine):
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def old_files(world, start: int, stop: int, *, mention: str | None = None) -> None:
    """Dispatch files of long-done orders (8 posted rows, a duplicate, an exception each), as the ledger records them."""
    shipped = datetime(2026, 6, 1, tzinfo=timezone.utc)
    for f in range(start, stop):
        reg = world.ledger.register_inbound(partner="demo3pl", kind="dispatches", folder="/from_3pl/dispatch", name=f"DISPATCH_OLD_{f}.csv",
                                            sha256=f"{f:064x}", size=1)

        def data(n: int, ref: str | None = None) -> str:
            return json.dumps({"order_ref": ref or f"WH/OUT/9{f:04d}{n}", "sku": "FURN_7800", "quantity": "1", "uom": "EA",
                               "shipped_at": (shipped + timedelta(hours=f)).isoformat()}, sort_keys=True)

        rows = [{"row_number": n, "outcome": Outcome.POSTED, "odoo_ref": f"stock.picking,{900000 + f * 10 + n}", "data": data(n)} for n in range(8)]
        rows.append({"row_number": 8, "outcome": Outcome.DUPLICATE, "data": data(0)})
        rows.append({"row_number": 9, "outcome": Outcome.EXCEPTION, "code": "DISPATCH_UNKNOWN_ORDER", "field": "order_ref",
                     "data": data(9, mention if f == start else None)})
        world.ledger.record_rows(reg.exchange_id, rows)


def test_the_pending_check_runs_the_same_sql_on_10_and_on_1000_earlier_files(world, released):
    later = datetime.now(timezone.utc) + timedelta(hours=72)
    old_files(world, 0, 10, mention=released["lots"]["name"])  # the 3PL named one released picking in a held row
    flag_pending(partner=world.demo, client=world.odoo, ledger=world.ledger, now=later)  # the exceptions are open from here on
    with statements(world.ledger.engine) as ten:
        first = flag_pending(partner=world.demo, client=world.odoo, ledger=world.ledger, now=later)
    with statements(world.ledger.engine) as timing_ten:
        world.ledger.timing_rows("demo3pl", later)
    old_files(world, 10, 1000)
    assert len(world.ledger.dispatch_rows("demo3pl")) == 10_000
    with statements(world.ledger.engine) as thousand:
        again = flag_pending(partner=world.demo, client=world.odoo, ledger=world.ledger, now=later)
    with statements(world.ledger.engine) as timing_thousand:
        world.ledger.timing_rows("demo3pl", later)
    assert again == first and sorted(p["picking"] for p in first) == sorted([released["one"]["name"], released["two"]["name"]])
    assert len(thousand) == len(ten) and len(timing_thousand) == len(timing_ten) == 2
    # a few statements per step, none per picking: released pickings, reported orders, the raise (a read, an
    # update of the pickings still pending), the resolve
    assert len(ten) <= 6, ten


def test_a_shipment_refused_for_a_locked_period_and_posted_by_its_replay_is_not_timing_in_a_later_count(world, released):
    """The full scan counted the first file's exception rows as goods Odoo still held at T, on top of the replay
    that posted them: a true shortage of 1 came out as a surplus of 9 (and would have been adjusted)."""
    two = released["two"]
    admin(world).execute("res.company", "write", [1], {"period_lock_date": "2026-10-31"})
    body = dispatch_csv([f"{two['name']},1,FURN_8855,,10,EA,,2026-10-30 10:00:00,Standard delivery,SD1,P2",
                         f"{two['name']},2,E-COM11,,4,EA,,2026-10-30 10:00:00,Standard delivery,SD1,P2"])
    drop(world, world.demo, "dispatches", "DISPATCH_L.csv", body)
    [first] = run_dispatches(world, world.demo)
    assert first.exception == 2
    admin(world).execute("res.company", "write", [1], {"period_lock_date": False})
    drop(world, world.demo, "dispatches", "DISPATCH_L.csv", body)
    [replay] = run_dispatches(world, world.demo)
    assert replay.posted == 2
    assert {r.settled_in for r in world.ledger.row_outcomes(first.exchange_id)} == {replay.exchange_id}

    as_of = datetime(2026, 11, 20, 9, 15, tzinfo=timezone.utc)  # 01:15 in Los Angeles, after the stand-in's opening stock
    products = {p["id"]: p for p in world.x("product.product", "search_read", [["detailed_type", "=", "product"]], fields=["default_code"])}
    held = StockQueries(world.odoo, world.demo).quantities_at(as_of, products)
    drop(world, world.demo, "stock", "STOCK_20261120.csv", stock_csv([
        f"FURN_8855,,{held[('FURN_8855', '')] - 1},EA,ok,2026-11-20 01:15:00",  # one drawer short
        f"E-COM11,,{held[('E-COM11', '')]},EA,ok,2026-11-20 01:15:00",
    ]))
    [result] = run_stock(world, world.demo)
    lines = {(l.sku, l.lot): l for l in world.ledger.reconciliation_lines(result.reconciliation_id)}
    drawer = lines[("FURN_8855", "")]
    assert (drawer.classification, drawer.timing_qty, drawer.variance_qty) == ("variance", 0, -1)
    assert ("E-COM11", "") not in lines  # a plain match: nothing in transit explains a difference there
