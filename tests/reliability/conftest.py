"""The reliability tests' world: the flow tests' world (stand-in Odoo, embedded SFTP server, a ledger) on either
ledger backend, and real worker processes (:mod:`tests.reliability.worker`) that can be SIGKILLed at a step."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.flows.conftest import released, world as flows_world  # the flows' fixtures, reused
from threepl_bridge.ledger.repo import Ledger

__all__ = ["flows_world", "released", "world"]  # fixtures


@pytest.fixture
def world(flows_world, ledger_url):  # noqa: F811
    """The flow world with its ledger on SQLite and on PostgreSQL."""
    flows_world.ledger = Ledger.open(ledger_url)
    flows_world.ledger_url = ledger_url
    return flows_world


@dataclass
class Run:
    returncode: int
    results: list[dict]
    stderr: str

    @property
    def killed(self) -> bool:
        return self.returncode == -9


def worker_env(world) -> dict[str, str]:
    env = dict(os.environ)
    env.update(PARTNER_YAML=str(world.demo.source), ODOO_URL=world.odoo.settings.url, THREEPL_LEDGER_URL=world.ledger_url,
               PYTHONPATH=f"{REPO / 'plugins'}:{REPO}")
    return env


class WarmParent:
    """``python -m tests.reliability.worker --serve``: forks the workers from a process that has imported them
    already (each is still a real process of its own, SIGKILLed for real). ``start`` uses it while one is running
    (:func:`warm_workers`), else it starts a fresh interpreter per worker."""

    current: "WarmParent | None" = None

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        env = {**os.environ, "PYTHONPATH": f"{REPO / 'plugins'}:{REPO}"}
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.reliability.worker", "--serve"], cwd=REPO, env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.count = 0

    def ask(self, request: dict) -> dict:
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        assert line, f"the warm parent died (rc {self.proc.poll()})"
        return json.loads(line)

    def close(self) -> None:
        assert self.proc.stdin
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


class Forked:
    """A worker forked by the :class:`WarmParent`, with Popen's ``communicate`` and ``returncode``."""

    def __init__(self, parent: WarmParent, argv: list[str], env: dict[str, str]) -> None:
        parent.count += 1
        self.parent = parent
        self.out, self.err = parent.folder / f"worker-{parent.count}.out", parent.folder / f"worker-{parent.count}.err"
        self.pid = parent.ask({"op": "start", "argv": argv, "env": env, "out": str(self.out), "err": str(self.err)})["pid"]
        self.returncode: int | None = None

    def communicate(self, timeout: float | None = None) -> tuple[str, str]:
        answer = self.parent.ask({"op": "wait", "pid": self.pid, "timeout": timeout or 240})
        self.returncode = answer["returncode"]
        if answer.get("timed_out"):
            raise subprocess.TimeoutExpired(f"worker {self.pid}", timeout or 240, output=self.out.read_text(), stderr=self.err.read_text())
        return self.out.read_text(), self.err.read_text()


@contextmanager
def warm_workers(folder: Path) -> Iterator[WarmParent]:
    parent = WarmParent(folder)
    WarmParent.current = parent
    try:
        yield parent
    finally:
        WarmParent.current = None
        parent.close()


def start(world, kind: str, *names: str, kill_at: tuple[str, ...] = ()) -> subprocess.Popen | Forked:
    argv = [kind, *names, *[f"--kill-at={k}" for k in kill_at]]
    if WarmParent.current is not None:
        return Forked(WarmParent.current, argv, worker_env(world))
    args = [sys.executable, "-m", "tests.reliability.worker", *argv]
    return subprocess.Popen(args, cwd=REPO, env=worker_env(world), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen | Forked, timeout: float = 240) -> Run:
    out, err = proc.communicate(timeout=timeout)
    results = json.loads(out.strip().splitlines()[-1]) if proc.returncode == 0 and out.strip() else []
    return Run(returncode=proc.returncode, results=results, stderr=err[-4000:])


def run_worker(world, kind: str, *names: str, kill_at: tuple[str, ...] = ()) -> Run:
    return finish(start(world, kind, *names, kill_at=kill_at))
