"""The `odoo` connection type reaches Airflow through the provider entry point, and `airflow connections test`
runs OdooHook.test_connection() (enabled by bin/_env.sh and the compose file) against a live server."""

from __future__ import annotations

import json
import os
import subprocess

from sandbox.odoo_standin import OdooStandIn, build


def test_airflow_lists_the_odoo_connection_type_from_our_provider_entry_point():
    from airflow.providers_manager import ProvidersManager

    manager = ProvidersManager()
    assert "odoo-3pl-bridge" in manager.providers
    hook = manager.hooks["odoo"]
    assert (hook.hook_class_name, hook.hook_name, hook.connection_testable) == ("threepl_bridge.odoo.hook.OdooHook", "Odoo", True)
    assert "odoo" in manager.field_behaviours and manager.field_behaviours["odoo"]["relabeling"]["password"] == "API key or password"


def _test(url: str, password: str) -> subprocess.CompletedProcess[str]:
    conn = json.dumps({"conn_type": "odoo", "host": url, "login": "etl", "password": password, "extra": {"database": "odoo3pl"}})
    env = {**os.environ, "AIRFLOW_CONN_ODOO_DEFAULT": conn, "AIRFLOW__CORE__TEST_CONNECTION": "Enabled"}
    return subprocess.run(["airflow", "connections", "test", "odoo_default"], env=env, capture_output=True, text=True, timeout=180)


def test_airflow_connections_test_succeeds_on_the_server_and_fails_in_the_hooks_words_on_a_wrong_key():
    with OdooStandIn(build(etl_email="etl@example.com")) as odoo:
        good = _test(odoo.url, "standin-etl-api-key")
        assert good.returncode == 0 and "Connection success!" in good.stdout, good.stdout + good.stderr
        bad = _test(odoo.url, "a-wrong-api-key")
    assert bad.returncode != 0 and "Connection failed!" in bad.stdout
    assert f"cannot log in: authentication failed for login 'etl' on database 'odoo3pl' at {odoo.url}" in bad.stdout
    assert "a-wrong-api-key" not in bad.stdout + bad.stderr  # the key is never printed


def test_the_forms_extra_fields_are_read_with_or_without_their_prefix():
    from airflow.models.connection import Connection

    from threepl_bridge.odoo.hook import settings_from_connection

    manager = __import__("airflow.providers_manager", fromlist=["ProvidersManager"]).ProvidersManager()
    assert {"extra__odoo__database", "extra__odoo__protocol", "extra__odoo__timeout"} <= set(manager.connection_form_widgets)
    for extra in ({"database": "odoo3pl", "protocol": "json2", "timeout": 30},
                  {"extra__odoo__database": "odoo3pl", "extra__odoo__protocol": "json2", "extra__odoo__timeout": "30", "extra__odoo__page_size": ""}):
        conn = Connection(conn_id="odoo_default", conn_type="odoo", host="https://erp.example.com", login="etl", password="k", extra=json.dumps(extra))
        settings = settings_from_connection(conn)
        assert (settings.url, settings.database, settings.protocol, settings.timeout) == ("https://erp.example.com", "odoo3pl", "json2", 30.0)
