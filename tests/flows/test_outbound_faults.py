"""Outbound exactly-once under kills and real dropped SFTP connections (issue 13, item 6 and the transport
part of the fault matrix): after any interruption and a retry, the 3PL has received each file exactly once, with
its marker, no temporary file is left in its folder, and the ledger says sent exactly once."""

from __future__ import annotations

import os
from datetime import datetime, timezone

import pytest

from sandbox.sftp_server import EmbeddedSftpServer
from tests.conftest import REPO
from threepl_bridge.flows.outbound import deliver_pending, stage_file
from threepl_bridge.ledger.repo import Ledger
from threepl_bridge.ledger.states import State
from threepl_bridge.specs.loader import load_partner
from threepl_bridge.specs.models import Partner
from threepl_bridge.transport.sftp import SftpTransport

WHEN = datetime(2026, 11, 20, 9, 30, tzinfo=timezone.utc)
SMALL = b"sku,name\r\nFURN_7800,Desk\r\n"
BIG = b"sku,name\r\n" + b"".join(b"FURN_%06d,Desk number %06d\r\n" % (i, i) for i in range(40_000))  # > 3 write chunks
FOLDER = "/to_3pl/items"


@pytest.fixture
def server(tmp_path, monkeypatch):
    with EmbeddedSftpServer(tmp_path / "sftp") as srv:
        monkeypatch.setenv("AIRFLOW_CONN_FAULTS_SFTP", srv.airflow_connection())
        yield srv


def partner(complete: dict) -> Partner:
    demo = load_partner(REPO / "sftp_formats" / "partners" / "demo3pl.yaml")
    data = demo.spec.model_dump()
    data["sftp"]["conn_id"] = "faults_sftp"
    data["documents"]["products"].update(folder=FOLDER, complete=complete)
    return Partner(spec=type(demo.spec).model_validate(data), layouts=demo.layouts, source=demo.source)


class ThreePL:
    """The partner's side: takes (downloads and deletes) every file that is complete by its rule."""

    def __init__(self, server: EmbeddedSftpServer, marker: str | None) -> None:
        self.folder = server.root / FOLDER.lstrip("/")
        self.marker = marker
        self.taken: list[bytes] = []

    def names(self) -> list[str]:
        return sorted(os.listdir(self.folder)) if self.folder.exists() else []

    def take(self) -> None:
        for name in self.names():
            if name.startswith(".") or (self.marker and name.endswith(self.marker)):
                continue
            if self.marker and not (self.folder / f"{name}{self.marker}").exists():
                continue
            self.taken.append((self.folder / name).read_bytes())
            (self.folder / name).unlink()
            if self.marker:
                (self.folder / f"{name}{self.marker}").unlink()


def setup(tmp_path, data: bytes, complete: dict, url: str | None = None) -> tuple[Ledger, Partner, int]:
    ledger = Ledger.open(url or f"sqlite:///{tmp_path / 'ledger.db'}")
    p = partner(complete)
    doc = p.document("products")
    eid = stage_file(ledger, partner=p.code, kind="products", folder=doc.folder, template=doc.name_template or "", when=WHEN,
                     data=data, products=[])
    return ledger, p, eid


def sent_events(ledger: Ledger, eid: int) -> list:
    return [e for e in ledger.events(eid) if e.to_state == State.OUTPUT_SENT]


def test_killed_after_the_upload_with_the_file_taken_before_the_retry_it_is_not_sent_again(server, tmp_path, monkeypatch, ledger_url):
    """Issue 13.6: the worker dies after the rename and before mark_sent; the 3PL takes the file before the retry."""
    ledger, p, eid = setup(tmp_path, SMALL, {"rule": "rename"}, ledger_url)
    three_pl = ThreePL(server, marker=None)

    def killed(*args, **kwargs):
        raise SystemExit("worker killed after the upload, before the ledger commit")

    with monkeypatch.context() as patch, pytest.raises(SystemExit):
        patch.setattr(Ledger, "mark_sent", killed)
        deliver_pending(ledger, SftpTransport("faults_sftp"), p, "products")
    three_pl.take()
    assert three_pl.taken == [SMALL]
    [delivery] = deliver_pending(ledger, SftpTransport("faults_sftp"), p, "products")
    three_pl.take()
    assert three_pl.taken == [SMALL]  # not a second copy
    assert three_pl.names() == []
    assert (delivery.outcome, ledger.exchange(eid).state) == ("taken_by_partner", State.OUTPUT_SENT)
    assert "not uploaded again" in sent_events(ledger, eid)[0].note


def test_killed_mid_upload_the_partial_temporary_file_is_replaced_never_renamed(server, tmp_path):
    """Issue 13.6: a drop in the middle of the upload leaves a partial ``.part``; the retry does not publish it and
    leaves no temporary file behind."""
    ledger, p, eid = setup(tmp_path, BIG, {"rule": "marker"})
    three_pl = ThreePL(server, marker=".ok")
    server.drop_on("write", nth=2)
    with pytest.raises(Exception):
        deliver_pending(ledger, SftpTransport("faults_sftp"), p, "products")
    [part] = three_pl.names()
    assert part.endswith(".part") and (three_pl.folder / part).stat().st_size < len(BIG)
    deliver_pending(ledger, SftpTransport("faults_sftp"), p, "products")
    name = ledger.exchange(eid).remote_name
    assert three_pl.names() == [name, f"{name}.ok"]
    three_pl.take()
    assert three_pl.taken == [BIG]


def test_a_complete_temporary_file_left_by_a_killed_worker_is_published_not_uploaded_again(server, tmp_path, monkeypatch):
    ledger, p, eid = setup(tmp_path, BIG, {"rule": "rename"})
    server.drop_on("rename")
    with pytest.raises(Exception):
        deliver_pending(ledger, SftpTransport("faults_sftp"), p, "products")
    writes_before = server.faults[0].seen
    server.drop_on("put", nth=1000)  # only counts the opens for writing from here on
    [delivery] = deliver_pending(ledger, SftpTransport("faults_sftp"), p, "products")
    assert delivery.outcome == "completed_part" and server.faults[1].seen == 0 and writes_before == 1
    assert ThreePL(server, None).names() == [ledger.exchange(eid).remote_name]


STEPS = [
    ("list", 1), ("stat", 1), ("stat", 2), ("stat", 3), ("put", 1), ("write", 1), ("write", 3), ("close", 1), ("rename", 1),
    ("put", 2), ("close", 2), ("rename", 2), ("mkdir", 1),
]


@pytest.mark.parametrize("after", [False, True], ids=["dropped-before", "dropped-after"])
@pytest.mark.parametrize("op,nth", STEPS, ids=[f"{op}{nth}" for op, nth in STEPS])
@pytest.mark.parametrize("rule", ["marker", "rename"])
def test_a_dropped_connection_at_any_step_then_a_retry_delivers_exactly_once(server, tmp_path, op, nth, after, rule):
    """The SFTP fault matrix of the outbound side: drop at every step (list, stat, upload, rename, marker), with
    the 3PL taking whatever is complete between the attempts."""
    complete = {"rule": "marker", "marker_suffix": ".ok"} if rule == "marker" else {"rule": "rename"}
    ledger, p, eid = setup(tmp_path, BIG, complete)
    three_pl = ThreePL(server, marker=".ok" if rule == "marker" else None)
    fault = server.drop_on(op, nth=nth, after=after)
    try:
        deliver_pending(ledger, SftpTransport("faults_sftp"), p, "products")
    except Exception:  # noqa: BLE001 - a dropped connection, whatever the client makes of it
        assert fault.fired
    three_pl.take()
    server.clear_faults()
    for _ in range(2):  # the retry, then a later run that must find nothing to do
        deliver_pending(ledger, SftpTransport("faults_sftp"), p, "products")
    three_pl.take()
    assert three_pl.taken == [BIG]
    assert three_pl.names() == []  # no copy, no orphaned marker, no temporary file
    assert ledger.exchange(eid).state == State.OUTPUT_SENT and len(sent_events(ledger, eid)) == 1


@pytest.mark.parametrize("after", [False, True], ids=["dropped-before", "dropped-after"])
@pytest.mark.parametrize("op,nth", STEPS, ids=[f"{op}{nth}" for op, nth in STEPS])
def test_a_dropped_connection_with_the_3pl_away_leaves_one_copy_with_its_marker(server, tmp_path, op, nth, after):
    ledger, p, eid = setup(tmp_path, BIG, {"rule": "marker", "marker_suffix": ".ok"})
    fault = server.drop_on(op, nth=nth, after=after)
    try:
        deliver_pending(ledger, SftpTransport("faults_sftp"), p, "products")
    except Exception:  # noqa: BLE001
        assert fault.fired
    server.clear_faults()
    deliver_pending(ledger, SftpTransport("faults_sftp"), p, "products")
    name = ledger.exchange(eid).remote_name
    three_pl = ThreePL(server, ".ok")
    assert three_pl.names() == [name, f"{name}.ok"]
    assert (three_pl.folder / name).read_bytes() == BIG
    assert ledger.exchange(eid).state == State.OUTPUT_SENT and len(sent_events(ledger, eid)) == 1


def test_an_operators_replay_uploads_again_even_after_an_earlier_publication(server, tmp_path):
    """Steps count from the latest entry into output_pending: a replay (output_error -> output_pending) is a new
    delivery, not the continuation of the one that published the file."""
    ledger, p, eid = setup(tmp_path, SMALL, {"rule": "rename"})
    assert ledger.journal_step(eid, "publishing", detail="x") is True
    assert ledger.journal_step(eid, "publishing", detail="x") is False  # once per delivery
    assert ledger.journalled_steps(eid) == {"publishing"}
    ledger.transition(eid, State.OUTPUT_ERROR, error="the partner lost the file; sending it again")
    ledger.transition(eid, State.OUTPUT_PENDING)
    assert ledger.journalled_steps(eid) == set()
    [delivery] = deliver_pending(ledger, SftpTransport("faults_sftp"), p, "products")
    assert delivery.outcome == "uploaded"
    assert (ThreePL(server, None).folder / ledger.exchange(eid).remote_name).read_bytes() == SMALL


def test_temporary_files_of_older_attempts_are_removed_and_other_files_kept(server, tmp_path):
    ledger, p, eid = setup(tmp_path, SMALL, {"rule": "marker", "marker_suffix": ".ok"})
    name = ledger.exchange(eid).remote_name
    folder = server.root / FOLDER.lstrip("/")
    folder.mkdir(parents=True)
    left = [f".{name}.0123456789ab.part", f".{name}.ok.ba9876543210.part", f".{name}.{eid}.part"]  # random (older code), ours
    others = [f".{name}.{eid + 1}.part", f".OTHER.csv.{eid}.part", "OTHER.csv"]  # another exchange's, another file's
    for n in left + others:
        (folder / n).write_bytes(b"half")
    deliver_pending(ledger, SftpTransport("faults_sftp"), p, "products")
    assert sorted(os.listdir(folder)) == sorted([name, f"{name}.ok", *others])
