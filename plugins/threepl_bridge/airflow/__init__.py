"""The Airflow adapter: the only part of the package that imports Airflow.

- ``dags``: DAG defaults and which partners get which DAG (light imports only: DAG files use it at parse time);
- ``resources``: the ledger, partner, SFTP transport and Odoo client a task needs, created inside the task;
- ``boundary``: every task body runs inside it: it logs what the task cost Odoo and fails the task without retries
  on errors a retry cannot fix (spec, setup, data, contract), leaving network and lock errors to Airflow's retries;
- one module per flow (``products``, ``orders``, ``inbound``, ``stock``, ``dispatches``, ``month_end``) with its
  TaskFlow tasks; each task resolves its partner by code at run time and calls one function of ``flows/``.
"""
