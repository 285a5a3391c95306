"""The task of month_end_valuation: one mapped task per partner."""

from __future__ import annotations

import logging

from airflow.sdk import get_current_context, task

from threepl_bridge.airflow.boundary import ODOO_POOL, boundary
from threepl_bridge.airflow.context import closed_month, label

log = logging.getLogger(__name__)


@task(task_id="month_end_report", map_index_template="{{ partner_code }}", pool=ODOO_POOL)
@boundary
def month_end_report(code: str) -> dict[str, object]:
    from threepl_bridge.airflow import resources
    from threepl_bridge.flows.month_end import compute
    from threepl_bridge.reports import reports_dir, write_month_end_report

    label("partner_code", code)
    context = get_current_context()
    month = closed_month(context.get("data_interval_start"), context["dag_run"].run_after)
    report = compute(resources.partner(code), resources.odoo(), resources.ledger(), month)
    paths = write_month_end_report(report, reports_dir())
    log.info("%s", report.verdict)
    for path in paths:
        log.info("finance report written: %s", path)
    return {"partner": code, "month": report.month, "ready": report.ready, "verdict": report.verdict, "reports": [str(p) for p in paths]}
