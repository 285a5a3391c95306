"""Tasks of <partner>_stock_from_3pl beyond the shared inbound ones: finance's approval, its posting, report rebuilds.

``ask_finance`` is Airflow's human-in-the-loop operator (standard provider): when this run's counts leave variance
lines above tolerance, it lists them as options (quantity and value) under "Required Actions", assigned to the
approvers (``THREEPL_APPROVERS``: Airflow user ids, the finance group; empty: anyone who may act on the DAG's
runs), and waits ``THREEPL_APPROVAL_TIMEOUT_HOURS`` (72) for an answer. Ticked lines are approved; the others
are rejected (they stay open as ``STOCK_VARIANCE_REJECTED``) unless "Decide later" is ticked; no answer in time
leaves them pending. ``approve_variances`` then posts what was approved, once (write-ahead); it also takes an
approval given as run params (``reconciliation_id``, ``approve``, ``approver``), the CLI's and scripts' way.
``THREEPL_APPROVALS=params`` turns the question off (approvals through params only).

All use ``trigger_rule="none_failed"``: an approval or a report rebuild needs no new file (the mapped task is
skipped when it has no input), but never runs after a file failed, so the run still shows that failure.
"""

from __future__ import annotations

import logging
import os
from datetime import timedelta
from typing import Any

from airflow.providers.standard.operators.hitl import HITLOperator
from airflow.sdk import get_current_context, task
from airflow.sdk.exceptions import AirflowSkipException

from threepl_bridge.airflow.boundary import BadRequest, ODOO_POOL, boundary

log = logging.getLogger(__name__)


LATER = "Decide later (leave the lines not ticked pending)"
REJECT_ALL = "Reject every line listed"


def _recon_ids(files: Any) -> list[int]:
    return sorted({int(f["reconciliation_id"]) for f in (files or []) if isinstance(f, dict) and f.get("reconciliation_id")})


class AskFinance(HITLOperator):
    """The variance lines of this run's counts, put to finance (see the module's docstring)."""

    def __init__(self, *, code: str, **kwargs: Any) -> None:
        approvers = [a.strip() for a in os.environ.get("THREEPL_APPROVERS", "").split(",") if a.strip()]
        super().__init__(task_id="ask_finance", subject=f"{code}: approve the stock variances above tolerance",
                         options=[LATER, REJECT_ALL], defaults=[LATER], multiple=True, trigger_rule="none_failed",
                         assigned_users=[{"id": a, "name": a} for a in approvers] or None,
                         response_timeout=timedelta(hours=float(os.environ.get("THREEPL_APPROVAL_TIMEOUT_HOURS", "72"))), **kwargs)

    def _options(self, context: Any) -> list[str]:
        from threepl_bridge.airflow import resources
        from threepl_bridge.flows.adjustments import pending_options

        files = context["ti"].xcom_pull(task_ids="reconcile_file")
        return pending_options(resources.ledger(), _recon_ids(files if isinstance(files, list) else [files]))

    def execute(self, context: Any) -> Any:
        if os.environ.get("THREEPL_APPROVALS", "hitl") == "params":
            raise AirflowSkipException("THREEPL_APPROVALS=params: approvals through the run's params only")
        lines = self._options(context)
        if not lines:
            raise AirflowSkipException("no variance line of this run waits for approval")
        self.options = [*lines, LATER, REJECT_ALL]
        self.body = ("Tick the lines whose count is right: they are adjusted in Odoo, dated on the count's day. "
                     "The lines not ticked are **rejected** (not adjusted; they stay open as STOCK_VARIANCE_REJECTED until "
                     f"approved later), unless you tick *{LATER}*. The reconciliation report lists each line's detail.\n\n"
                     + "\n".join(f"- `{line}`" for line in lines))
        return super().execute(context)

    def validate_chosen_options(self, chosen_options: list[str]) -> None:
        return None  # the options were computed at run time; approve_variances acts only on lines still pending


@task(task_id="approve_variances", trigger_rule="none_failed", pool=ODOO_POOL)
@boundary
def approve_variances(code: str, params: dict | None = None, files: list | None = None) -> dict[str, object]:
    """Posts finance's answer to ask_finance, or an approval given as params:
    {"reconciliation_id": 12, "approve": ["SKU", "SKU|LOT"] or ["all"], "approver": "..."}."""
    from threepl_bridge.airflow import resources
    from threepl_bridge.flows.adjustments import decide, pending_options
    from threepl_bridge.flows.stock import approve
    from threepl_bridge.reports import reports_dir, write_reconciliation_report

    params = params or {}
    recon_id = params.get("reconciliation_id")
    answer = get_current_context()["ti"].xcom_pull(task_ids="ask_finance")
    if not recon_id and isinstance(answer, dict) and answer.get("chosen_options"):
        ledger = resources.ledger()
        chosen, who = list(answer["chosen_options"]), answer.get("responded_by_user") or {}
        asked = pending_options(ledger, _recon_ids(files))
        approved = [o for o in asked if o in chosen and REJECT_ALL not in chosen]
        rejected = [] if LATER in chosen else [o for o in asked if o not in approved]
        done = decide(resources.partner(code), resources.odoo(), ledger, approved, rejected, str(who.get("name") or who.get("id") or "?"))
        log.info("finance's answer (%s): %d line(s) approved, %d posted, %d rejected, %d left pending", who.get("name"), len(approved),
                 done["posted"], done["rejected"], len(asked) - len(approved) - len(rejected))
        paths = [str(p) for r in _recon_ids(files) for p in write_reconciliation_report(ledger, r, reports_dir())]
        return {**done, "approved": len(approved), "reports": paths}
    if not recon_id:
        return {"approved": 0, "note": "no answer from finance and no reconciliation_id given: nothing to approve"}
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
