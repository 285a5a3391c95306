"""<partner>_dispatches_from_3pl: the 3PL's dispatch confirmations posted as validated deliveries."""

from airflow.sdk import dag

from threepl_bridge.airflow_tasks import dispatch_tasks
from threepl_bridge.dagkit import dag_kwargs, partners_for_dags

DOC = """Picks up the complete dispatch confirmation files in the partner's dispatch folder; **one mapped task per
file** receives it (exchange record: name + sha256; a file already received is a recorded duplicate), parses it
per the partner's layout, validates it with `expectations/dispatches.json` and checks each row against Odoo and
the ledger, then posts the shipped quantities (lots, tracking numbers, backorder policy) and validates the
pickings in batches with the accounting entry dated on the day the goods left (in the company's calendar).
Every row ends posted, duplicate or exception (`DISPATCH_*` codes, see docs/exceptions.md); the file then moves
to archive/ (unreadable files to error/). `pending_at_3pl` lists released orders not dispatched within the
partner's SLA. Re-running a task or clearing the run never posts twice."""


def build(code: str, kwargs: dict) -> None:
    @dag(**kwargs)
    def dispatches_from_3pl() -> None:
        dispatch_tasks(code)

    dispatches_from_3pl()


for _p in partners_for_dags():
    if _p.document("dispatches"):
        build(_p.code, dag_kwargs(_p, "dispatches_from_3pl", DOC))
