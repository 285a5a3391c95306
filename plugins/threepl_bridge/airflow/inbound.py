"""Tasks every inbound flow shares: list the complete files, then one mapped task per file through the lifecycle
(``threepl_bridge.flows.exchange.handle_file``): one SSH session and one download per task."""

from __future__ import annotations

import logging

from airflow.sdk import task

from threepl_bridge.airflow.boundary import ODOO_POOL, boundary
from threepl_bridge.airflow.context import label, processing_moment, takes_inbox

log = logging.getLogger(__name__)


@task(task_id="list_files")
@boundary
def list_files(code: str, kind: str) -> list[str]:
    from threepl_bridge.airflow import resources
    from threepl_bridge.flows.exchange import list_files as complete_files
    from threepl_bridge.flows.inbound_types import inbound_kind

    if not takes_inbox():
        log.info("%s %s: a backfill or a past run takes no file from the live inbox (it rebuilds its interval's reports "
                 "from the ledger); the files waiting now are for the current run", code, kind)
        return []
    p = resources.partner(code)
    return complete_files(p, inbound_kind(kind), resources.transport(p), resources.ledger())


@task(task_id="handle_file", map_index_template="{{ file_name }}", pool=ODOO_POOL)
@boundary
def handle_file(code: str, kind: str, name: str, run_id: str | None = None) -> dict[str, object]:
    from threepl_bridge.airflow import resources
    from threepl_bridge.flows.exchange import handle_file as lifecycle
    from threepl_bridge.flows.inbound_types import inbound_kind
    from threepl_bridge.reports import reports_dir

    label("file_name", name)
    p = resources.partner(code)
    result = lifecycle(inbound_kind(kind), p, name, transport=resources.transport(p), ledger=resources.ledger(), client=resources.odoo(),
                       now=processing_moment(), run_id=run_id, options={"reports_dir": reports_dir()})
    for path in result.details.get("reports") or []:
        log.info("finance report written: %s", path)
    return result.as_dict()
