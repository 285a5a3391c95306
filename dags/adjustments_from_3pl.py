"""<partner>_adjustments_from_3pl: the 3PL's own stock adjustments, posted or waiting for approval.

Docs, default schedule and document kind: threepl_bridge/registry.py (`adjustments_from_3pl`)."""

from airflow.sdk import dag

from threepl_bridge.airflow import attention, inbound
from threepl_bridge.airflow.dags import partner_dags

for code, kwargs in partner_dags("adjustments_from_3pl"):

    @dag(**kwargs)
    def adjustments_from_3pl() -> None:
        files = inbound.handle_file.override(task_id="process_file").partial(code=code, kind="adjustments").expand(
            name=inbound.list_files(code, "adjustments"))
        attention.needs_a_person(code, "adjustments_from_3pl", files=files)

    adjustments_from_3pl()
