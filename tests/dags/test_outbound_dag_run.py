"""Real Airflow DAG runs (dag.test) of products_to_3pl and orders_to_3pl against the stand-in and SFTP."""

from __future__ import annotations

from sandbox.odoo_standin import OdooStandIn, build
from sandbox.sftp_server import EmbeddedSftpServer
from tests.dags.test_dag_integrity import load_dagbag
from tests.dags.test_intake_dag_run import airflow_db, odoo_conn  # noqa: F401 - fixture
from threepl_bridge.ledger.repo import Ledger


def test_products_then_orders_dag_runs_release_each_order_once(airflow_db, tmp_path, monkeypatch):  # noqa: F811
    ledger_url = f"sqlite:///{tmp_path / 'ledger.db'}"
    monkeypatch.setenv("THREEPL_LEDGER_URL", ledger_url)
    env = build(etl_email="etl@example.com")
    with OdooStandIn(env) as odoo, EmbeddedSftpServer(tmp_path / "sftp") as sftp:
        monkeypatch.setenv("AIRFLOW_CONN_DEMO3PL_SFTP", sftp.airflow_connection())
        odoo_conn(monkeypatch, odoo)
        from threepl_bridge.odoo.client import OdooClient, OdooSettings

        client = OdooClient(OdooSettings(url=odoo.url, database="odoo3pl", login="etl", password="standin-etl-api-key"))
        so = client.execute("sale.order", "create", {"partner_id": 10, "warehouse_id": 3, "order_line": [[0, 0, {"product_id": 8, "product_uom_qty": 2}]]})
        client.execute("sale.order", "action_confirm", [so])
        bag = load_dagbag()
        assert bag.dags["demo3pl_products_to_3pl"].test().state == "success"
        assert bag.dags["demo3pl_orders_to_3pl"].test().state == "success"
        assert bag.dags["demo3pl_orders_to_3pl"].test().state == "success"  # a second run releases nothing
        [picking] = client.execute("stock.picking", "search_read", [["sale_id", "=", so]], fields=["name"])
    items = list((tmp_path / "sftp" / "to_3pl" / "items").iterdir())
    orders = list((tmp_path / "sftp" / "to_3pl" / "orders").iterdir())
    assert len(items) == 1 and len(orders) == 1
    assert orders[0].read_text().count(picking["name"]) == 1
    ledger = Ledger.open(ledger_url)
    assert ledger.released_pickings("demo3pl")[picking["id"]].state == "released"
    assert ledger.watermark("demo3pl", "products.product") is not None
