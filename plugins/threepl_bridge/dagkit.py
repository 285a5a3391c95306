"""What every generated DAG shares: partner discovery at parse time, schedules, retries, tags and docs.

Only light imports here (YAML, pydantic): DAG files import this module at parse time, and parsing must not
touch the network or a database or import GX/pandas.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Any

from threepl_bridge.specs.loader import PartnerRegistry, discover_partners
from threepl_bridge.specs.models import Partner

log = logging.getLogger(__name__)

START_DATE = datetime(2026, 1, 1, tzinfo=timezone.utc)

DEFAULT_SCHEDULES = {
    "products_to_3pl": "15 * * * *",
    "orders_to_3pl": "*/30 * * * *",
    "dispatches_from_3pl": "*/15 * * * *",
    "stock_from_3pl": "0 6 * * *",
}

INTERVAL_FLOWS = frozenset({"stock_from_3pl"})  # flows whose runs stand for a period (real data intervals)

DEFAULT_ARGS: dict[str, Any] = {
    "owner": "threepl-bridge",
    "retries": 3,
    "retry_delay": timedelta(minutes=2),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=30),
    "execution_timeout": timedelta(hours=1),
}


def partners_for_dags() -> list[Partner]:
    """Partners whose specs load, in a stable order; broken specs are logged (and shown by
    dags/partner_specs_check.py as an import error) but never hide the others."""
    registry: PartnerRegistry = discover_partners()
    for error in registry.errors:
        log.error("partner spec skipped: %s", error)
    return list(registry.partners.values())


def dag_kwargs(partner: Partner, flow: str, doc: str) -> dict[str, Any]:
    schedules = partner.spec.schedules
    schedule: Any = schedules[flow] if flow in schedules else DEFAULT_SCHEDULES[flow]
    if flow in INTERVAL_FLOWS and schedule is not None and schedule not in ("@once", "@continuous"):
        from airflow.timetables.interval import CronDataIntervalTimetable

        # a run covers the period since the previous one, so a backfill run rebuilds that period's reports
        schedule = CronDataIntervalTimetable(schedule, timezone="UTC")
    return {
        "dag_id": partner.spec.dag_id(flow),
        "schedule": schedule,
        "start_date": START_DATE,
        "catchup": False,
        "max_active_runs": 1,
        "default_args": DEFAULT_ARGS,
        "tags": ["threepl", f"partner:{partner.code}", f"flow:{flow}"],
        "doc_md": f"### {partner.spec.name} (`{partner.code}`): {flow.replace('_', ' ')}\n\n{doc}\n\n"
        f"Partner spec: `{partner.source}`. SFTP connection: `{partner.spec.sftp.conn_id}`.",
    }
