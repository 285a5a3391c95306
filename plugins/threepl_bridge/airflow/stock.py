"""Tasks of <partner>_stock_from_3pl beyond the shared inbound ones: approvals and report rebuilds.

Both use ``trigger_rule="none_failed"``: an approval or a report rebuild needs no new file (the mapped task is
skipped when it has no input), but never runs after a file failed, so the run still shows that failure.
"""

from __future__ import annotations

import logging

from airflow.sdk import get_current_context, task

from threepl_bridge.airflow.boundary import BadRequest, ODOO_POOL, boundary

log = logging.getLogger(__name__)


@task(task_id="approve_variances", trigger_rule="none_failed", pool=ODOO_POOL)
@boundary
def approve_variances(code: str, params: dict | None = None) -> dict[str, object]:
    """Runs only when triggered with params: {"reconciliation_id": 12, "approve": ["SKU", "SKU|LOT"] or ["all"], "approver": "..."}."""
    from threepl_bridge.airflow import resources
    from threepl_bridge.flows.stock import approve
    from threepl_bridge.reports import reports_dir, write_reconciliation_report

    params = params or {}
    recon_id = params.get("reconciliation_id")
    if not recon_id:
        return {"approved": 0, "note": "no reconciliation_id given: nothing to approve"}
    keys = params.get("approve") or []
    if not keys:
        raise BadRequest("give 'approve': a list of SKU or SKU|LOT keys, or [\"all\"]")
    approver = params.get("approver") or get_current_context()["dag_run"].run_id
    ledger = resources.ledger()
    posted = approve(resources.partner(code), resources.odoo(), ledger, int(recon_id), None if keys == ["all"] else list(keys), str(approver))
    paths = write_reconciliation_report(ledger, int(recon_id), reports_dir())
    for path in paths:
        log.info("finance report written: %s", path)
    return {"reconciliation_id": recon_id, "posted": posted, "reports": [str(p) for p in paths]}


@task(task_id="rebuild_reports", trigger_rule="none_failed")
@boundary
def rebuild_reports(code: str) -> list[str]:
    """Backfills and reruns: regenerate the reports of the reconciliations counted in this run's interval."""
    from threepl_bridge.airflow import resources
    from threepl_bridge.reports import reports_dir, write_reconciliation_report

    context = get_current_context()
    start, end = context.get("data_interval_start"), context.get("data_interval_end")
    if start is None or end is None or start == end:
        return []
    ledger = resources.ledger()
    paths = []
    for recon in ledger.reconciliations(code):
        if start <= recon.as_of < end:
            paths += [str(p) for p in write_reconciliation_report(ledger, recon.id, reports_dir())]
    for path in paths:
        log.info("finance report written: %s", path)
    return paths
