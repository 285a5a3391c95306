"""The Airflow boundary: a failure a retry cannot fix (spec, set-up, contract, bad request) fails the task at once;
the network, Odoo's 502 and a database serialization failure are left to Airflow's retries."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from airflow.exceptions import AirflowFailException

from sandbox.odoo_standin import OdooStandIn, build
from sandbox.sftp_server import EmbeddedSftpServer
from tests.conftest import partner_copy
from tests.dags.test_dag_integrity import load_dagbag
from tests.dags.test_intake_dag_run import airflow_db  # noqa: F401 - fixture
from tests.odoo.test_client import Scripted, client_for, standin  # noqa: F401 - fixture
from threepl_bridge.airflow.boundary import boundary
from threepl_bridge.errors import BadRequest
from threepl_bridge.odoo.client import OdooClient, OdooSettings
from threepl_bridge.odoo.errors import OdooAccessError, OdooTransientError
from threepl_bridge.odoo.warehouses import PartnerSetupError, stock_locations
from threepl_bridge.specs.errors import SpecError
from threepl_bridge.specs.loader import load_partner

API_KEY = "standin-etl-api-key"


def fails_at_once(body) -> AirflowFailException:  # noqa: ANN001
    with pytest.raises(AirflowFailException) as info:
        boundary(body)()
    return info.value


def test_spec_setup_contract_and_request_errors_fail_without_retry(tmp_path, standin):  # noqa: F811
    broken = tmp_path / "acme.yaml"
    broken.write_text(partner_copy("acme").replace("timezone: America/Los_Angeles", "timezone: Mars/Olympus"))
    assert isinstance(fails_at_once(lambda: load_partner(broken)).__cause__, SpecError)

    nowhere = tmp_path / "nowhere.yaml"
    nowhere.write_text(partner_copy("nowhere"))  # warehouse NOWHE: Odoo has none
    client = OdooClient(OdooSettings(url=standin.url, database="odoo3pl", login="etl", password=API_KEY))
    failure = fails_at_once(lambda: stock_locations(client, load_partner(nowhere)))
    assert isinstance(failure.__cause__, PartnerSetupError) and "NOWHE" in str(failure)

    failure = fails_at_once(lambda: client.execute("ir.config_parameter", "get_param", "stock.propagate_uom"))
    assert isinstance(failure.__cause__, OdooAccessError)

    def bad_request() -> None:
        raise BadRequest("give 'approve': a list of SKU or SKU|LOT keys")

    assert "give 'approve'" in str(fails_at_once(bad_request))


def test_a_502_for_longer_than_the_client_retries_is_left_to_airflow(standin):  # noqa: F811
    scripted = Scripted(standin.url)
    try:
        scripted.script = [("status", 502)] * 10
        client = client_for(scripted.url, max_retries=2)
        with pytest.raises(OdooTransientError, match="HTTP 502"):
            boundary(lambda: client.execute("stock.warehouse", "search_read", [], fields=["code"]))()
    finally:
        scripted.close()


def test_a_serialization_failure_is_left_to_airflow(postgres_url):
    engine = sa.create_engine(postgres_url, isolation_level="SERIALIZABLE")
    with engine.begin() as c:
        c.execute(sa.text("DROP TABLE IF EXISTS boundary_probe; CREATE TABLE boundary_probe (id int primary key, n int); INSERT INTO boundary_probe VALUES (1, 0)"))

    def conflicting_update() -> None:
        with engine.connect() as a, engine.connect() as b:
            a.execute(sa.text("SELECT n FROM boundary_probe WHERE id = 1"))
            b.execute(sa.text("SELECT n FROM boundary_probe WHERE id = 1"))
            a.execute(sa.text("UPDATE boundary_probe SET n = n + 1 WHERE id = 1"))
            a.commit()
            b.execute(sa.text("UPDATE boundary_probe SET n = n + 1 WHERE id = 1"))  # could not serialize access
            b.commit()

    with pytest.raises(sa.exc.OperationalError, match="could not serialize access"):
        boundary(conflicting_update)()
    engine.dispose()


def test_in_a_dag_run_a_refused_login_fails_on_the_first_try(airflow_db, tmp_path, monkeypatch):  # noqa: F811
    """The DAG's tasks have 3 retries with backoff (an unreachable Odoo is tried 4 times, minutes apart); a refused
    login is not retried at all."""
    monkeypatch.setenv("THREEPL_LEDGER_URL", f"sqlite:///{tmp_path / 'ledger.db'}")
    with OdooStandIn(build(etl_email="etl@example.com")) as odoo, EmbeddedSftpServer(tmp_path / "sftp") as sftp:
        monkeypatch.setenv("AIRFLOW_CONN_DEMO3PL_SFTP", sftp.airflow_connection())
        monkeypatch.setenv("AIRFLOW_CONN_ODOO_DEFAULT", json.dumps({
            "conn_type": "odoo", "host": odoo.url, "login": "etl", "password": "wrong", "extra": {"database": "odoo3pl"}}))
        dag = load_dagbag().dags["demo3pl_products_to_3pl"]
        assert dag.get_task("prepare_products").retries == 3
        run = dag.test()
        [ti] = [ti for ti in run.get_task_instances() if ti.task_id == "prepare_products"]
    assert (run.state, ti.state, ti.try_number) == ("failed", "failed", 1)
