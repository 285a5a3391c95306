"""What this package tells Airflow as a provider (entry point ``apache_airflow_provider`` in pyproject.toml).

Airflow's ProvidersManager reads it without importing the hook: the connection form lists the ``odoo`` type (with
the hook's field labels), and ``airflow connections test`` / the form's Test button run
:meth:`~threepl_bridge.odoo.hook.OdooHook.test_connection` when ``[core] test_connection`` is ``Enabled``.
"""

from __future__ import annotations

from typing import Any

PACKAGE = "odoo-3pl-bridge"  # pyproject.toml's [project] name: Airflow refuses a provider whose names differ


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": PACKAGE,
        "name": "Odoo 3PL bridge",
        "description": "Odoo <-> third-party-logistics warehouses over SFTP flat files: the Odoo connection type.",
        "connection-types": [{
            "hook-class-name": "threepl_bridge.odoo.hook.OdooHook", "connection-type": "odoo", "hook-name": "Odoo",
            # the form, declared (Airflow 3.2+: read without importing the hook); the extras land in the extra JSON
            "ui-field-behaviour": {
                "hidden-fields": [],
                "relabeling": {"host": "URL or host", "schema": "http or https", "login": "API user login",
                               "password": "API key or password"},
                "placeholders": {"host": "https://mycompany.odoo.com", "login": "etl@mycompany.com",
                                 "extra": '{"database": "mycompany", "protocol": "auto", "timeout": 120}'},
            },
            "conn-fields": {
                "database": {"label": "Database", "description": "the Odoo database name (required)", "schema": {"type": ["string", "null"]}},
                "protocol": {"label": "Protocol", "description": "auto (JSON-2 on Odoo 19+, XML-RPC before), xmlrpc, jsonrpc or json2",
                             "schema": {"type": ["string", "null"], "enum": ["auto", "xmlrpc", "jsonrpc", "json2", None], "default": "auto"}},
                "timeout": {"label": "Timeout (s)", "description": "seconds per call", "schema": {"type": ["number", "null"]}},
            },
        }],
    }
