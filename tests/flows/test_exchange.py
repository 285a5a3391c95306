"""The one inbound lifecycle (flows/exchange.py): a new document kind is a declaration and a process step; every
file is downloaded once per task, inside one SSH session."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from sandbox.sftp_server import EmbeddedSftpServer
from tests.flows.conftest import RUN_AT, dispatch_csv, drop, stock_csv
from threepl_bridge import codes
from threepl_bridge.flows.exchange import Inbound, InboundKind, Processed, handle_file, list_files
from threepl_bridge.ledger.repo import Ledger
from threepl_bridge.ledger.states import Outcome, State
from threepl_bridge.specs.loader import load_partner
from threepl_bridge.transport.sftp import SftpTransport

TOY_PARTNER = """
code: toy3pl
name: Toy 3PL
timezone: UTC
odoo: {warehouses: ["3PL"]}
sftp: {conn_id: toy3pl_sftp, archive_folder: /archive, error_folder: /error}
uom: [{odoo_uom: Units, code: EA, factor: 1}]
documents:
  receipts:
    layout: toy_receipts
    folder: /in/receipts
    file_pattern: "REC_*.csv"
    complete: {rule: marker, marker_suffix: .done}
"""
TOY_LAYOUT = """
format: delimited
encoding: utf-8
header: true
fields:
  - {name: asn_ref, column: asn, required: true}
  - {name: sku, column: item, required: true}
  - {name: quantity, column: qty, type: decimal, required: true}
  - {name: received_at, column: at, type: datetime, required: true}
"""
TOY_SUITE = {"name": "receipts", "expectations": [
    {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "sku"}, "meta": {"code": "STOCK_REQUIRED_MISSING"}},
    {"type": "expect_column_values_to_be_between", "kwargs": {"column": "quantity", "min_value": 0, "strict_min": True},
     "meta": {"code": "DISPATCH_QTY_NOT_POSITIVE"}},
]}


def toy_process(work: Inbound) -> Processed:
    """The toy kind's whole business logic: an unknown item is a problem; the others are "posted"."""
    total = Decimal(0)
    outcomes = []
    for row in work.valid_rows():
        if row.values["sku"] == "GHOST":
            work.problems.append(codes.STOCK_UNKNOWN_SKU(row=row.number, field="sku", value="GHOST"))
            continue
        total += row.values["quantity"]
        outcomes.append({"row_number": row.number, "outcome": Outcome.POSTED, "odoo_ref": f"toy,{row.values['asn_ref']}"})
    return Processed(outcomes=outcomes, result={"received_units": str(total)})


TOY = InboundKind(name="receipts", unreadable=codes.STOCK_FILE_UNREADABLE, value_unreadable=codes.STOCK_FIELD_INVALID, process=toy_process)


@pytest.fixture
def toy(tmp_path, monkeypatch):
    (tmp_path / "partners" / "layouts").mkdir(parents=True)
    (tmp_path / "partners" / "toy3pl.yaml").write_text(TOY_PARTNER)
    (tmp_path / "partners" / "layouts" / "toy_receipts.yaml").write_text(TOY_LAYOUT)
    (tmp_path / "suites").mkdir()
    (tmp_path / "suites" / "receipts.json").write_text(json.dumps(TOY_SUITE))
    monkeypatch.setenv("THREEPL_EXPECTATIONS_DIR", str(tmp_path / "suites"))
    with EmbeddedSftpServer(tmp_path / "sftp") as server:
        monkeypatch.setenv("AIRFLOW_CONN_TOY3PL_SFTP", server.airflow_connection())
        yield load_partner(tmp_path / "partners" / "toy3pl.yaml"), server, Ledger.open(f"sqlite:///{tmp_path / 'ledger.db'}")


def put(server: EmbeddedSftpServer, name: str, text: str) -> None:
    inbox = server.root / "in" / "receipts"
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / name).write_text(text)
    (inbox / f"{name}.done").write_text("")


def test_a_toy_document_kind_runs_through_the_lifecycle_with_a_declaration_and_a_process_step(toy):
    partner, server, ledger = toy
    put(server, "REC_1.csv", "asn,item,qty,at\nA1,SKU1,5,2026-11-20 08:00:00\nA1,GHOST,1,2026-11-20 08:00:00\n"
                             "A1,SKU2,x,2026-11-20 08:00:00\nA1,,2,2026-11-20 08:00:00\nA2,SKU3,0,2026-11-20 08:00:00\n")
    transport = SftpTransport(partner.spec.sftp.conn_id)
    [name] = list_files(partner, TOY, transport)
    result = handle_file(TOY, partner, name, transport=transport, ledger=ledger, client=None, now=RUN_AT)
    assert (result.state, result.rows, result.posted, result.exception) == (State.INPUT_PROCESSED, 5, 1, 4)
    assert result.received_units == "5" and result.moved_to == "/archive/REC_1.csv"
    assert sorted(p.name for p in (server.root / "archive").iterdir()) == ["REC_1.csv", "REC_1.csv.done"]
    outcomes = {o.row_number: (o.outcome, o.code, o.message) for o in ledger.row_outcomes(result.exchange_id)}
    assert outcomes == {
        2: ("posted", "", None),
        3: ("exception", "STOCK_UNKNOWN_SKU", "REC_1.csv row 3: SKU GHOST is unknown to Odoo"),
        4: ("exception", "STOCK_FIELD_INVALID", "REC_1.csv row 4: qty: 'x' is not a number"),
        5: ("exception", "STOCK_REQUIRED_MISSING", "REC_1.csv row 5: sku is empty"),
        6: ("exception", "DISPATCH_QTY_NOT_POSITIVE", "REC_1.csv row 6: quantity 0.0 must be greater than 0"),
    }
    # the same content again under another name is a recorded duplicate; nothing is processed twice
    put(server, "REC_2.csv", (server.root / "archive" / "REC_1.csv").read_text())
    again = handle_file(TOY, partner, "REC_2.csv", transport=transport, ledger=ledger, client=None, now=RUN_AT)
    assert (again.state, again.duplicate_of, again.moved_to) == (State.INPUT_DUPLICATE, result.exchange_id, "/archive/REC_2.csv")
    # a file the layout cannot read goes to error/ under the kind's own code
    put(server, "REC_3.csv", "no,such,columns\n1,2,3\n")
    bad = handle_file(TOY, partner, "REC_3.csv", transport=transport, ledger=ledger, client=None, now=RUN_AT)
    assert (bad.state, bad.moved_to) == (State.INPUT_ERROR, "/error/REC_3.csv")
    [exc] = [e for e in ledger.open_exceptions("toy3pl") if e.object_type == "file"]
    assert exc.code == "STOCK_FILE_UNREADABLE" and "REC_3.csv" in exc.message


def test_handling_a_file_opens_one_ssh_session_and_downloads_it_once(toy):
    partner, server, ledger = toy
    put(server, "REC_1.csv", "asn,item,qty,at\nA1,SKU1,5,2026-11-20 08:00:00\n")
    transport = SftpTransport(partner.spec.sftp.conn_id)
    before = server.sessions
    handle_file(TOY, partner, "REC_1.csv", transport=transport, ledger=ledger, client=None, now=RUN_AT)
    assert server.sessions - before == 1
    assert server.reads == {"/in/receipts/REC_1.csv": 1}


def test_a_kind_must_be_an_inbound_document_kind():
    with pytest.raises(ValueError, match="'orders' is not an inbound document kind"):
        InboundKind(name="orders", unreadable=codes.STOCK_FILE_UNREADABLE, value_unreadable=codes.STOCK_FIELD_INVALID, process=toy_process)


def test_the_dispatch_and_stock_tasks_open_one_session_and_read_their_file_once(world):
    from threepl_bridge.flows.dispatches import DISPATCHES
    from threepl_bridge.flows.stock import STOCK

    picking = world.sell([("FURN_7800", 2)])
    world.run_orders(world.demo)
    drop(world, world.demo, "dispatches", "DISPATCH_1.csv", dispatch_csv([f"{picking['name']},1,FURN_7800,,2,EA,,2026-11-19 10:00:00,The Poste,T1,P1"]))
    drop(world, world.demo, "stock", "STOCK_1.csv", stock_csv(["FURN_7800,,498,EA,available,2026-11-20 06:00:00"]))
    transport = world.transport(world.demo)
    for kind, name in ((DISPATCHES, "DISPATCH_1.csv"), (STOCK, "STOCK_1.csv")):
        sessions, reads = world.sftp.sessions, dict(world.sftp.reads)
        result = handle_file(kind, world.demo, name, transport=transport, ledger=world.ledger, client=world.odoo,
                             now=datetime(2026, 11, 20, 9, 30, tzinfo=timezone.utc), options={"reports_dir": world.sftp_root.parent / "reports"})
        assert result.state == State.INPUT_PROCESSED, result
        assert world.sftp.sessions - sessions == 1, kind.name
        path = f"{world.demo.document(kind.name).folder}/{name}"
        assert world.sftp.reads[path] - reads.get(path, 0) == 1, kind.name
