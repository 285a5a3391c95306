"""<partner>_receipts_from_3pl: the 3PL's receipt confirmations posted as validated receipts.

Docs, default schedule and document kind: threepl_bridge/registry.py (`receipts_from_3pl`)."""

from airflow.sdk import dag

from threepl_bridge.airflow import attention, inbound
from threepl_bridge.airflow.dags import partner_dags

for code, kwargs in partner_dags("receipts_from_3pl"):

    @dag(**kwargs)
    def receipts_from_3pl() -> None:
        files = inbound.handle_file.override(task_id="process_file").partial(code=code, kind="receipts").expand(
            name=inbound.list_files(code, "receipts"))
        attention.needs_a_person(code, "receipts_from_3pl", files=files)

    receipts_from_3pl()
