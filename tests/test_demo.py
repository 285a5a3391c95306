"""The README's demo command works end to end, and a second run doubles nothing (real DAG runs; ~2 min).

Against a real Odoo (``./bin/demo --odoo-url ...``) the demo runs the same loop in a warehouse of its own, with a
generated partner YAML; that partner is checked here without a server.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import yaml

from tests.conftest import REPO


SUMMARIES: dict[str, list[str]] = {}  # the first run's summary per stand-in version


def _standin_env(tmp_path) -> dict[str, str]:
    env = {**os.environ, "THREEPL_DEMO_DIR": str(tmp_path / "demo"), "AIRFLOW_HOME": str(tmp_path / "airflow"),
           "PYTHONPATH": os.pathsep.join([str(REPO / "plugins"), str(REPO)]), "CI": "true"}
    for name in ("THREEPL_LEDGER_URL", "ODOO_URL", "ODOO_DB", "ODOO_USER", "ODOO_PASSWORD", "ODOO_STANDIN_VERSION", "ODOO_PROTOCOL"):
        env.pop(name, None)  # the stand-in, never a real server
    return env


def _summary(out: str) -> list[str]:
    """The summary's business lines: from "== Summary ==" to the reports, clock times and the version line left out."""
    body = out.split("== Summary ==", 1)[1].split("Finance reports:", 1)[0]
    return [re.sub(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d( UTC)?", "<time>", line) for line in body.strip().splitlines()
            if not line.startswith("Odoo stand-in server_version")]


def test_demo_runs_the_whole_loop_twice_without_doubling(tmp_path):
    env = _standin_env(tmp_path)
    first = subprocess.run([sys.executable, "-m", "sandbox.demo", "--no-ui"], cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-4000:]
    out = first.stdout
    assert "Odoo stand-in server_version 17.0, over xmlrpc" in out
    SUMMARIES["17"] = _summary(out)
    for expected in ("Orders released to the 3PL: 7", "Shipped and posted in Odoo: 4", "ORDER_ADDRESS_INCOMPLETE", "ORDER_UOM_MISMATCH",
                     "DISPATCH_SKU_NOT_ON_PICKING", "DISPATCH_PENDING_AT_3PL", "timing 4", "variance 1", "Month-end verdict", "DEMO OK",
                     "Runs that need a person", "demo3pl_orders_to_3pl: 2 blocking item(s)", "demo3pl_dispatches_from_3pl: 2 blocking item(s)",
                     # goods in and goods back (issue 18)
                     "Receipts announced to the 3PL (ASNs; a backorder stays under its receipt's): 3 (3PL/IN/00001, 3PL/IN/00002, 3PL/IN/00003)", "Receipts: 4 line(s) posted into 3PL/IN/00001 done, 3PL/IN/00003 assigned",
                     "[FURN_8855] Drawer: 2 into 3PL/Quarantine", "[FURN_7800] Desk Combination: 1 into 3PL/Stock",
                     "lot RCV-", "Returns posted by disposition: restock 1, scrap 1 (1 unannounced",
                     "3PL adjustments: E-COM11 -1 posted, FURN_6666 -2 waits for approval",
                     "demo3pl_adjustments_from_3pl: 1 blocking item(s)"):
        assert expected in out, expected
    # every task of the demo's runs left its log where the UI reads it (dags test writes none by itself)
    logs = tmp_path / "airflow" / "logs" / "dag_id=demo3pl_orders_to_3pl"
    [person] = logs.glob("run_id=*/task_id=needs_a_person/attempt=1.log")
    assert "NEEDS A PERSON" in person.read_text() and "ORDER_ADDRESS_INCOMPLETE" in person.read_text()
    assert "Odoo calls:" in next(logs.glob("run_id=*/task_id=prepare_orders/attempt=1.log")).read_text()
    assert list((tmp_path / "airflow" / "logs" / "dag_id=demo3pl_dispatches_from_3pl").glob("run_id=*/task_id=process_file/map_index=0/attempt=1.log"))
    second = subprocess.run([sys.executable, "-m", "sandbox.demo", "--no-ui"], cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert second.returncode == 0, second.stdout[-4000:]
    assert "Second run: nothing new, nothing doubled" in second.stdout


def test_demo_on_the_stand_in_as_odoo_19_speaks_json2_and_ends_as_on_17(tmp_path):
    """Odoo 19 over JSON-2 (protocol auto): the same orders, holds, exceptions, reconciliation and verdict as 17."""
    def first_run(version: str, folder: str) -> str:
        env = {**_standin_env(tmp_path / folder)}
        done = subprocess.run([sys.executable, "-m", "sandbox.demo", "--no-ui", "--odoo-version", version], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
        return done.stdout

    out = first_run("19", "v19")
    assert "Odoo stand-in server_version 19.0, over json2" in out
    expected = SUMMARIES.get("17") or _summary(first_run("17", "v17"))
    # the same, but for the GL tie-out: Odoo 19 books no journal entry for stock moves by default (contract/19.0)
    tie_17 = [line for line in expected if line.startswith("   GL tie-out:")]
    assert tie_17 == ["   GL tie-out: general ledger 297850.00, layers 297850.00, difference 0.00"], tie_17
    ours = _summary(out)
    assert [line for line in ours if line.startswith("   GL tie-out:")] == [
        "   GL tie-out: for information only: this Odoo version books no journal entry for stock moves by default"]
    assert [l for l in ours if not l.startswith("   GL tie-out:")] == [l for l in expected if not l.startswith("   GL tie-out:")]


def test_real_server_demo_runs_its_own_partner_in_its_own_warehouse(tmp_path, monkeypatch):
    """The partner a real-server demo generates: demo3pl, not an example, in the demo's warehouse only, the demo's
    products only; it loads where examples are off (the shipped demo3pl is skipped there), with the shipped layouts."""
    from sandbox import demo
    from threepl_bridge.specs.loader import discover_partners, formats_dir

    folder = demo.real_folder("http://127.0.0.1:8069", "odoo3pl")
    assert folder.parent == demo.BASE.parent and folder.name == f"{demo.BASE.name}-127.0.0.1_8069-odoo3pl"
    assert demo.real_folder("https://acme.odoo.com", "acme").name.endswith("-acme.odoo.com-acme")
    monkeypatch.setattr(demo, "DEMO", tmp_path / "demo-server")
    path = demo.partner_yaml(demo.Site(url="http://127.0.0.1:8069", database="odoo3pl", login="etl", password="x", real=True))
    registry = discover_partners([formats_dir() / "partners", path.parent], examples=False)
    assert not registry.errors, registry.errors
    partner = registry.get("demo3pl")
    assert partner.source == str(path)
    assert partner.spec.example is False and list(partner.spec.odoo.warehouses) == [demo.WAREHOUSE_CODE] != ["3PL"]
    documents = yaml.safe_load((REPO / "sftp_formats/partners/demo3pl.yaml").read_text())["documents"]
    assert sorted(partner.layouts) == sorted(d["layout"] for d in documents.values())
    assert {"asn", "receipts", "returns", "adjustments"} <= set(documents)
    assert partner.spec.policy.damaged_location == f"{demo.WAREHOUSE_CODE}/Quarantine"  # the demo warehouse's own
    assert partner.spec.products.restricted
    assert [list(leaf) for leaf in partner.spec.products.domain] == [["default_code", "in", sorted(demo.PRODUCTS)]]
    assert {sku for _, _, lines, _ in demo.ORDERS for sku, *_ in lines} <= set(demo.PRODUCTS)
