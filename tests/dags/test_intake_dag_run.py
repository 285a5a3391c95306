"""Real Airflow DAG runs (dag.test) of the inbound DAGs against real SFTP servers, the stand-in and a ledger."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from sandbox.odoo_standin import OdooStandIn, build
from sandbox.sftp_server import EmbeddedSftpServer
from tests.dags.test_dag_integrity import load_dagbag
from threepl_bridge.ledger.models import Exchange
from threepl_bridge.ledger.repo import Ledger


@pytest.fixture(scope="module")
def airflow_db():
    """dag.test() needs an initialised metadata database (SQLite in the test Airflow home)."""
    out = subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]


def outcome(run) -> str:
    """A DAG run as an operator reads it: success, "needs a person" (only the last task, needs_a_person, failed:
    the run left blocking items) or failed (with the tasks that failed)."""
    failed = sorted(ti.task_id for ti in run.get_task_instances() if ti.state == "failed")
    if run.state == "success":
        return "success"
    return "needs a person" if failed == ["needs_a_person"] else f"failed {failed}"


def exchanges(ledger_url: str) -> set[tuple[str, str, bool]]:
    with Ledger.open(ledger_url).session() as s:
        return {(e.remote_name, e.state, e.duplicate_of_id is not None) for e in s.scalars(select(Exchange).where(Exchange.direction == "inbound"))}


def odoo_conn(monkeypatch, odoo) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_ODOO_DEFAULT", json.dumps({
        "conn_type": "odoo", "host": odoo.url, "login": "etl", "password": "standin-etl-api-key", "extra": {"database": "odoo3pl"}}))


@contextmanager
def stock_world(tmp_path, monkeypatch, snapshots: dict[str, bytes], odoo_now: datetime) -> Iterator[tuple[str, Path, object]]:
    """Snapshots waiting in demo3pl's stock folder on an SFTP server, the stand-in (clock frozen), a ledger and a
    reports folder, all wired through the environment the DAG runs read. Yields (ledger URL, SFTP root, stand-in)."""
    root = tmp_path / "sftp"
    inbox = root / "from_3pl" / "stock"
    inbox.mkdir(parents=True)
    for name, data in snapshots.items():
        (inbox / name).write_bytes(data)
    ledger_url = f"sqlite:///{tmp_path / 'ledger.db'}"
    monkeypatch.setenv("THREEPL_LEDGER_URL", ledger_url)
    monkeypatch.setenv("THREEPL_REPORTS_DIR", str(tmp_path / "reports"))
    # dag.test() has no scheduler to answer or time out finance's question (ask_finance would wait for ever): these
    # runs approve through params; tests/ui answer the question in a real Airflow
    monkeypatch.setenv("THREEPL_APPROVALS", "params")
    with OdooStandIn(build(etl_email="etl@example.com", frozen_now=odoo_now)) as odoo, EmbeddedSftpServer(root) as server:
        monkeypatch.setenv("AIRFLOW_CONN_DEMO3PL_SFTP", server.airflow_connection())
        odoo_conn(monkeypatch, odoo)
        yield ledger_url, root, odoo


def test_stock_dag_reconciles_snapshots_once_and_month_end_backfills_are_identical(airflow_db, tmp_path, monkeypatch):
    snapshot = b"sku,lot,qty_on_hand,uom,status,snapshot_at\r\nFURN_7800,,498,EA,available,2026-10-31 06:00:00\r\n"
    snapshots = {"STOCK_001.csv": snapshot, "STOCK_001_copy.csv": snapshot}
    with stock_world(tmp_path, monkeypatch, snapshots, datetime(2026, 10, 1, 8, 0)) as (ledger_url, root, _):
        bag = load_dagbag()
        dag = bag.dags["demo3pl_stock_from_3pl"]
        assert outcome(dag.test()) == "needs a person"  # the October count's shortage waits for finance
        assert outcome(dag.test()) == "success"  # a second run finds nothing new
        # `airflow backfill create ... --from-date 2026-08-01 --to-date 2026-10-31` runs the intervals [Aug 1, Sep 1),
        # [Sep 1, Oct 1), [Oct 1, Nov 1); dag.test() infers a run's interval as the last complete one before its
        # logical date, so the same intervals come from the logical dates Sep 1, Oct 1 and Nov 1
        months = [datetime(2026, m, 1, tzinfo=timezone.utc) for m in (9, 10, 11)]
        month_end = bag.dags["month_end_valuation"]
        first = []
        ready = {9: "success", 10: "success", 11: "needs a person"}  # October is NOT READY: the shortage is not approved
        for logical_date in months:
            assert outcome(month_end.test(logical_date=logical_date)) == ready[logical_date.month]
        first = {p.name: p.read_bytes() for p in sorted((tmp_path / "reports" / "demo3pl").glob("month_end_*.csv"))}
        for logical_date in months:
            assert outcome(month_end.test(logical_date=logical_date, run_after=logical_date.replace(day=2))) == ready[logical_date.month]
        second = {p.name: p.read_bytes() for p in sorted((tmp_path / "reports" / "demo3pl").glob("month_end_*.csv"))}
    # two identical snapshots in one run: whichever mapped task receives first processes it, the other is its duplicate
    found = exchanges(ledger_url)
    assert found in ({("STOCK_001.csv", "input_processed", False), ("STOCK_001_copy.csv", "input_duplicate", True)},
                     {("STOCK_001_copy.csv", "input_processed", False), ("STOCK_001.csv", "input_duplicate", True)})
    assert sorted(p.name for p in (root / "archive").iterdir()) == ["STOCK_001.csv", "STOCK_001_copy.csv"]
    assert sorted(first) == ["month_end_2026-08.csv", "month_end_2026-09.csv", "month_end_2026-10.csv"]
    assert first == second
    assert b"\nverdict,not_ready," in first["month_end_2026-10.csv"]  # the October count shows a shortage waiting for approval
    assert b"\nverdict,ready_to_close," in first["month_end_2026-08.csv"]
    assert list((tmp_path / "reports" / "demo3pl").glob("reconciliation_20261031T*.html"))


def test_outbound_then_dispatch_dags_release_once_post_and_skip_files_still_being_written(airflow_db, tmp_path, monkeypatch):
    ledger_url = f"sqlite:///{tmp_path / 'ledger.db'}"
    monkeypatch.setenv("THREEPL_LEDGER_URL", ledger_url)
    with OdooStandIn(build(etl_email="etl@example.com")) as odoo, EmbeddedSftpServer(tmp_path / "sftp") as sftp:
        monkeypatch.setenv("AIRFLOW_CONN_DEMO3PL_SFTP", sftp.airflow_connection())
        odoo_conn(monkeypatch, odoo)
        from threepl_bridge.odoo.client import OdooClient, OdooSettings

        client = OdooClient(OdooSettings(url=odoo.url, database="odoo3pl", login="etl", password="standin-etl-api-key"))
        so = client.execute("sale.order", "create", {"partner_id": 10, "warehouse_id": 3, "order_line": [[0, 0, {"product_id": 8, "product_uom_qty": 2}]]})
        client.execute("sale.order", "action_confirm", [so])
        bag = load_dagbag()
        assert bag.dags["demo3pl_products_to_3pl"].test().state == "success"
        assert bag.dags["demo3pl_orders_to_3pl"].test().state == "success"
        assert bag.dags["demo3pl_orders_to_3pl"].test().state == "success"  # a second run releases nothing
        [picking] = client.execute("stock.picking", "search_read", [["sale_id", "=", so]], fields=["name"])
        items = list((tmp_path / "sftp" / "to_3pl" / "items").iterdir())
        orders = list((tmp_path / "sftp" / "to_3pl" / "orders").iterdir())
        assert len(items) == 1 and len(orders) == 1
        assert orders[0].read_text().count(picking["name"]) == 1
        ledger = Ledger.open(ledger_url)
        assert ledger.released_pickings("demo3pl")[picking["id"]].state == "released"
        assert ledger.watermark("demo3pl", "products.product") is not None
        inbox = tmp_path / "sftp" / "from_3pl" / "dispatch"
        inbox.mkdir(parents=True)
        header = "order_ref,line,sku,barcode,qty_shipped,uom,lot,shipped_at,carrier,tracking_no,parcel_id\r\n"
        (inbox / "DISPATCH_1.csv").write_text(header + f"{picking['name']},1,FURN_7800,,2,EA,,2026-10-31 23:00:00,,TRK1,P1\r\n")
        (inbox / "DISPATCH_1.csv.ok").write_text("")
        (inbox / "DISPATCH_2.csv").write_text(header)  # no marker yet: still being written
        dag = bag.dags["demo3pl_dispatches_from_3pl"]
        assert dag.test().state == "success"
        assert dag.test().state == "success"
        [done] = client.execute("stock.picking", "read", [picking["id"]], fields=["state", "carrier_tracking_ref"])
    assert done == {"id": picking["id"], "state": "done", "carrier_tracking_ref": "TRK1"}
    assert exchanges(ledger_url) == {("DISPATCH_1.csv", "input_processed", False)}
    assert sorted(p.name for p in inbox.iterdir()) == ["DISPATCH_2.csv"]


def test_an_approval_needs_no_new_snapshot(airflow_db, tmp_path, monkeypatch):
    """Triggering the stock DAG with an approval and no file waiting: the mapped task has nothing to expand
    (skipped), and the approval and the report rebuild still run."""
    snapshot = b"sku,lot,qty_on_hand,uom,status,snapshot_at\r\nFURN_7800,,490,EA,available,2026-10-31 06:00:00\r\n"
    with stock_world(tmp_path, monkeypatch, {"STOCK_001.csv": snapshot}, datetime(2026, 11, 1, 8, 0)) as (ledger_url, _, odoo):
        dag = load_dagbag().dags["demo3pl_stock_from_3pl"]
        assert outcome(dag.test()) == "needs a person"  # a variance above tolerance waits for approval
        ledger = Ledger.open(ledger_url)
        [recon] = ledger.reconciliations("demo3pl")
        [line] = [l for l in ledger.reconciliation_lines(recon.id) if l.sku == "FURN_7800"]
        assert line.approval == "pending"
        conf = {"reconciliation_id": recon.id, "approve": ["all"], "approver": "jane@finance"}
        assert dag.test(run_conf=conf).state == "success"
        assert dag.test(run_conf=conf).state == "success"  # approving again posts nothing new
        from threepl_bridge.odoo.client import OdooClient, OdooSettings

        client = OdooClient(OdooSettings(url=odoo.url, database="odoo3pl", login="etl", password="standin-etl-api-key"))
        adjustments = client.execute("stock.move", "search_read", [["is_inventory", "=", True], ["reference", "like", f"R{recon.id} FURN_7800"]],
                                     fields=["quantity"])
    [line] = [l for l in Ledger.open(ledger_url).reconciliation_lines(recon.id) if l.sku == "FURN_7800"]
    assert (line.approval, line.approved_by, line.posting_id is not None) == ("approved", "jane@finance", True)
    assert [a["quantity"] for a in adjustments] == [10.0]


def test_goods_in_dags_announce_receive_take_back_and_adjust_once(airflow_db, tmp_path, monkeypatch):
    """receipts_to_3pl, receipts_from_3pl, returns_from_3pl and adjustments_from_3pl as real DAG runs, each run
    twice: the second run of each sends and posts nothing."""
    ledger_url = f"sqlite:///{tmp_path / 'ledger.db'}"
    monkeypatch.setenv("THREEPL_LEDGER_URL", ledger_url)
    monkeypatch.setenv("THREEPL_REPORTS_DIR", str(tmp_path / "reports"))
    root = tmp_path / "sftp"
    with OdooStandIn(build(etl_email="etl@example.com")) as odoo, EmbeddedSftpServer(root) as sftp:
        monkeypatch.setenv("AIRFLOW_CONN_DEMO3PL_SFTP", sftp.airflow_connection())
        odoo_conn(monkeypatch, odoo)
        from threepl_bridge.odoo.client import OdooClient, OdooSettings

        client = OdooClient(OdooSettings(url=odoo.url, database="odoo3pl", login="etl", password="standin-etl-api-key"))
        client.execute("stock.location", "create", {"name": "Quarantine", "location_id": 34, "usage": "internal"})
        po = client.execute("purchase.order", "create", {"partner_id": 9, "picking_type_id": 11, "order_line": [
            [0, 0, {"product_id": 32, "product_qty": 10, "price_unit": 95.0}]]})
        client.execute("purchase.order", "button_confirm", [po])
        [receipt] = client.execute("stock.picking", "search_read", [["purchase_id", "=", po]], fields=["name"])
        bag = load_dagbag()
        assert bag.dags["demo3pl_products_to_3pl"].test().state == "success"
        for _ in range(2):
            assert bag.dags["demo3pl_receipts_to_3pl"].test().state == "success"
        [asn] = list((root / "to_3pl" / "asn").glob("ASN_*.csv"))
        assert asn.read_text().count(receipt["name"]) == 1
        drops = {
            ("receipts", "RECEIPT_1.csv"): "asn_ref,line,sku,barcode,qty_received,uom,lot,expiry,condition,received_at\r\n"
                                           f"{receipt['name']},1,FURN_8855,,9,EA,,,good,2026-11-19 08:00:00\r\n"
                                           f"{receipt['name']},1,FURN_8855,,1,EA,,,damaged,2026-11-19 08:00:00\r\n",
            ("adjustments", "ADJUST_1.csv"): "line,sku,barcode,lot,qty_change,uom,reason_code,note,adjusted_at\r\n"
                                             "1,FURN_8855,,,-1,EA,DMG,,2026-11-19 09:00:00\r\n",
        }
        for (kind, name), text in drops.items():
            inbox = root / "from_3pl" / kind
            inbox.mkdir(parents=True, exist_ok=True)
            (inbox / name).write_text(text)
            (inbox / f"{name}.ok").write_text("")
        for flow in ("receipts_from_3pl", "adjustments_from_3pl"):
            for _ in range(2):
                assert outcome(bag.dags[f"demo3pl_{flow}"].test()) == "success"
        [done] = client.execute("stock.picking", "read", [receipt["id"]], fields=["state"])
        layers = client.execute("stock.valuation.layer", "search_count", [["product_id", "=", 32]])
    assert done["state"] == "done"
    assert exchanges(ledger_url) == {("RECEIPT_1.csv", "input_processed", False), ("ADJUST_1.csv", "input_processed", False)}
    assert layers == 3  # the opening stock, the receipt, the adjustment: each once
