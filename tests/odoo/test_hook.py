"""OdooHook: settings from an Airflow connection, and test_connection's operator-facing verdicts."""

from __future__ import annotations

import json

import pytest

from sandbox.odoo_standin import OdooStandIn, build
from threepl_bridge.odoo.hook import OdooHook


def set_conn(monkeypatch, conn_id: str, **conn) -> None:
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))


@pytest.mark.parametrize(("version", "protocol", "spoken"), [
    ("17", "xmlrpc", "xmlrpc"), ("17", "jsonrpc", "jsonrpc"), ("17", "auto", "xmlrpc"), ("19", "auto", "json2"), ("19", "xmlrpc", "xmlrpc"),
])
def test_hook_reads_the_connection_and_reports_what_to_fix(monkeypatch, version, protocol, spoken):
    """The connection's protocol is spoken; ``auto`` picks JSON-2 for Odoo 19 and XML-RPC before."""
    with OdooStandIn(build(version=version)) as server:
        set_conn(monkeypatch, "odoo_default", conn_type="odoo", host=server.url, login="etl", password="standin-etl-api-key",
                 extra={"database": "odoo3pl", "protocol": protocol, "timeout": 30, "page_size": 50})
        hook = OdooHook()
        client = hook.get_conn()
        assert (client.settings.protocol, client.settings.page_size, client.settings.timeout) == (protocol, 50, 30.0)
        ok, message = hook.test_connection()
        assert not ok
        assert "has no email" in message and "set one on the user" in message
        client.execute("res.users", "write", [client.uid], {"email": "etl@example.com"})
        ok, message = OdooHook().test_connection()
        assert ok, message
        assert message.startswith(f"Odoo {version}.0 over {spoken}, user 'etl'") and message.endswith("ready"), message
        assert client.protocol == spoken


def test_wrong_key_and_missing_database_are_explained(monkeypatch):
    with OdooStandIn(build()) as server:
        host, port = server.url.removeprefix("http://").split(":")
        set_conn(monkeypatch, "odoo_bad", conn_type="odoo", host=host, port=int(port), schema="http", login="etl",
                 password="nope-secret", extra={"database": "odoo3pl"})
        ok, message = OdooHook("odoo_bad").test_connection()
        assert not ok and "cannot log in" in message and "nope-secret" not in message
        set_conn(monkeypatch, "odoo_nodb", conn_type="odoo", host=server.url, login="etl", password="x")
        ok, message = OdooHook("odoo_nodb").test_connection()
        assert not ok and "set extra 'database'" in message
