"""Notifications, end to end: real DAG runs (dag.test) mail a real SMTP server on loopback (aiosmtpd) through the
smtp provider's SmtpNotifier; the test reads the messages the server received."""

from __future__ import annotations

import email
import json
import socket
from datetime import datetime, timezone
from email.message import Message
from types import SimpleNamespace

import pytest
from aiosmtpd.controller import Controller

from sandbox.odoo_standin import OdooStandIn, build
from sandbox.sftp_server import EmbeddedSftpServer
from tests.dags.test_dag_integrity import load_dagbag
from tests.dags.test_intake_dag_run import airflow_db, odoo_conn, outcome, stock_world  # noqa: F401 - fixture
from threepl_bridge.airflow import notify


class Inbox:
    """What the SMTP server received, as parsed messages."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's handler protocol
        message = email.message_from_bytes(envelope.content)
        message["X-Envelope-To"] = ",".join(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 OK"

    def subjects(self) -> list[str]:
        return [str(m["Subject"]) for m in self.messages]

    def body(self, index: int) -> str:
        parts = [p for p in self.messages[index].walk() if p.get_content_type() == "text/html"]
        return parts[0].get_payload(decode=True).decode()


@pytest.fixture()
def mail(monkeypatch):
    inbox = Inbox()
    with socket.socket() as probe:  # aiosmtpd's Controller checks its port by connecting to it: give it a free one
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", json.dumps({
            "conn_type": "smtp", "host": "127.0.0.1", "port": port,
            "extra": {"disable_ssl": True, "disable_tls": True, "from_email": "airflow@bridge.example", "timeout": 10, "retry_limit": 1}}))
        monkeypatch.setenv("THREEPL_NOTIFY_TO", "ops@example.com, finance@example.com")
        yield inbox
    finally:
        controller.stop()


def test_held_orders_and_a_not_ready_month_are_mailed_once_per_run(airflow_db, mail, tmp_path, monkeypatch):
    monkeypatch.setenv("THREEPL_LEDGER_URL", f"sqlite:///{tmp_path / 'ledger.db'}")
    with OdooStandIn(build(etl_email="etl@example.com")) as odoo, EmbeddedSftpServer(tmp_path / "sftp") as sftp:
        monkeypatch.setenv("AIRFLOW_CONN_DEMO3PL_SFTP", sftp.airflow_connection())
        odoo_conn(monkeypatch, odoo)
        from threepl_bridge.odoo.client import OdooClient, OdooSettings

        client = OdooClient(OdooSettings(url=odoo.url, database="odoo3pl", login="etl", password="standin-etl-api-key"))
        [us] = client.execute("res.country", "search", [["code", "=", "US"]])
        no_zip = client.execute("res.partner", "create", {"name": "Walk-in (no zip)", "street": "9 Unknown Road", "city": "Oakland", "country_id": us})
        so = client.execute("sale.order", "create", {"partner_id": no_zip, "warehouse_id": 3, "order_line": [[0, 0, {"product_id": 8, "product_uom_qty": 2}]]})
        client.execute("sale.order", "action_confirm", [so])
        [picking] = client.execute("stock.picking", "search_read", [["sale_id", "=", so]], fields=["name"])
        bag = load_dagbag()
        assert outcome(bag.dags["demo3pl_products_to_3pl"].test()) == "success"
        assert mail.messages == []  # nothing needs a person: nothing is sent
        dag = bag.dags["demo3pl_orders_to_3pl"]
        assert outcome(dag.test()) == "needs a person"
        assert mail.subjects() == ["[threepl] demo3pl_orders_to_3pl: 1 new item(s) need a person, 1 blocking"]
        body = mail.body(0)
        assert "ORDER_ADDRESS_INCOMPLETE" in body and picking["name"] in body and "(operations)" in body
        assert mail.messages[0]["X-Envelope-To"] == "ops@example.com,finance@example.com"
        assert mail.messages[0]["From"] == "airflow@bridge.example"
        assert outcome(dag.test()) == "needs a person"  # still held: the run says so again ...
        assert len(mail.messages) == 1  # ... but the same held order is not mailed twice


def test_a_not_ready_month_end_is_mailed_to_finance(airflow_db, mail, tmp_path, monkeypatch):
    snapshot = b"sku,lot,qty_on_hand,uom,status,snapshot_at\r\nFURN_7800,,490,EA,available,2026-10-31 06:00:00\r\n"
    with stock_world(tmp_path, monkeypatch, {"STOCK_001.csv": snapshot}, datetime(2026, 11, 1, 8, 0)):
        bag = load_dagbag()
        assert outcome(bag.dags["demo3pl_stock_from_3pl"].test()) == "needs a person"
        assert len(mail.messages) == 1 and "STOCK_VARIANCE_TO_APPROVE" in mail.body(0) and "FURN_7800" in mail.body(0)
        run = bag.dags["month_end_valuation"].test(logical_date=datetime(2026, 11, 1, tzinfo=timezone.utc))
        assert outcome(run) == "needs a person"
    assert mail.subjects()[1] == "[threepl] month_end_valuation: 1 new item(s) need a person, 1 blocking"
    assert "MONTH_NOT_READY" in mail.body(1) and "month 2026-10: NOT READY to close 2026-10" in mail.body(1) and "(finance)" in mail.body(1)


def test_a_failed_task_is_mailed_with_its_error_and_3pl_text_is_never_rendered(mail):
    ti = SimpleNamespace(task_id="handle_file", dag_id="demo3pl_dispatches_from_3pl", run_id="manual__1", map_index=2)
    notify.on_task_failure({"ti": ti, "exception": ValueError("row 3 field sku: '{{ 7 * 7 }}' unknown")})
    assert mail.subjects() == ["[threepl] demo3pl_dispatches_from_3pl: task handle_file failed"]
    body = mail.body(0)
    assert "map index 2" in body and "{{ 7 * 7 }}" in body and "49" not in body
    notify.on_task_failure({"ti": SimpleNamespace(task_id="needs_a_person", dag_id="d", run_id="r", map_index=-1), "exception": None})
    assert len(mail.messages) == 1  # needs_a_person sends its own message
