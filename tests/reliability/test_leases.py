"""Leases on both ledger backends: one holder at a time, across real processes, and a killed holder's lease is free."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import REPO
from threepl_bridge.ledger.leases import LeaseBusy
from threepl_bridge.ledger.repo import Ledger

HOLDER = """
import sys, time
from threepl_bridge.ledger.repo import Ledger
ledger = Ledger.open(sys.argv[1])
with ledger.lease(sys.argv[2]) as got:
    print("held" if got else "busy", flush=True)
    time.sleep(120)
"""


def hold_in_child(url: str, key: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, url, key], cwd=REPO, stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": f"{REPO / 'plugins'}:{REPO}"})
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_a_lease_held_by_another_process_is_refused_or_waited_for_and_freed_when_its_holder_is_killed(ledger_url):
    ledger = Ledger.open(ledger_url)
    child = hold_in_child(ledger_url, "file:demo3pl:dispatches:/in/A.csv")
    try:
        with ledger.lease("file:demo3pl:dispatches:/in/A.csv") as got:
            assert got is False  # skip: the holder does the work
        with ledger.lease("file:demo3pl:dispatches:/in/B.csv") as got:
            assert got is True  # another file is free
        started = time.monotonic()
        with pytest.raises(LeaseBusy, match="being worked on by another run"):
            with ledger.lease("file:demo3pl:dispatches:/in/A.csv", wait=0.5):
                pass
        assert time.monotonic() - started >= 0.5
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    with ledger.lease("file:demo3pl:dispatches:/in/A.csv", wait=10) as got:  # SIGKILL released it
        assert got is True


def test_many_keys_share_a_bounded_number_of_leases_and_overlapping_sets_do_not_deadlock(ledger_url):
    import threading

    ledger = Ledger.open(ledger_url)
    keys = [f"picking:demo3pl:WH/OUT/{n:05d}" for n in range(5000)]
    with ledger.leases(keys, wait=1):  # 5,000 orders: at most 64 leases, one connection on PostgreSQL
        pass
    order: list[str] = []

    def take(name: str, subset: list[str]) -> None:
        with ledger.leases(subset, wait=30):
            order.append(name)
            time.sleep(0.2)

    a = threading.Thread(target=take, args=("a", keys[:3000]))
    b = threading.Thread(target=take, args=("b", list(reversed(keys[2000:]))))
    a.start(), b.start()
    a.join(40), b.join(40)
    assert sorted(order) == ["a", "b"]  # both finished: sorted acquisition, no deadlock
