"""odoo-3pl-bridge: batch ETL between Odoo and third-party-logistics warehouses.

The package is plain Python, importable and testable without a running Airflow; the DAG files in dags/ only
wire its functions into tasks.
"""

__version__ = "0.1.0"
