"""Every DAG loads with zero import errors and carries tags, retries and docs; parsing stays light."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import pytest

from tests.conftest import REPO, partner_copy

DAGS = REPO / "dags"
FLOWS_WITH_DAGS = ("products_to_3pl", "orders_to_3pl", "dispatches_from_3pl", "stock_from_3pl")


def load_dagbag():
    import airflow  # noqa: F401 - puts plugins/ on sys.path like the dag-processor does
    from airflow.dag_processing.dagbag import BundleDagBag

    return BundleDagBag(dag_folder=DAGS, bundle_path=DAGS)


def test_all_dags_load_without_import_errors():
    bag = load_dagbag()
    assert bag.import_errors == {}
    for flow in FLOWS_WITH_DAGS:
        assert f"demo3pl_{flow}" in bag.dags


def test_every_dag_has_tags_retries_docs_and_one_active_run():
    bag = load_dagbag()
    assert bag.dags
    for dag_id, dag in bag.dags.items():
        assert "threepl" in dag.tags, dag_id
        assert any(t.startswith("partner:") for t in dag.tags) or "month_end" in dag_id, dag_id
        assert dag.doc_md and len(dag.doc_md) > 80, f"{dag_id} needs doc_md an operator can read"
        assert dag.max_active_runs == 1, dag_id
        assert dag.catchup is False, dag_id
        for t in dag.tasks:
            if t.task_id == "needs_a_person":
                continue
            assert t.retries >= 1, f"{dag_id}.{t.task_id} has no retries"


def test_every_dag_can_be_triggered_with_an_empty_form():
    """A plain manual run: every param may be left empty (the UI disables Trigger while a non-null param is empty)."""
    bag = load_dagbag()
    for dag_id, dag in bag.dags.items():
        for name in dag.params:
            param = dag.params.get_param(name)
            if param.schema.get("type") == "boolean":
                continue  # a checkbox: never empty
            param.resolve(value=None)  # ParamValidationError when the param refuses an empty value


def test_schedules_come_from_the_partner_spec(tmp_path, monkeypatch):
    folder = tmp_path / "partners"
    folder.mkdir()
    text = partner_copy("acme")
    text = text.replace('stock_from_3pl: "0 6 * * *"', "stock_from_3pl: null")
    (folder / "acme.yaml").write_text(text)
    monkeypatch.setenv("THREEPL_PARTNERS_DIR", str(folder))
    bag = load_dagbag()
    assert bag.import_errors == {}
    assert bag.dags["acme_stock_from_3pl"].schedule is None  # null in the spec: manual runs only
    assert bag.dags["acme_dispatches_from_3pl"].schedule == "*/15 * * * *"


def with_acme(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """A company's own partner folder with one partner, acme, named in THREEPL_PARTNERS_DIR; returns the DagBag."""
    folder = tmp_path / "partners"
    folder.mkdir()
    (folder / "acme.yaml").write_text(partner_copy("acme"))
    monkeypatch.setenv("THREEPL_PARTNERS_DIR", str(folder))
    return load_dagbag()


def test_second_partner_from_threepl_partners_dir_gets_its_dags(tmp_path, monkeypatch):
    bag = with_acme(tmp_path, monkeypatch)
    assert bag.import_errors == {}
    for flow in FLOWS_WITH_DAGS:
        assert {f"demo3pl_{flow}", f"acme_{flow}"} <= set(bag.dags)


def test_broken_partner_yaml_is_an_import_error_naming_file_and_key_while_others_load(tmp_path, monkeypatch):
    folder = tmp_path / "partners"
    folder.mkdir()
    (folder / "acme.yaml").write_text(partner_copy("acme"))
    (folder / "broken.yaml").write_text(partner_copy("broken").replace("conn_id: demo3pl_sftp", "conn_idd: demo3pl_sftp"))
    monkeypatch.setenv("THREEPL_PARTNERS_DIR", str(folder))
    bag = load_dagbag()
    [(file, error)] = bag.import_errors.items()
    assert file.endswith("partner_specs_check.py")
    assert f"{folder / 'broken.yaml'}: key 'sftp.conn_idd': unknown key" in error
    assert f"{folder / 'broken.yaml'}: key 'sftp.conn_id': required key is missing" in error
    for flow in FLOWS_WITH_DAGS:
        assert {f"demo3pl_{flow}", f"acme_{flow}"} <= set(bag.dags)
        assert f"broken_{flow}" not in bag.dags


PROBE = r"""
import json, socket, sqlite3, sys, time
calls = []
import airflow  # Airflow itself may read its config; what matters is what the DAG file does
real_connect = socket.socket.connect
def no_network(self, address):
    calls.append(f"socket.connect {address!r}")
    raise OSError("network access at DAG parse time")
socket.socket.connect = no_network
real_sqlite = sqlite3.connect
def no_db(*a, **k):
    calls.append(f"sqlite3.connect {a!r}")
    raise OSError("database access at DAG parse time")
sqlite3.connect = no_db
try:
    import psycopg2
    psycopg2.connect = lambda *a, **k: calls.append("psycopg2.connect") or (_ for _ in ()).throw(OSError("db"))
except ImportError:
    pass
before = set(sys.modules)
import importlib.util
spec = importlib.util.spec_from_file_location("dag_under_test", sys.argv[1])
module = importlib.util.module_from_spec(spec)
started = time.perf_counter()
spec.loader.exec_module(module)
elapsed = time.perf_counter() - started
heavy = sorted(m for m in set(sys.modules) - before if m.split(".")[0] in ("great_expectations", "pandas", "numpy", "scipy"))
print(json.dumps({"seconds": elapsed, "heavy": heavy, "calls": calls}))
"""


@pytest.mark.parametrize("dag_file", sorted(p.name for p in DAGS.glob("*.py")))
def test_dag_file_parses_fast_without_heavy_imports_network_or_database(dag_file):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "plugins"), str(REPO)])}
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(DAGS / dag_file)], capture_output=True, text=True, env=env, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["heavy"] == [], f"{dag_file} imports {result['heavy']} at parse time"
    assert result["calls"] == [], f"{dag_file} touches the network or a database at parse time: {result['calls']}"
    # measured, not timed: the threshold is generous (a thin DAG parses in milliseconds)
    assert result["seconds"] < 2.0, f"{dag_file} took {result['seconds']:.2f}s to parse"


def test_a_real_install_has_no_demo_dags_and_month_end_runs_for_its_own_partners(tmp_path, monkeypatch):
    monkeypatch.delenv("THREEPL_EXAMPLES", raising=False)
    bag = with_acme(tmp_path, monkeypatch)
    assert bag.import_errors == {}
    assert not [d for d in bag.dags if d.startswith("demo3pl_")]
    assert {f"acme_{flow}" for flow in FLOWS_WITH_DAGS} <= set(bag.dags)
    [mapped] = [t for t in bag.dags["month_end_valuation"].tasks if t.task_id == "month_end_report"]
    assert mapped.op_kwargs_expand_input.value["code"] == ["acme"]


def test_month_end_reports_the_month_that_closed():
    """Scheduled, backfilled and manual runs alike report the month their data interval starts in."""
    from datetime import date, datetime, timezone

    from threepl_bridge.airflow.context import closed_month

    dag = load_dagbag().dags["month_end_valuation"]
    run_after = datetime(2026, 12, 2, 9, 0, tzinfo=timezone.utc)  # a manual run on 2 December
    interval = dag.timetable.infer_manual_data_interval(run_after=run_after)
    assert closed_month(interval.start, run_after) == date(2026, 11, 1)
    scheduled = datetime(2026, 12, 1, 0, 0, tzinfo=timezone.utc)  # the run due on 1 December covers November
    assert closed_month(datetime(2026, 11, 1, tzinfo=timezone.utc), scheduled) == date(2026, 11, 1)
    assert closed_month(None, run_after) == date(2026, 11, 1)
    stock = load_dagbag().dags["demo3pl_stock_from_3pl"]  # a stock run covers the day since the previous one
    daily = stock.timetable.infer_manual_data_interval(run_after=run_after)
    assert daily.end - daily.start == __import__("datetime").timedelta(days=1)


def test_only_the_current_run_takes_files_from_the_live_inbox():
    """Backfills and past runs cleared later rebuild their interval from the ledger and leave the inbox alone."""
    from datetime import datetime, timedelta, timezone

    from threepl_bridge.airflow.context import reads_inbox

    stock = load_dagbag().dags["demo3pl_stock_from_3pl"]
    now = datetime(2026, 12, 3, 6, 5, tzinfo=timezone.utc)
    today = stock.timetable.infer_manual_data_interval(run_after=now)  # [2 Dec 06:00, 3 Dec 06:00)
    assert reads_inbox("scheduled", today.start, today.end, now) and reads_inbox("manual", today.start, today.end, now)
    assert not reads_inbox("backfill", today.start, today.end, now)
    last_week = stock.timetable.infer_manual_data_interval(run_after=now - timedelta(days=7))
    assert not reads_inbox("scheduled", last_week.start, last_week.end, now)  # a past run, cleared today
    assert reads_inbox("scheduled", last_week.start, last_week.end, last_week.end + timedelta(hours=3))  # it ran late, but was current
    assert reads_inbox("manual", now, now, now + timedelta(days=2))  # no interval (dispatches): cleared later, it takes its file
    assert reads_inbox("manual", None, None, now) and not reads_inbox("backfill", None, None, now)


def test_every_task_that_calls_odoo_runs_in_the_odoo_api_pool():
    import inspect

    bag = load_dagbag()
    seen = 0
    for dag_id, dag in bag.dags.items():
        for t in dag.tasks:
            source = inspect.getsource(t.python_callable) if getattr(t, "python_callable", None) else ""
            calls_odoo = "resources.odoo()" in source
            seen += calls_odoo
            assert (t.pool == "odoo_api") == calls_odoo, f"{dag_id}.{t.task_id}: pool {t.pool}, calls Odoo: {calls_odoo}"
    assert seen >= 8


def test_every_dag_ends_in_needs_a_person_which_runs_whatever_happened_and_never_retries():
    bag = load_dagbag()
    for dag_id, dag in bag.dags.items():
        if dag_id == "partner_specs_check":
            continue
        [last] = [t for t in dag.tasks if not t.downstream_list]
        assert last.task_id == "needs_a_person", dag_id
        assert (last.retries, last.trigger_rule) == (0, "all_done"), dag_id
        assert len(last.upstream_list) >= 1, dag_id


def test_a_dag_id_names_its_partner_and_flow_even_when_the_partner_code_holds_underscores():
    from threepl_bridge.registry import flow, of_dag_id

    for partner in ("demo3pl", "acme_west", "a_orders_to_3pl"):
        for name in ("products_to_3pl", "orders_to_3pl", "dispatches_from_3pl", "stock_from_3pl"):
            found = of_dag_id(flow(name).dag_id(partner))
            assert found is not None and (found[0], found[1].name) == (partner, name)
    assert [(p, f.name) for p, f in [of_dag_id("month_end_valuation")]] == [(None, "month_end_valuation")]
    assert of_dag_id("orders_to_3pl") is None and of_dag_id("some_other_dag") is None
