# Airflow 3 with odoo-3pl-bridge's pinned dependencies (the DAGs, plugins and specs are mounted, not baked in).
FROM apache/airflow:3.3.2-python3.11
COPY requirements.txt /requirements.txt
RUN pip install --no-cache-dir -r /requirements.txt
