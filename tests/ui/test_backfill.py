"""`airflow backfill create` executed by a running scheduler (airflow standalone on PostgreSQL, not `dags test`):
three past months of month end write the three months' reports, and a backfill of the stock DAG leaves the file
waiting in the live inbox alone (it rebuilds its interval's reports from the ledger instead)."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from tests.ui.live import PARTNER, live_world
from threepl_bridge.ledger.models import Exchange


def backfill(world, dag_id: str, start: str, end: str) -> None:
    done = subprocess.run([sys.executable, "-m", "airflow", "backfill", "create", "--dag-id", dag_id, "--from-date", start, "--to-date", end],
                          env=world.airflow.env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]


def backfill_runs(world, dag_id: str, timeout: float = 400) -> list[dict]:
    """The runs of the DAG's backfill, once the scheduler says the backfill is complete."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        [job] = world.airflow.request("GET", f"/api/v2/backfills?dag_id={dag_id}")["backfills"]
        runs = world.airflow.request("GET", f"/api/v2/dags/{dag_id}/dagRuns?run_type=backfill&limit=50")["dag_runs"]
        if job["completed_at"] and all(r["state"] in ("success", "failed") for r in runs):
            return sorted(runs, key=lambda r: r["logical_date"])
        time.sleep(3)
    raise AssertionError(f"{dag_id}: backfill not complete in {timeout} s: {[(r['dag_run_id'], r['state']) for r in runs]}")


def test_a_backfill_of_three_months_reports_each_month_and_touches_no_inbox_file(tmp_path):
    stock_dag = f"{PARTNER}_stock_from_3pl"
    with live_world(tmp_path, schedules={"stock_from_3pl": "0 6 * * *"}, unpause=False) as world:
        af = world.airflow
        inbox = world.sftp_root / "from_3pl" / "stock"
        inbox.mkdir(parents=True, exist_ok=True)
        af.unpause(stock_dag, "month_end_valuation")
        # unpaused, each DAG gets its latest scheduled run (the live one); only then a file arrives in the inbox
        for dag_id in (stock_dag, "month_end_valuation"):
            deadline = time.monotonic() + 300
            while not (runs := af.request("GET", f"/api/v2/dags/{dag_id}/dagRuns?run_type=scheduled")["dag_runs"]) or \
                    runs[0]["state"] not in ("success", "failed"):
                assert time.monotonic() < deadline, f"{dag_id}: no finished scheduled run: {runs}"
                time.sleep(2)
        waiting = inbox / "STOCK_LIVE.csv"
        waiting.write_bytes(b"sku,lot,qty_on_hand,uom,status,snapshot_at\r\nFURN_7800,,1,EA,available,2026-10-31 06:00:00\r\n")
        before = (waiting.read_bytes(), waiting.stat().st_mtime_ns)

        backfill(world, "month_end_valuation", "2026-08-01", "2026-10-31")
        today = datetime.now(timezone.utc).date()
        backfill(world, stock_dag, (today - timedelta(days=4)).isoformat(), (today - timedelta(days=2)).isoformat())
        months = backfill_runs(world, "month_end_valuation")
        days = backfill_runs(world, stock_dag)
        states = {r["dag_run_id"]: af.task_states(r["dag_id"], r["dag_run_id"]) for r in months + days}
        with world.ledger().session() as s:
            inbound = list(s.scalars(select(Exchange.remote_name).where(Exchange.direction == "inbound")))
    reports = sorted(p.name for p in (world.reports / PARTNER).glob("month_end_2026-*.csv"))
    # the three backfilled months, and November from the live scheduled run of 1 December
    assert [r["data_interval_start"][:10] for r in months] == ["2026-08-01", "2026-09-01", "2026-10-01"]
    assert {"month_end_2026-08.csv", "month_end_2026-09.csv", "month_end_2026-10.csv"} <= set(reports), reports
    assert all(s.get("month_end_report[0]") == "success" for r, s in states.items() if "month_end_report[0]" in s), states
    assert len(days) >= 2  # the daily intervals between the two dates
    for run in days:  # the stock backfill runs listed no file: the inbox is the live run's
        assert states[run["dag_run_id"]]["list_files"] == "success"
        assert "reconcile_file" not in states[run["dag_run_id"]] or states[run["dag_run_id"]]["reconcile_file"] == "skipped"
    assert (waiting.read_bytes(), waiting.stat().st_mtime_ns) == before
    assert sorted(p.name for p in inbox.iterdir()) == ["STOCK_LIVE.csv"]
    assert inbound == []  # the ledger never registered it
