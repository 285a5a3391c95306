# Airflow 3 with odoo-3pl-bridge's pinned dependencies (the DAGs, plugins and specs are mounted, not baked in).
FROM apache/airflow:3.3.2-python3.11
COPY requirements.txt /requirements.txt
RUN pip install --no-cache-dir -r /requirements.txt
# the package's metadata only (editable, no dependencies): its provider entry point gives Airflow the `odoo`
# connection type; the code itself is read from the mounted /opt/airflow/plugins (PYTHONPATH below)
COPY --chown=airflow:0 pyproject.toml README.md /opt/odoo-3pl-bridge/
COPY --chown=airflow:0 plugins/threepl_bridge /opt/odoo-3pl-bridge/plugins/threepl_bridge
RUN pip install --no-cache-dir --no-deps -e /opt/odoo-3pl-bridge
ENV PYTHONPATH=/opt/airflow/plugins
