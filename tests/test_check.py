"""`python -m threepl_bridge check`: the set-up check a user runs before the first DAG (README)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date

import pytest

from sandbox.odoo_standin import OdooStandIn, build
from tests.conftest import REPO, partner_copy
from threepl_bridge.__main__ import main


@pytest.fixture
def odoo(monkeypatch):
    with OdooStandIn(build(etl_email="etl@example.com")) as server:
        monkeypatch.setenv("AIRFLOW_CONN_ODOO_DEFAULT", json.dumps({
            "conn_type": "odoo", "host": server.url, "login": "etl", "password": "standin-etl-api-key", "extra": {"database": "odoo3pl"}}))
        yield server


def test_check_says_ready_and_names_a_partner_whose_warehouse_odoo_does_not_have(odoo, tmp_path, monkeypatch, capsys):
    folder = tmp_path / "partners"
    folder.mkdir()
    (folder / "acme.yaml").write_text(partner_copy("acme"))
    monkeypatch.setenv("THREEPL_PARTNERS_DIR", str(folder))
    assert main(["check"]) == 1
    out = capsys.readouterr().out
    assert "ok   Odoo connection 'odoo_default': Odoo 17.0 over xmlrpc, user 'etl'" in out
    assert "ok   partner demo3pl: warehouse(s) 3PL (3PL Warehouse, stock 3PL/Stock)" in out
    assert f"FAIL partner acme: partner acme: Odoo has no warehouse with code(s) ['ACME'] (odoo.warehouses in {folder / 'acme.yaml'})" in out
    assert "FAIL partner demo3pl: policy.damaged_location '3PL/Quarantine' is not a location in Odoo: create it" in out
    assert "ok   partner demo3pl: policy.scrap_location Virtual Locations/Scrap" in out
    quarantine(odoo)
    assert main(["check", "--partner", "demo3pl"]) == 0
    assert "ok   partner demo3pl: policy.damaged_location 3PL/Quarantine" in capsys.readouterr().out


def quarantine(server) -> None:
    """The location demo3pl's damaged goods go to, made as an operator would (README: set-up)."""
    from threepl_bridge.odoo.client import OdooClient, OdooSettings

    client = OdooClient(OdooSettings(url=server.url, database="odoo3pl", login="etl", password="standin-etl-api-key"))
    client.execute("stock.location", "create", {"name": "Quarantine", "location_id": 34, "usage": "internal"})


def test_check_runs_as_the_readme_shows_and_prints_no_secret(odoo):
    quarantine(odoo)
    out = subprocess.run([sys.executable, "-m", "threepl_bridge", "check"], capture_output=True, text=True, timeout=120,
                         cwd=REPO, env={**__import__("os").environ, "PYTHONPATH": f"{REPO / 'plugins'}:{REPO}"})
    assert out.returncode == 0, out.stdout + out.stderr
    assert "ready" in out.stdout and "standin-etl-api-key" not in out.stdout + out.stderr
    assert "python -m threepl_bridge check" in (REPO / "README.md").read_text()


def test_month_end_refuses_a_partner_whose_warehouse_is_missing_instead_of_reporting_ready(odoo, tmp_path):
    from threepl_bridge.flows.month_end import compute
    from threepl_bridge.ledger.repo import Ledger
    from threepl_bridge.odoo.client import OdooClient, OdooSettings
    from threepl_bridge.odoo.warehouses import PartnerSetupError
    from threepl_bridge.specs.loader import load_partner

    (tmp_path / "acme.yaml").write_text(partner_copy("acme"))
    partner = load_partner(tmp_path / "acme.yaml")
    client = OdooClient(OdooSettings(url=odoo.url, database="odoo3pl", login="etl", password="standin-etl-api-key"))
    with pytest.raises(PartnerSetupError, match=r"no warehouse with code\(s\) \['ACME'\]"):
        compute(partner, client, Ledger.open(f"sqlite:///{tmp_path / 'ledger.db'}"), date(2026, 10, 1))


def test_each_task_logs_what_it_cost_odoo(odoo):
    import logging

    from threepl_bridge.airflow import resources
    from threepl_bridge.airflow.boundary import boundary

    @boundary
    def body() -> int:
        client = resources.odoo()
        client.execute("stock.warehouse", "search_read", [], fields=["code"])
        client.execute("stock.warehouse", "search_read", [], fields=["code"])
        return 1

    records: list[logging.LogRecord] = []
    handler = logging.Handler(level=logging.INFO)
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("threepl_bridge.airflow.boundary")
    logger.addHandler(handler)
    level, logger.level = logger.level, logging.INFO
    try:
        assert body() == 1
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    [line] = [r.getMessage() for r in records if r.getMessage().startswith("Odoo calls:")]
    count, detail = line.removeprefix("Odoo calls: ").split(" ", 1)
    # protocol auto asks the server's version once per task (it picks XML-RPC for 17)
    expected = {"common.version": 1, "common.authenticate": 1, "stock.warehouse.search_read": 2}
    assert json.loads(detail) == expected and int(count) == 4
