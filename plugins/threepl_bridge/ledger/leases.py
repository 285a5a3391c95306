"""Leases: so two runs or two workers never work the same file or the same picking at once.

A lease is held by a process for as long as it works on one thing (a file, a picking) and is released when it is
done, or when the process dies, whatever kills it:

- on PostgreSQL it is a session-level advisory lock (``pg_try_advisory_lock``, the row-lock equivalent that needs
  no row) on a connection of its own: the server drops it when the connection ends;
- on a SQLite file it is an ``flock`` on a lock file beside the database: the kernel drops it when the process
  ends (SQLite ledgers serve one machine);
- on an in-memory SQLite database (tests), an in-process lock.

The loser of a race either skips (``wait=0``: the holder will finish the work) or waits up to ``wait`` seconds and
then raises :class:`LeaseBusy`, a transient error the task's retries settle. It never fails the rows.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from threepl_bridge.ledger.base import _Base

_LOCAL: dict[str, threading.Lock] = {}
_LOCAL_GUARD = threading.Lock()
POLL = 0.05


class LeaseBusy(RuntimeError):
    """Another run holds the lease for longer than this one may wait: retry later."""

    retryable = True

    def __init__(self, key: str, waited: float) -> None:
        super().__init__(f"{key} is being worked on by another run (waited {waited:.0f} s); retry later")
        self.key = key


def _bucket(key: str, buckets: int) -> str:
    scope, _, item = key.rpartition(":")
    return f"{scope}:#{int(hashlib.sha256(item.encode()).hexdigest()[:8], 16) % buckets}"


def _pg_key(key: str) -> int:
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)


class Leases(_Base):
    @contextmanager
    def lease(self, key: str, *, wait: float = 0.0) -> Iterator[bool]:
        """Hold the lease ``key`` inside the block; yields False (and holds nothing) when another holder has it
        and ``wait`` is 0, raises :class:`LeaseBusy` when ``wait`` seconds pass without it."""
        backend = self.engine.url.get_backend_name()
        if backend == "postgresql":
            holder = self._pg_one(key, wait)
        elif backend == "sqlite" and self.engine.url.database not in (None, "", ":memory:"):
            holder = self._flock(key, wait)
        else:
            holder = self._local(key, wait)
        with holder as got:
            yield got

    @contextmanager
    def leases(self, keys: list[str], *, wait: float, buckets: int = 64) -> Iterator[None]:
        """Hold a lease covering every key of ``keys``. Keys are spread over at most ``buckets`` leases per scope
        (the key up to its last ``:``), so a file naming ten thousand orders holds 64 leases, not ten thousand
        (two runs whose keys share a bucket wait for each other: never wrong, only slower). Taken in sorted order,
        so two holders of overlapping sets never deadlock; on PostgreSQL on one connection."""
        wanted = sorted({_bucket(k, buckets) for k in keys})
        if not wanted:
            yield
            return
        if self.engine.url.get_backend_name() == "postgresql":
            with self._pg(wanted, wait) as busy:
                if busy is not None:
                    raise LeaseBusy(busy, 0)
                yield
            return
        with ExitStack() as stack:
            for key in wanted:
                if not stack.enter_context(self.lease(key, wait=wait)):
                    raise LeaseBusy(key, 0)
            yield

    @staticmethod
    def _acquire(try_once, key: str, wait: float) -> bool:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + wait
        while True:
            if try_once():
                return True
            if wait <= 0:
                return False
            if time.monotonic() >= deadline:
                raise LeaseBusy(key, wait)
            time.sleep(POLL)

    @contextmanager
    def _pg(self, keys: list[str], wait: float) -> Iterator[str | None]:
        """Every lease of ``keys`` on one connection of its own (the server drops them with it). Yields None when all
        are held, else the key that is taken (``wait`` 0), holding none of them."""
        with self.engine.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            held: list[int] = []

            def release() -> None:
                while held:
                    conn.exec_driver_sql("SELECT pg_advisory_unlock(%(k)s)", {"k": held.pop()})

            busy = None
            try:
                for key in keys:
                    number = _pg_key(key)
                    if not self._acquire(lambda: bool(conn.exec_driver_sql("SELECT pg_try_advisory_lock(%(k)s)", {"k": number}).scalar()),
                                         key, wait):
                        busy = key
                        release()
                        break
                    held.append(number)
                yield busy
            finally:
                release()

    @contextmanager
    def _pg_one(self, key: str, wait: float) -> Iterator[bool]:
        with self._pg([key], wait) as busy:
            yield busy is None

    @contextmanager
    def _flock(self, key: str, wait: float) -> Iterator[bool]:
        folder = Path(f"{self.engine.url.database}.leases")
        folder.mkdir(exist_ok=True)
        path = folder / (hashlib.sha256(key.encode()).hexdigest()[:32] + ".lock")
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            def try_once() -> bool:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return True
                except BlockingIOError:
                    return False

            # flock is per open file: two threads of one process with their own fd exclude each other as well
            got = self._acquire(try_once, key, wait)
            try:
                yield got
            finally:
                if got:
                    fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    @contextmanager
    def _local(self, key: str, wait: float) -> Iterator[bool]:
        with _LOCAL_GUARD:
            lock = _LOCAL.setdefault(f"{id(self.engine)}:{key}", threading.Lock())
        got = self._acquire(lambda: lock.acquire(blocking=False), key, wait)
        try:
            yield got
        finally:
            if got:
                lock.release()
