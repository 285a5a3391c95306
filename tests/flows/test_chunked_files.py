"""Issue 14: the lifecycle reads and validates a file a chunk at a time (flows/exchange.py _parse_and_validate).

The first reading keeps a bounded number of row objects and problems and counts the rest: a file far too wrong is
quarantined from that one reading; a large file that is not is read a second time in full, and every row still
gets its outcome. Chunks, kept rows and GX runs are made tiny here so that a few rows cross every edge."""

from __future__ import annotations

import pytest

from tests.flows.conftest import dispatch_csv, drop, run_dispatches
from threepl_bridge import quality
from threepl_bridge.flows import exchange
from threepl_bridge.formats import reader
from threepl_bridge.ledger.states import State

SHIPPED = "2026-11-02 10:00:00"


@pytest.fixture
def readings(monkeypatch):
    """Tiny chunks (4 rows), 4 row objects kept, GX runs of 8 rows (2 for row objects), 4 x the cap problems kept;
    counts the readings of each file."""
    monkeypatch.setattr(reader, "CHUNK_ROWS", 4)
    monkeypatch.setattr(exchange, "KEEP_ROWS", 4)
    monkeypatch.setattr(quality, "GX_ROWS", 8)
    monkeypatch.setattr(exchange, "KEEP_PROBLEMS", 1)
    calls: list[int | None] = []
    real = exchange._read

    def counting(*args, **kwargs):
        calls.append(kwargs.get("keep"))
        return real(*args, **kwargs)

    monkeypatch.setattr(exchange, "_read", counting)
    return calls


def test_a_file_far_too_wrong_is_quarantined_from_the_first_reading(world, released, monkeypatch, readings):
    monkeypatch.setenv("THREEPL_MAX_ROW_EXCEPTIONS", "3")  # problems kept: 12
    one = released["one"]
    bad = [f"{one['name']},{i},FURN_7800,,two,EA,,{SHIPPED},The Poste,TP1,P1" for i in range(1, 31)]
    drop(world, world.demo, "dispatches", "DISPATCH_WRONG.csv", dispatch_csv([*bad, f"{one['name']},40,FURN_7800,,2,EA,,{SHIPPED},,T,P1"]))
    [result] = run_dispatches(world, world.demo)
    assert result.state == State.INPUT_ERROR
    assert "30 of 31 rows cannot be taken (first: qty_shipped: 'two' is not a number)" in result.error
    assert readings == [12]  # one reading, in bounded memory
    assert world.ledger.row_outcomes(result.exchange_id) == []


def test_a_large_file_not_too_wrong_is_read_again_in_full_and_every_row_has_its_outcome(world, released, monkeypatch, readings):
    monkeypatch.setenv("THREEPL_MAX_ROW_EXCEPTIONS", "2")  # problems kept: 8; 10 failing rows of 22 are not too wrong
    one = released["one"]
    bad = [f"WH/OUT/BAD,{i},FURN_7800,,two,EA,,{SHIPPED},,T,P1" for i in range(1, 11)]  # rows 2-11: unreadable quantity
    unknown = [f"WH/OUT/NONE,{i},FURN_7800,,1,EA,,{SHIPPED},,T,P1" for i in range(1, 12)]  # rows 12-22: no such order
    good = f"{one['name']},1,FURN_7800,,2,EA,,{SHIPPED},The Poste,TP1,P1"  # row 23
    drop(world, world.demo, "dispatches", "DISPATCH_MIXED.csv", dispatch_csv([*bad, *unknown, good]))
    [result] = run_dispatches(world, world.demo)
    assert readings == [8, None]  # the first reading counted more problems than it kept: read again, in full
    assert result.state == State.INPUT_PROCESSED and (result.rows, result.posted, result.exception) == (22, 1, 21)
    codes = {o.row_number: o.code for o in world.ledger.row_outcomes(result.exchange_id)}
    assert codes == {**{n: "DISPATCH_FIELD_INVALID" for n in range(2, 12)}, **{n: "DISPATCH_UNKNOWN_ORDER" for n in range(12, 23)}, 23: ""}


def test_a_snapshot_whose_problems_all_fit_is_read_once(world, released, monkeypatch, readings):
    from tests.flows.conftest import RUN_AT
    from threepl_bridge.flows.exchange import handle_file, list_files
    from threepl_bridge.flows.stock import STOCK

    monkeypatch.setenv("THREEPL_MAX_ROW_EXCEPTIONS", "10")
    lines = [f"FURN_7800,,{i},EA,ok,2026-11-20 01:10:00" for i in range(1)] + [f"NOPE{i},,1,EA,ok,2026-11-20 01:10:00" for i in range(9)]
    drop(world, world.demo, "stock", "STOCK_SMALL.csv", ("sku,lot,qty_on_hand,uom,status,snapshot_at\r\n" + "\r\n".join(lines) + "\r\n").encode())
    transport = world.transport(world.demo)
    [name] = list_files(world.demo, STOCK, transport, world.ledger)
    result = handle_file(STOCK, world.demo, name, transport=transport, ledger=world.ledger, client=world.odoo, now=RUN_AT,
                         options={"reports_dir": world.sftp_root.parent / "reports"})
    assert readings == [40] and result.state == State.INPUT_PROCESSED and result.rows == 10
    assert {o.code for o in world.ledger.row_outcomes(result.exchange_id)} == {"", "STOCK_UNKNOWN_SKU"}


def test_a_snapshot_larger_than_the_first_reading_keeps_is_read_again_and_reconciled(world, released, monkeypatch, readings):
    from tests.flows.conftest import RUN_AT
    from threepl_bridge.flows.exchange import handle_file, list_files
    from threepl_bridge.flows.stock import STOCK

    monkeypatch.setattr(exchange, "KEEP_FRAME_ROWS", 4)  # frame rows kept on the first reading
    monkeypatch.setenv("THREEPL_MAX_ROW_EXCEPTIONS", "10")
    lines = ["FURN_7800,,5,EA,ok,2026-11-20 01:10:00"] + [f"NOPE{i},,1,EA,ok,2026-11-20 01:10:00" for i in range(8)] + ["BAD,,x,EA,ok,2026-11-20 01:10:00"]
    drop(world, world.demo, "stock", "STOCK_TWICE.csv", ("sku,lot,qty_on_hand,uom,status,snapshot_at\r\n" + "\r\n".join(lines) + "\r\n").encode())
    transport = world.transport(world.demo)
    [name] = list_files(world.demo, STOCK, transport, world.ledger)
    result = handle_file(STOCK, world.demo, name, transport=transport, ledger=world.ledger, client=world.odoo, now=RUN_AT,
                         options={"reports_dir": world.sftp_root.parent / "reports"})
    assert readings == [40, None] and result.state == State.INPUT_PROCESSED and result.rows == 10
    assert result.reconciliation_id is not None
    codes = {o.row_number: o.code for o in world.ledger.row_outcomes(result.exchange_id)}
    assert codes[2] == "" and codes[11] == "STOCK_FIELD_INVALID" and {codes[n] for n in range(3, 11)} == {"STOCK_UNKNOWN_SKU"}
