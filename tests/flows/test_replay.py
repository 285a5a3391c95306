"""The replay model (issue 13, defect 3): a file's identity is its name and content, its earlier arrivals' outcomes
decide what a new arrival means. Also the lifecycle's guards: a file over the size limit, a file gone between the
listing and the read, a marker left behind by an interrupted move, a reader that crashes on a value."""

from __future__ import annotations

import shutil

import pytest

from tests.flows.conftest import RUN_AT, dispatch_csv, drop, run_dispatches, run_stock, stock_csv
from tests.flows.test_dispatches import outcomes, picking
from threepl_bridge.ledger.states import State
from threepl_bridge.odoo.client import OdooClient, OdooSettings


def admin(world) -> OdooClient:
    return OdooClient(OdooSettings(url=world.odoo.settings.url, database="odoo3pl", login="admin", password="admin"))


def layers(world) -> int:
    return world.x("stock.valuation.layer", "search_count", [])


def test_a_file_refused_for_a_locked_period_posts_when_dropped_again_after_the_period_is_reopened(world, released):
    one, two = released["one"], released["two"]
    admin(world).execute("res.company", "write", [1], {"period_lock_date": "2026-10-31"})
    body = dispatch_csv([
        f"{one['name']},1,FURN_7800,,2,EA,,2026-11-02 10:00:00,The Poste,TP1,P1",
        f"{two['name']},1,FURN_8855,,10,EA,,2026-10-30 10:00:00,Standard delivery,SD1,P2",
        f"{two['name']},2,E-COM11,,4,EA,,2026-10-30 10:00:00,Standard delivery,SD1,P2",
    ])
    drop(world, world.demo, "dispatches", "DISPATCH_L.csv", body)
    [first] = run_dispatches(world, world.demo)
    assert outcomes(world, first) == {2: ("posted", ""), 3: ("exception", "DISPATCH_LOCKED_PERIOD"), 4: ("exception", "DISPATCH_LOCKED_PERIOD")}
    after_first = layers(world)

    admin(world).execute("res.company", "write", [1], {"period_lock_date": False})  # finance reopens October
    drop(world, world.demo, "dispatches", "DISPATCH_L.csv", body)  # "fix it and drop it again"
    [replay] = run_dispatches(world, world.demo)
    assert replay.exchange_id != first.exchange_id and replay.state == State.INPUT_PROCESSED
    assert outcomes(world, replay) == {2: ("duplicate", ""), 3: ("posted", ""), 4: ("posted", "")}
    assert picking(world, two["id"])["state"] == "done" and picking(world, one["id"])["state"] == "done"
    assert layers(world) == after_first + 2  # the two October lines, once; the November one is not posted again
    assert "replay of exchange" in (world.ledger.events(replay.exchange_id)[0].note or "")

    drop(world, world.demo, "dispatches", "DISPATCH_L2.csv", body)  # and once more, under another name
    [again] = run_dispatches(world, world.demo)
    assert again.state == State.INPUT_DUPLICATE and again.duplicate_of == replay.exchange_id
    assert layers(world) == after_first + 2


def test_an_unreadable_file_is_replayed_on_request_after_the_layout_is_fixed(world, released, tmp_path):
    one = released["one"]
    # the 3PL renamed a column: the shipped partner cannot read the file
    body = dispatch_csv([f"{one['name']},1,FURN_7800,,2,EA,,2026-11-02 10:00:00,The Poste,TP1,P1"]).replace(b"qty_shipped", b"qty_sent")
    drop(world, world.demo, "dispatches", "DISPATCH_R.csv", body)
    [bad] = run_dispatches(world, world.demo)
    assert bad.state == State.INPUT_ERROR and bad.moved_to == "/error/DISPATCH_R.csv"
    assert world.ledger.exchange(bad.exchange_id).moved_to == "/error/DISPATCH_R.csv"
    [quarantined] = [e for e in world.ledger.find_exceptions(partner="demo3pl") if e.object_type == "file"]
    assert quarantined.object_ref == f"DISPATCH_R.csv#{bad.exchange_id}"

    # the layout is fixed (here: the 3PL sends the agreed header again, same rows) and the operator asks for a replay
    # of the quarantined file itself: the same bytes come back, a new arrival, and a replay because the first was unreadable
    fixed = body.replace(b"qty_sent", b"qty_shipped")
    (world.sftp_root / "error" / "DISPATCH_R.csv").write_bytes(fixed)  # the operator corrected the quarantined copy
    from threepl_bridge.flows.inbox import request_replay

    world.ledger.set_moved(bad.exchange_id, "/error/DISPATCH_R.csv")
    path = request_replay(world.demo, bad.exchange_id, transport=world.transport(world.demo), ledger=world.ledger)
    assert path == "/from_3pl/dispatch/DISPATCH_R.csv"
    [good] = run_dispatches(world, world.demo)
    assert good.state == State.INPUT_PROCESSED and good.posted == 1
    assert picking(world, one["id"])["state"] == "done"
    # the quarantined arrival's exception lost its cause: resolved by the pipeline, saying how
    [done] = world.ledger.find_exceptions(exception_id=quarantined.id, status=None)
    assert (done.status, done.resolved_by) == ("resolved", "threepl-bridge")
    assert done.resolution == f"the file was read and processed again as exchange {good.exchange_id}"


def test_the_same_unreadable_bytes_dropped_again_are_read_again_not_a_duplicate(world, released, monkeypatch):
    one = released["one"]
    body = dispatch_csv([f"{one['name']},1,FURN_7800,,2,EA,,2026-11-02 10:00:00,The Poste,TP1,P1"])
    calls = {"n": 0}
    from threepl_bridge.flows import exchange as lifecycle

    real = lifecycle.iter_rows

    def crashing_once(*args, **kwargs):  # a reader defect on this file, fixed by the next release
        calls["n"] += 1
        if calls["n"] == 1:
            raise OverflowError("date value out of range")
        return real(*args, **kwargs)

    monkeypatch.setattr(lifecycle, "iter_rows", crashing_once)
    drop(world, world.demo, "dispatches", "DISPATCH_P.csv", body)
    drop(world, world.demo, "dispatches", "DISPATCH_Q.csv", dispatch_csv([
        f"{released['two']['name']},1,FURN_8855,,10,EA,,2026-11-02 10:00:00,Standard delivery,SD1,P2",
        f"{released['two']['name']},2,E-COM11,,4,EA,,2026-11-02 10:00:00,Standard delivery,SD1,P2"]))
    crashed, other = run_dispatches(world, world.demo)
    # the crash quarantines the file with a specific message; the other file of the run is processed normally
    assert crashed.state == State.INPUT_ERROR and "OverflowError: date value out of range" in crashed.error
    assert "defect of the bridge" in crashed.error and crashed.moved_to == "/error/DISPATCH_P.csv"
    assert other.state == State.INPUT_PROCESSED and other.posted == 2
    assert "DISPATCH_FILE_UNREADABLE" in world.open_codes(world.demo).get("file", set()) | {
        c for codes in world.open_codes(world.demo).values() for c in codes}
    drop(world, world.demo, "dispatches", "DISPATCH_P.csv", body)  # dropped again once the reader is fixed
    [replayed] = run_dispatches(world, world.demo)
    assert replayed.state == State.INPUT_PROCESSED and replayed.posted == 1


def test_a_stock_snapshot_dropped_again_is_a_duplicate_and_never_reconciled_twice(world):
    world.run_products(world.demo)
    body = stock_csv(["FURN_7800,,10,EA,available,2026-11-19 18:00:00"])
    drop(world, world.demo, "stock", "STOCK_1.csv", body)
    [first] = run_stock(world, world.demo)
    assert first.state == State.INPUT_PROCESSED and first.reconciliation_id
    drop(world, world.demo, "stock", "STOCK_1.csv", body)
    drop(world, world.demo, "stock", "STOCK_1_COPY.csv", body)
    again = run_stock(world, world.demo)
    assert [r.state for r in again] == [State.INPUT_DUPLICATE, State.INPUT_DUPLICATE]
    assert len(world.ledger.reconciliations(world.demo.code)) == 1


def test_a_file_over_the_size_limit_is_quarantined_unread_and_the_others_go_on(world, released, monkeypatch):
    one = released["one"]
    monkeypatch.setenv("THREEPL_MAX_FILE_MB", "0.001")  # 1 KB
    drop(world, world.demo, "dispatches", "DISPATCH_BIG.csv", dispatch_csv([f"{one['name']},1,FURN_7800,,2,EA,,2026-11-02 10:00:00,X,T,P"] * 40))
    drop(world, world.demo, "dispatches", "DISPATCH_SMALL.csv", dispatch_csv([f"{one['name']},1,FURN_7800,,2,EA,,2026-11-02 10:00:00,The Poste,TP1,P1"]))
    big, small = run_dispatches(world, world.demo)
    assert big.state == State.INPUT_ERROR and "DISPATCH_BIG.csv is 2.4 KB, over the 1.0 KB limit (THREEPL_MAX_FILE_MB)" in big.error
    assert big.moved_to == "/error/DISPATCH_BIG.csv" and (world.sftp_root / "error" / "DISPATCH_BIG.csv.ok").exists()
    assert small.state == State.INPUT_PROCESSED and small.posted == 1
    assert not [path for path in world.sftp.reads if "DISPATCH_BIG" in path]  # never downloaded
    assert run_dispatches(world, world.demo) == []  # nothing stays behind to fail every run


def test_a_file_gone_between_the_listing_and_the_read_is_settled_from_the_ledger(world, released):
    from threepl_bridge.flows.dispatches import DISPATCHES
    from threepl_bridge.flows.exchange import handle_file, list_files

    one = released["one"]
    drop(world, world.demo, "dispatches", "DISPATCH_G.csv", dispatch_csv([f"{one['name']},1,FURN_7800,,2,EA,,2026-11-02 10:00:00,The Poste,TP1,P1"]))
    transport = world.transport(world.demo)
    listed = list_files(world.demo, DISPATCHES, transport, world.ledger)
    [done] = run_dispatches(world, world.demo)  # another run takes it meanwhile
    [late] = [handle_file(DISPATCHES, world.demo, n, transport=transport, ledger=world.ledger, client=world.odoo, now=RUN_AT)
              for n in listed]
    assert late.exchange_id == done.exchange_id and late.state == State.INPUT_PROCESSED and late.posted == 1
    shutil.rmtree(world.sftp_root / "from_3pl" / "dispatch")
    (world.sftp_root / "from_3pl" / "dispatch").mkdir()
    gone = handle_file(DISPATCHES, world.demo, "DISPATCH_NEVER_SEEN.csv", transport=transport, ledger=world.ledger, client=world.odoo,
                       now=RUN_AT)
    assert gone.state == "gone" and gone.exchange_id == 0


def test_a_marker_left_behind_by_an_interrupted_move_follows_its_file(world, released):
    one = released["one"]
    drop(world, world.demo, "dispatches", "DISPATCH_M.csv", dispatch_csv([f"{one['name']},1,FURN_7800,,2,EA,,2026-11-02 10:00:00,The Poste,TP1,P1"]))
    [done] = run_dispatches(world, world.demo)
    assert done.moved_to == "/archive/DISPATCH_M.csv"
    inbox = world.sftp_root / "from_3pl" / "dispatch"
    # the connection dropped after the data file's move, before its marker's: the marker is back in the inbox
    shutil.move(world.sftp_root / "archive" / "DISPATCH_M.csv.ok", inbox / "DISPATCH_M.csv.ok")
    assert run_dispatches(world, world.demo) == []
    assert not (inbox / "DISPATCH_M.csv.ok").exists()
    assert sorted(p.name for p in (world.sftp_root / "archive").iterdir()) == ["DISPATCH_M.csv", "DISPATCH_M.csv.ok"]


@pytest.mark.parametrize("name", ["DISPATCH_\n1.csv", "DISPATCH_\\2.csv", "DISPATCH_\x1b3.csv"])
def test_a_file_whose_name_cannot_be_used_is_quarantined_once_and_fails_no_task(world, released, name):
    one = released["one"]
    inbox = world.sftp_root / "from_3pl" / "dispatch"
    inbox.mkdir(parents=True, exist_ok=True)
    body = dispatch_csv([f"{one['name']},1,FURN_7800,,2,EA,,2026-11-02 10:00:00,The Poste,TP1,P1"])
    (inbox / name).write_bytes(body)
    (inbox / f"{name}.ok").write_bytes(b"")
    drop(world, world.demo, "dispatches", "DISPATCH_OK.csv", body)
    [good] = run_dispatches(world, world.demo)  # the good file of the same run is processed
    assert good.name == "DISPATCH_OK.csv" and good.posted == 1
    assert sorted(p.name for p in inbox.iterdir()) == []
    quarantined = sorted(p.name for p in (world.sftp_root / "error").iterdir())
    assert len(quarantined) == 2 and all(n.startswith("DISPATCH__") for n in quarantined)  # data and marker, safe names
    exchanges = [e for e in world.ledger.unsettled_inbound(world.demo.code)]
    assert exchanges == []  # recorded as settled (input_error), never retried
    assert "DISPATCH_FILE_UNREADABLE" in {c for codes in world.open_codes(world.demo).values() for c in codes}
    assert run_dispatches(world, world.demo) == []
    (world.sftp_root / "from_3pl" / "stock").mkdir(parents=True, exist_ok=True)
    (inbox / name).write_bytes(body)  # the 3PL sends it again: the stock task's timing check lists the same folder
    (inbox / f"{name}.ok").write_bytes(b"")
    drop(world, world.demo, "stock", "STOCK_1.csv", stock_csv(["FURN_7800,,10,EA,available,2026-11-19 18:00:00"]))
    [stock] = run_stock(world, world.demo)
    assert stock.state == State.INPUT_PROCESSED


def test_a_dispatch_file_archived_while_the_stock_task_reads_it_does_not_fail_the_stock_task(world, released, monkeypatch):
    from threepl_bridge.transport.sftp import SftpTransport

    one = released["one"]
    drop(world, world.demo, "dispatches", "DISPATCH_T.csv", dispatch_csv([f"{one['name']},1,FURN_7800,,2,EA,,2026-11-02 10:00:00,The Poste,TP1,P1"]))
    drop(world, world.demo, "stock", "STOCK_T.csv", stock_csv(["FURN_7800,,10,EA,available,2026-11-19 18:00:00"]))
    real = SftpTransport.read_bytes
    taken = []

    def archived_meanwhile(self, path, **kwargs):
        if "DISPATCH_T" in path and not taken:  # the dispatch task archives it between our listing and our read
            taken.append(path)
            run_dispatches(world, world.demo)
        return real(self, path, **kwargs)

    monkeypatch.setattr(SftpTransport, "read_bytes", archived_meanwhile)
    [stock] = run_stock(world, world.demo)
    assert taken and stock.state == State.INPUT_PROCESSED
    assert picking(world, one["id"])["state"] == "done"


def test_a_file_with_mostly_failing_rows_beyond_the_limit_is_quarantined_whole(world, released, monkeypatch):
    one = released["one"]
    monkeypatch.setenv("THREEPL_MAX_ROW_EXCEPTIONS", "3")
    bad_rows = [f"{one['name']},{n},FURN_7800,,two,EA,,2026-11-02 10:00:00,X,T,P{n}" for n in range(1, 6)]
    drop(world, world.demo, "dispatches", "DISPATCH_MOSTLY_BAD.csv", dispatch_csv(bad_rows))
    drop(world, world.demo, "dispatches", "DISPATCH_FEW_BAD.csv", dispatch_csv(bad_rows[:2] + [
        f"{one['name']},9,FURN_7800,,2,EA,,2026-11-02 10:00:00,The Poste,TP1,P9"]))
    few, mostly = run_dispatches(world, world.demo)
    assert mostly.state == State.INPUT_ERROR and "5 of 5 rows cannot be taken" in mostly.error and mostly.moved_to.startswith("/error/")
    assert few.state == State.INPUT_PROCESSED and few.exception == 3 and few.posted == 0  # two bad rows hold the order
