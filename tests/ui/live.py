"""A live world for the UI tests: a real Airflow (``airflow standalone`` on PostgreSQL: scheduler, LocalExecutor,
DAG processor, triggerer, API server with the UI), the Odoo stand-in, an SFTP server and a ledger on PostgreSQL,
and a partner ``uidemo`` (demo3pl's layouts, no schedule: only the test starts runs). ``operations_day`` then runs
what an operator finds in the morning through the scheduler: an order held back (no zip), a dispatch file with a
misspelt SKU (a suggested fix) and a stock count with variances above tolerance (finance's question)."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sandbox.airflow_services import AirflowServices
from sandbox.odoo_standin import OdooStandIn, build
from sandbox.sftp_server import EmbeddedSftpServer
from tests.conftest import PG_ADMIN_URL, REPO, unavailable

PARTNER = "uidemo"
PARTNER_ZONE = ZoneInfo("America/Los_Angeles")  # demo3pl's timezone: its files' times are local there
DAGS = [f"{PARTNER}_{flow}" for flow in ("products_to_3pl", "orders_to_3pl", "dispatches_from_3pl", "stock_from_3pl")]


@contextmanager
def databases(count: int) -> Iterator[list[str]]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import OperationalError

    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    names = [f"threepl_ui_{uuid.uuid4().hex[:10]}" for _ in range(count)]
    try:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        admin.dispose()
        unavailable(f"PostgreSQL is not reachable at {make_url(PG_ADMIN_URL).render_as_string()}: {exc.orig}")
    try:
        yield [make_url(PG_ADMIN_URL).set(database=n).render_as_string(hide_password=False) for n in names]
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def partner_yaml(folder: Path, schedules: dict[str, str | None] | None = None) -> None:
    text = (REPO / "sftp_formats" / "partners" / "demo3pl.yaml").read_text()
    start, end = text.index("schedules:"), text.index("policy:")
    wanted = {flow: None for flow in ("products_to_3pl", "orders_to_3pl", "dispatches_from_3pl", "stock_from_3pl")} | (schedules or {})
    text = text[:start] + f"schedules: {json.dumps(wanted)}\n" + text[end:]
    for old, new in (("code: demo3pl", f"code: {PARTNER}"), ("example: true ", "example: false")):
        assert old in text, old
        text = text.replace(old, new)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{PARTNER}.yaml").write_text(text)


@dataclass
class World:
    airflow: AirflowServices
    odoo: Any
    client: Any
    sftp_root: Path
    ledger_url: str
    reports: Path
    runs: dict[str, dict[str, Any]] = field(default_factory=dict)

    def ledger(self) -> Any:
        from threepl_bridge.ledger.repo import Ledger

        return Ledger.open(self.ledger_url)


@contextmanager
def live_world(base: Path, schedules: dict[str, str | None] | None = None, unpause: bool = True) -> Iterator[World]:
    """The world; ``schedules`` of the partner's flows (default none: only the test starts runs)."""
    from threepl_bridge.odoo.client import OdooClient, OdooSettings

    partners = base / "partners"
    partner_yaml(partners, schedules)
    with databases(2) as (airflow_db, ledger_url), OdooStandIn(build(etl_email="etl@example.com")) as odoo, \
            EmbeddedSftpServer(base / "sftp") as sftp:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW_CONN_", "THREEPL_"))}
        env.update({
            "AIRFLOW_CONN_DEMO3PL_SFTP": sftp.airflow_connection(),
            "AIRFLOW_CONN_ODOO_DEFAULT": json.dumps({"conn_type": "odoo", "host": odoo.url, "login": "etl", "password": "standin-etl-api-key",
                                                     "extra": {"database": "odoo3pl"}}),
            "THREEPL_LEDGER_URL": ledger_url, "THREEPL_REPORTS_DIR": str(base / "reports"), "THREEPL_PARTNERS_DIR": str(partners),
            "THREEPL_APPROVERS": "admin", "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        })
        client = OdooClient(OdooSettings(url=odoo.url, database="odoo3pl", login="etl", password="standin-etl-api-key"))
        with AirflowServices(env, base / "airflow", database=airflow_db) as af:
            af.wait_parsed(DAGS)
            if unpause:
                af.unpause(*DAGS)
            yield World(af, odoo, client, base / "sftp", ledger_url, base / "reports")


def run(world: World, dag_id: str, until: set[str] | None = None) -> dict[str, Any]:
    triggered = world.airflow.trigger(dag_id)
    done = world.airflow.wait(dag_id, triggered["dag_run_id"], timeout=420, **({"until": until} if until else {}))
    world.runs[dag_id] = done
    return done


def operations_day(world: World) -> dict[str, Any]:
    """Through the scheduler: products, orders (one held: no zip), a dispatch with a misspelt SKU, a stock count."""
    c = world.client
    [us] = c.execute("res.country", "search", [["code", "=", "US"]])
    no_zip = c.execute("res.partner", "create", {"name": "Walk-in (no zip)", "street": "9 Unknown Road", "city": "Oakland", "country_id": us})
    held = c.execute("sale.order", "create", {"partner_id": no_zip, "warehouse_id": 3, "order_line": [[0, 0, {"product_id": 8, "product_uom_qty": 2}]]})
    good = c.execute("sale.order", "create", {"partner_id": 10, "warehouse_id": 3, "order_line": [[0, 0, {"product_id": 8, "product_uom_qty": 2}]]})
    c.execute("sale.order", "action_confirm", [held, good])
    [picking] = c.execute("stock.picking", "search_read", [["sale_id", "=", good]], fields=["name"])
    [product] = c.execute("product.product", "read", [8], fields=["default_code"])
    out = {"products": run(world, f"{PARTNER}_products_to_3pl"), "orders": run(world, f"{PARTNER}_orders_to_3pl"), "picking": picking["name"],
           "sku": product["default_code"]}
    inbox = world.sftp_root / "from_3pl" / "dispatch"
    inbox.mkdir(parents=True, exist_ok=True)
    shipped = (datetime.now(timezone.utc) - timedelta(hours=2)).astimezone(PARTNER_ZONE).strftime("%Y-%m-%d %H:%M:%S")
    misspelt = product["default_code"].replace("0", "O", 1)  # FURN_7800 -> FURN_78O0: a lookalike the view names
    header = "order_ref,line,sku,barcode,qty_shipped,uom,lot,shipped_at,carrier,tracking_no,parcel_id\r\n"
    (inbox / "DISPATCH_UI_1.csv").write_text(header + f"{picking['name']},1,{misspelt},,2,EA,,{shipped},,TRK1,P1\r\n")
    (inbox / "DISPATCH_UI_1.csv.ok").write_text("")
    out["misspelt"] = misspelt
    out["dispatches"] = run(world, f"{PARTNER}_dispatches_from_3pl")
    stock = world.sftp_root / "from_3pl" / "stock"
    stock.mkdir(parents=True, exist_ok=True)
    counted = (datetime.now(timezone.utc) - timedelta(hours=1)).astimezone(PARTNER_ZONE).strftime("%Y-%m-%d %H:%M:%S")
    (stock / "STOCK_UI_1.csv").write_text(f"sku,lot,qty_on_hand,uom,status,snapshot_at\r\n{product['default_code']},,490,EA,available,{counted}\r\n")
    os.utime(stock / "STOCK_UI_1.csv", (0, 0))  # complete by the stable-size rule: written long ago
    triggered = world.airflow.trigger(f"{PARTNER}_stock_from_3pl")
    out["stock_run_id"] = triggered["dag_run_id"]
    out["ask_finance"] = wait_task(world, f"{PARTNER}_stock_from_3pl", triggered["dag_run_id"], "ask_finance")
    return out


def wait_task(world: World, dag_id: str, run_id: str, task_id: str, states: tuple[str, ...] = ("awaiting_input",), timeout: float = 300) -> str:
    """Wait until the task is in one of ``states`` (or finished); its state."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = world.airflow.task_states(dag_id, run_id).get(task_id)
        if state in states or state in ("success", "failed", "skipped", "upstream_failed"):
            return str(state)
        time.sleep(2)
    raise AssertionError(f"{dag_id} {task_id} not {states} after {timeout} s: {world.airflow.task_states(dag_id, run_id)}")
