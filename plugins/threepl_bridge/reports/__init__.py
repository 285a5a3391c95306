"""Finance and operations reports: the stock reconciliation, the month-end valuation (bridge, GL tie-out,
verdict), data quality per file, each as self-contained HTML (Jinja2 templates, inline CSS and SVG), CSV and XLSX.

Reports are deterministic: the same ledger and Odoo content give byte-identical files (no generation time, stable
order, fixed number formats), so backfills can be compared and re-run safely. Text that came from a 3PL file
cannot act as a spreadsheet formula in a CSV or XLSX (:func:`~threepl_bridge.reports.output.csv_cell`); the HTML
escapes it. They are written to ``THREEPL_REPORTS_DIR`` (default ``$AIRFLOW_HOME/reports``), one folder per partner.
"""

from __future__ import annotations

import json
from typing import Any

from threepl_bridge.ledger.repo import Ledger
from threepl_bridge.reports.month_end import write_month_end_report
from threepl_bridge.reports.output import REPORTS_ENV, csv_cell, fmt, reports_dir
from threepl_bridge.reports.quality import write_quality_page
from threepl_bridge.reports.reconciliation import write_reconciliation_report
from threepl_bridge.reports.render import code_info

__all__ = ["REPORTS_ENV", "csv_cell", "exception_rows", "fmt", "reports_dir", "write_month_end_report", "write_quality_page",
           "write_reconciliation_report"]


def exception_rows(ledger: Ledger, *, partner: str | None = None, code: str | None = None, older_than_hours: float | None = None,
                   exception_id: int | None = None, include_resolved: bool = False, now: Any = None) -> list[dict[str, Any]]:
    """The operator's view of record exceptions (``python -m threepl_bridge exceptions``): oldest first, each with its
    code's title, severity and action from the catalogue, its age, and the file it came from (name, folder, where the
    file went, the exchange id a replay takes)."""
    from datetime import timedelta

    from threepl_bridge.ledger.models import utcnow
    from threepl_bridge.ledger.states import ExceptionStatus

    now = now or utcnow()
    before = now - timedelta(hours=older_than_hours) if older_than_hours is not None else None
    found = ledger.find_exceptions(partner=partner, code=code, seen_before=before, exception_id=exception_id,
                                   status=None if include_resolved or exception_id is not None else ExceptionStatus.OPEN)
    files = {x: ledger.exchange(x) for x in sorted({e.exchange_id for e in found if e.exchange_id})}
    rows = []
    for e in found:
        entry = code_info(e.code)
        exchange = files.get(e.exchange_id) if e.exchange_id else None
        rows.append({
            "id": e.id, "partner": e.partner, "code": e.code, "severity": entry["severity"],
            "title": entry["title"], "object_type": e.object_type, "object_ref": e.object_ref,
            "message": e.message, "action": entry["action"], "status": e.status, "occurrences": e.occurrences,
            "first_seen_at": e.first_seen_at.isoformat(), "last_seen_at": e.last_seen_at.isoformat(),
            "resolved_at": e.resolved_at.isoformat() if e.resolved_at else None,
            "resolution": e.resolution, "resolved_by": e.resolved_by,
            "suggestion": json.loads(e.suggestion) if e.suggestion else None,
            "age_hours": round((now - e.first_seen_at).total_seconds() / 3600, 1),
            "file": {"exchange_id": exchange.id, "name": exchange.remote_name, "folder": exchange.remote_folder, "kind": exchange.kind,
                     "moved_to": exchange.moved_to} if exchange else None,
        })
    return rows
