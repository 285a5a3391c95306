"""<partner>_dispatches_from_3pl: the 3PL's dispatch confirmations posted as validated deliveries.

Docs, default schedule and document kind: threepl_bridge/registry.py (`dispatches_from_3pl`)."""

from airflow.sdk import dag

from threepl_bridge.airflow import attention, dispatches, inbound
from threepl_bridge.airflow.dags import partner_dags

for code, kwargs in partner_dags("dispatches_from_3pl"):

    @dag(**kwargs)
    def dispatches_from_3pl() -> None:
        files = inbound.handle_file.override(task_id="process_file").partial(code=code, kind="dispatches").expand(
            name=inbound.list_files(code, "dispatches"))
        dispatches.pending_at_3pl(code, files) >> attention.needs_a_person(code, "dispatches_from_3pl", files=files)

    dispatches_from_3pl()
