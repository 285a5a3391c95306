"""The Airflow plugin of odoo-3pl-bridge (registered through the ``airflow.plugins`` entry point in
pyproject.toml; plugins/threepl_bridge itself is in plugins/.airflowignore): the exceptions view's FastAPI app,
mounted by the API server at ``/threepl``, and its entries in the UI - "3PL exceptions" in the navigation (under
Browse) and a "3PL exceptions" tab on every DAG's page, filtered to that DAG."""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from threepl_bridge.airflow.exceptions_view import PREFIX, app


class ThreePLPlugin(AirflowPlugin):
    name = "threepl_bridge"
    fastapi_apps = [{"app": app, "url_prefix": PREFIX, "name": "odoo-3pl-bridge exceptions"}]
    external_views = [
        {"name": "3PL exceptions", "href": f"{PREFIX}/exceptions", "destination": "nav", "category": "browse",
         "url_route": "threepl_exceptions"},
        {"name": "3PL exceptions", "href": f"{PREFIX}/exceptions?dag_id={{DAG_ID}}", "destination": "dag", "url_route": "threepl_dag_exceptions"},
    ]
