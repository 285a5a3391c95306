"""What every generated DAG shares: which partners get which DAG, schedules, retries, tags and docs.

Only light imports here (YAML, pydantic): DAG files import this module at parse time, and parsing must not
touch the network or a database or import GX/pandas.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

from threepl_bridge.airflow.notify import on_task_failure
from threepl_bridge.registry import flow as get_flow
from threepl_bridge.specs.loader import PartnerRegistry, discover_partners
from threepl_bridge.specs.models import Partner

log = logging.getLogger(__name__)

START_DATE = datetime(2026, 1, 1, tzinfo=timezone.utc)

DEFAULT_ARGS: dict[str, Any] = {
    "owner": "threepl-bridge",
    "retries": 3,
    "retry_delay": timedelta(minutes=2),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=30),
    "execution_timeout": timedelta(hours=1),
    "on_failure_callback": on_task_failure,  # a message per task failed after its retries (THREEPL_NOTIFY_TO)
}


def partners_for_dags() -> list[Partner]:
    """Partners whose specs load, in a stable order; broken specs are logged (and shown by
    dags/partner_specs_check.py as an import error) but never hide the others."""
    registry: PartnerRegistry = discover_partners()
    for error in registry.errors:
        log.error("partner spec skipped: %s", error)
    return list(registry.partners.values())


def _schedule(expr: Any, interval: bool) -> Any:
    if interval and expr is not None and expr not in ("@once", "@continuous"):
        from airflow.timetables.interval import CronDataIntervalTimetable

        # a run covers the period since the previous one, so a backfill run rebuilds that period's reports
        return CronDataIntervalTimetable(expr, timezone="UTC")
    return expr


def dag_kwargs(partner: Partner, flow: str, doc: str | None = None) -> dict[str, Any]:
    f = get_flow(flow)
    schedules = partner.spec.schedules
    expr: Any = schedules[flow] if flow in schedules else f.schedule
    return {
        "dag_id": f.dag_id(partner.code),
        "schedule": _schedule(expr, f.interval),
        "start_date": START_DATE,
        "catchup": False,
        "max_active_runs": 1,
        "default_args": DEFAULT_ARGS,
        "tags": ["threepl", f"partner:{partner.code}", f"flow:{flow}"],
        "doc_md": f"### {partner.spec.name} (`{partner.code}`): {flow.replace('_', ' ')}\n\n{doc or f.doc}\n\n"
        f"Partner spec: `{partner.source}`. SFTP connection: `{partner.spec.sftp.conn_id}`.",
    }


def partner_dags(flow: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(partner code, DAG arguments) for every partner whose spec has the flow's document."""
    f = get_flow(flow)
    for p in partners_for_dags():
        if p.document(f.kinds[0]):
            yield p.code, dag_kwargs(p, flow)


def global_dag_kwargs(flow: str, *, tags: list[str]) -> dict[str, Any]:
    """DAG arguments of a flow that runs once for all partners (``month_end_valuation``)."""
    f = get_flow(flow)
    return {
        "dag_id": f.dag_id(),
        "schedule": _schedule(f.schedule, f.interval),
        "start_date": START_DATE,
        "catchup": False,
        "max_active_runs": 1,
        "default_args": DEFAULT_ARGS,
        "tags": ["threepl", *tags],
        "doc_md": f.doc,
    }
