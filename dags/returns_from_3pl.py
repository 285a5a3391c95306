"""<partner>_returns_from_3pl: the 3PL's return receipts posted as validated returns, by disposition.

Docs, default schedule and document kind: threepl_bridge/registry.py (`returns_from_3pl`)."""

from airflow.sdk import dag

from threepl_bridge.airflow import attention, inbound
from threepl_bridge.airflow.dags import partner_dags

for code, kwargs in partner_dags("returns_from_3pl"):

    @dag(**kwargs)
    def returns_from_3pl() -> None:
        files = inbound.handle_file.override(task_id="process_file").partial(code=code, kind="returns").expand(
            name=inbound.list_files(code, "returns"))
        attention.needs_a_person(code, "returns_from_3pl", files=files)

    returns_from_3pl()
