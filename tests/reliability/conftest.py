"""The reliability tests' world: the flow tests' world (stand-in Odoo, embedded SFTP server, a ledger) on either
ledger backend, and real worker processes (:mod:`tests.reliability.worker`) that can be SIGKILLed at a step."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass

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


def start(world, kind: str, *names: str, kill_at: tuple[str, ...] = ()) -> subprocess.Popen:
    args = [sys.executable, "-m", "tests.reliability.worker", kind, *names, *[f"--kill-at={k}" for k in kill_at]]
    return subprocess.Popen(args, cwd=REPO, env=worker_env(world), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen, timeout: float = 240) -> Run:
    out, err = proc.communicate(timeout=timeout)
    results = json.loads(out.strip().splitlines()[-1]) if proc.returncode == 0 and out.strip() else []
    return Run(returncode=proc.returncode, results=results, stderr=err[-4000:])


def run_worker(world, kind: str, *names: str, kill_at: tuple[str, ...] = ()) -> Run:
    return finish(start(world, kind, *names, kill_at=kill_at))
