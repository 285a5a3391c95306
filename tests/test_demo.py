"""The README's demo command works end to end, and a second run doubles nothing (real DAG runs; ~2 min)."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import REPO


def test_demo_runs_the_whole_loop_twice_without_doubling(tmp_path):
    env = {**os.environ, "THREEPL_DEMO_DIR": str(tmp_path / "demo"), "AIRFLOW_HOME": str(tmp_path / "airflow"),
           "PYTHONPATH": os.pathsep.join([str(REPO / "plugins"), str(REPO)]), "CI": "true"}
    env.pop("THREEPL_LEDGER_URL", None)
    first = subprocess.run([sys.executable, "-m", "sandbox.demo", "--no-ui"], cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-4000:]
    out = first.stdout
    for expected in ("Orders released to the 3PL: 7", "Shipped and posted in Odoo: 4", "ORDER_ADDRESS_INCOMPLETE", "ORDER_UOM_MISMATCH",
                     "DISPATCH_SKU_NOT_ON_PICKING", "DISPATCH_PENDING_AT_3PL", "timing 2", "variance 1", "Month-end verdict", "DEMO OK"):
        assert expected in out, expected
    second = subprocess.run([sys.executable, "-m", "sandbox.demo", "--no-ui"], cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert second.returncode == 0, second.stdout[-4000:]
    assert "Second run: nothing new, nothing doubled" in second.stdout
