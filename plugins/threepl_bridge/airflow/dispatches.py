"""Tasks of <partner>_dispatches_from_3pl beyond the shared inbound ones: released orders pending at the 3PL."""

from __future__ import annotations

import logging

from airflow.sdk import task

from threepl_bridge.airflow.boundary import ODOO_POOL, boundary
from threepl_bridge.airflow.context import run_moment

log = logging.getLogger(__name__)


@task(task_id="pending_at_3pl", trigger_rule="all_done", pool=ODOO_POOL)
@boundary
def pending_at_3pl(code: str, processed: list[dict[str, object]]) -> list[dict[str, object]]:
    from threepl_bridge.airflow import resources
    from threepl_bridge.flows.dispatches import flag_pending

    found = flag_pending(partner=resources.partner(code), client=resources.odoo(), ledger=resources.ledger(), now=run_moment())
    for item in found:
        log.warning("pending at %s: %s released %s (%.0f h)", code, item["picking"], item["released_at"], item["age_hours"])
    return found
