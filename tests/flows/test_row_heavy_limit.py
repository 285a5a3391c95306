"""Issue 13 item 8, issue 14: a file over the size limit (``THREEPL_MAX_FILE_MB``, a safety valve) is refused up
front with a code, never downloaded. The default admits a 200 MB file: files are read and validated a chunk at a
time (benchmarks/row_heavy.py measures 1 / 10 / 50 / 200 MB), so their memory no longer grows with every row."""

from __future__ import annotations

from tests.flows.conftest import run_dispatches
from threepl_bridge.flows.inbox import DEFAULT_MAX_FILE_MB, max_file_bytes
from threepl_bridge.ledger.states import State


def test_the_default_limit_admits_200_mb(monkeypatch):
    monkeypatch.delenv("THREEPL_MAX_FILE_MB", raising=False)
    assert max_file_bytes() == DEFAULT_MAX_FILE_MB * 2**20 >= 200 * 2**20


def test_a_dispatch_file_over_the_default_size_limit_is_refused_up_front(world, monkeypatch):
    monkeypatch.delenv("THREEPL_MAX_FILE_MB", raising=False)
    inbox = world.sftp_root / "from_3pl" / "dispatch"
    inbox.mkdir(parents=True)
    with (inbox / "DISPATCH_HUGE.csv").open("wb") as f:  # sparse: on the listing, nothing on disk
        f.truncate((DEFAULT_MAX_FILE_MB + 1) * 2**20)
    (inbox / "DISPATCH_HUGE.csv.ok").write_bytes(b"")
    [huge] = run_dispatches(world, world.demo)
    assert huge.state == State.INPUT_ERROR and f"over the {DEFAULT_MAX_FILE_MB:.1f} MB limit (THREEPL_MAX_FILE_MB)" in huge.error
    assert not [path for path in world.sftp.reads if "DISPATCH_HUGE" in path]  # never downloaded
    assert "DISPATCH_FILE_UNREADABLE" in {c for codes in world.open_codes(world.demo).values() for c in codes}
