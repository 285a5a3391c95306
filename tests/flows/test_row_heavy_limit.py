"""Issue 13 item 8: a file too large to finish within the task's memory is refused up front with a code, by
default (benchmarks/row_heavy.py measured ~100-150 MiB of peak memory per MB of a row-heavy file: a 200 MB file
would need 20-30 GiB), never downloaded."""

from __future__ import annotations

from tests.flows.conftest import run_dispatches
from threepl_bridge.ledger.states import State


def test_a_200_mb_dispatch_file_is_refused_up_front_by_the_default_size_limit(world, monkeypatch):
    monkeypatch.delenv("THREEPL_MAX_FILE_MB", raising=False)
    inbox = world.sftp_root / "from_3pl" / "dispatch"
    inbox.mkdir(parents=True)
    with (inbox / "DISPATCH_HUGE.csv").open("wb") as f:  # sparse: 200 MB on the listing, nothing on disk
        f.truncate(200 * 2**20)
    (inbox / "DISPATCH_HUGE.csv.ok").write_bytes(b"")
    [huge] = run_dispatches(world, world.demo)
    assert huge.state == State.INPUT_ERROR and "over the 64.0 MB limit (THREEPL_MAX_FILE_MB)" in huge.error
    assert not [path for path in world.sftp.reads if "DISPATCH_HUGE" in path]  # never downloaded
    assert "DISPATCH_FILE_UNREADABLE" in {c for codes in world.open_codes(world.demo).values() for c in codes}
