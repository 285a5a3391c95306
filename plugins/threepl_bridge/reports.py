"""Finance reports: per reconciliation, and the month-end valuation check. CSV + self-contained HTML.

Reports are deterministic: the same ledger content gives byte-identical files (no generation time, stable
order, fixed number formats), so backfills can be compared and re-run safely. Text that came from a 3PL file
(SKUs, lots, messages) cannot act as a spreadsheet formula in a CSV (:func:`csv_cell`); the HTML is escaped. They are written to
``THREEPL_REPORTS_DIR`` (default ``$AIRFLOW_HOME/reports``), one folder per partner.
"""

from __future__ import annotations

import html
import json
import logging
import os
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from threepl_bridge.ledger.engine import airflow_home
from threepl_bridge.ledger.repo import Ledger

log = logging.getLogger(__name__)
REPORTS_ENV = "THREEPL_REPORTS_DIR"

STYLE = """body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem;color:#1f2933}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem}table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}
th,td{border:1px solid #cbd2d9;padding:.3rem .6rem;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}
th{background:#f0f4f8}.ok{color:#1e7e34;font-weight:600}.bad{color:#b00020;font-weight:600}.muted{color:#616e7c}"""


def reports_dir(override: str | Path | None = None) -> Path:
    if override:
        return Path(override)
    env = os.environ.get(REPORTS_ENV)
    return Path(env) if env else airflow_home() / "reports"


def fmt(value: Any, places: int = 2) -> str:
    if value is None:
        return ""
    if isinstance(value, (Decimal, int, float)):
        return f"{Decimal(str(value)):.{places}f}"
    return str(value)


FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
PLAIN_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")


def csv_cell(value: Any) -> str:
    """One CSV cell that a spreadsheet shows as the text it is (OWASP "CSV injection"): a text starting with
    = + - @, a tab or a line break (a SKU, lot, explanation or message from a 3PL file: ``=HYPERLINK(...)``,
    ``+cmd|...``, ``-2+3``) gets a leading ``'``; a plain number (``-200.00``, the reports' own figures) stays a number."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_START) and not PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def _csv_line(cells: Iterable[Any]) -> str:
    """Comma-separated, quoted where needed: a delimiter, a quote or any line break (csv.writer leaves a lone CR
    unquoted when the line terminator is LF, and the CR then splits the row)."""
    out = []
    for value in cells:
        text = csv_cell(value)
        out.append(f'"{text.replace(chr(34), chr(34) * 2)}"' if any(c in text for c in ',"\r\n') else text)
    return ",".join(out) + "\n"


def _csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    return "".join(_csv_line(row) for row in [header, *rows]).encode("utf-8")


def _table(header: Sequence[str], rows: Iterable[Sequence[Any]], numeric: Sequence[int] = ()) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = []
    for row in rows:
        cells = "".join(f'<td{" class=n" if i in numeric else ""}>{html.escape(str(v))}</td>' for i, v in enumerate(row))
        body.append(f"<tr>{cells}</tr>")
    if not body:
        body.append(f'<tr><td colspan="{len(header)}" class="muted">none</td></tr>')
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _page(title: str, sections: list[str]) -> bytes:
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>{''.join(sections)}</body></html>\n").encode("utf-8")


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return path


# ------------------------------------------------------------------------------------- reconciliation

LINE_COLUMNS = ["sku", "lot", "classification", "threepl_qty", "odoo_qty_at_as_of", "difference", "timing_qty", "variance_qty",
                "unit_cost", "variance_value", "approval", "posted", "explanation"]


def write_reconciliation_report(ledger: Ledger, recon_id: int, folder: str | Path | None = None) -> list[Path]:
    recon = ledger.reconciliation(recon_id)
    exchange = ledger.exchange(recon.exchange_id)
    lines = ledger.reconciliation_lines(recon_id)
    details = json.loads(recon.details or "{}")
    exceptions = [o for o in ledger.row_outcomes(recon.exchange_id) if o.outcome == "exception"]
    stamp = recon.as_of.strftime("%Y%m%dT%H%M%SZ")
    base = reports_dir(folder) / recon.partner / f"reconciliation_{stamp}_R{recon_id}"

    def row(l: Any) -> list[str]:
        diff = None if l.threepl_qty is None or l.odoo_qty is None else l.threepl_qty - l.odoo_qty
        return [l.sku, l.lot, l.classification, fmt(l.threepl_qty, 4), fmt(l.odoo_qty, 4), fmt(diff, 4), fmt(l.timing_qty, 4),
                fmt(l.variance_qty, 4), fmt(l.unit_cost, 4), fmt(l.variance_value), l.approval, "yes" if l.posting_id else "no", l.explanation or ""]

    counts = ledger.reconciliation_counts(recon_id)
    variance_total = sum((l.variance_value for l in lines), Decimal(0))
    csv_rows = [["line", *row(l)] for l in lines]
    csv_rows += [["exception", "", "", o.code, "", "", "", "", "", "", "", "", "", o.message or ""] for o in exceptions]
    csv_rows += [["data_quality", "", "", d["code"], "", "", "", "", "", "", "", "", "", f"{d['expectation']} {d['column']}: "
                  f"{'passed' if d['success'] else str(d['unexpected']) + ' failing rows'}"] for d in details.get("data_quality", [])]
    csv_rows += [["total", "", "", cls, "", "", "", "", "", "", "", "", "", str(n)] for cls, n in sorted(counts.items())]
    csv_rows.append(["total", "", "", "variance_value", "", "", "", "", "", "", fmt(variance_total), "", "", recon.currency or ""])
    csv_path = _write(base.with_suffix(".csv"), _csv(["section", *LINE_COLUMNS], csv_rows))

    top = sorted((l for l in lines if l.variance_qty != 0), key=lambda l: (-abs(l.variance_value), l.sku, l.lot))[:10]
    timing = [l for l in lines if l.timing_qty != 0]
    pending = sum(1 for l in lines if l.approval == "pending")
    verdict = (f'<p class="bad">{pending} variance line(s) wait for approval.</p>' if pending
               else '<p class="ok">No variance waits for approval.</p>')
    sections = [
        f"<p>Partner <b>{html.escape(recon.partner)}</b>, snapshot <b>{html.escape(exchange.remote_name)}</b> counted at "
        f"<b>{recon.as_of:%Y-%m-%d %H:%M} UTC</b>; Odoo quantities computed at the same moment. State: {html.escape(recon.state)}.</p>",
        verdict,
        "<h2>Totals</h2>" + _table(["classification", "lines"], sorted(counts.items()), numeric=[1])
        + f"<p>Variance value: <b>{fmt(variance_total)} {html.escape(recon.currency or '')}</b></p>",
        "<h2>Top variances</h2>" + _table(["SKU", "lot", "variance qty", "unit cost", "value", "approval", "posted"],
                                          [[l.sku, l.lot, fmt(l.variance_qty, 4), fmt(l.unit_cost, 4), fmt(l.variance_value), l.approval,
                                            "yes" if l.posting_id else "no"] for l in top], numeric=[2, 3, 4]),
        "<h2>Timing differences</h2>" + _table(["SKU", "lot", "timing qty", "explanation"],
                                               [[l.sku, l.lot, fmt(l.timing_qty, 4), l.explanation or ""] for l in timing], numeric=[2]),
        "<h2>Exceptions in the file</h2>" + _table(["row", "code", "message"], [[o.row_number, o.code, o.message or ""] for o in exceptions]),
        "<h2>Data quality</h2>" + _table(["check", "column", "code", "result"],
                                        [[d["expectation"], d["column"], d["code"], "passed" if d["success"] else f"{d['unexpected']} failing rows"]
                                         for d in details.get("data_quality", [])]),
        f"<h2>Lines that differ</h2><p class=muted>{counts.get('match', 0)} (SKU, lot) pairs match exactly and are only counted.</p>"
        + _table(LINE_COLUMNS, [row(l) for l in lines], numeric=[3, 4, 5, 6, 7, 8, 9]),
    ]
    html_path = _write(base.with_suffix(".html"), _page(f"Stock reconciliation R{recon_id} - {recon.partner}", sections))
    log.info("reconciliation report: %s and %s", csv_path, html_path)
    return [csv_path, html_path]


# ---------------------------------------------------------------------------------------------- month end


def write_month_end_report(report: Any, folder: str | Path | None = None) -> list[Path]:
    """``report`` is a :class:`threepl_bridge.flows.month_end.MonthEnd`."""
    base = reports_dir(folder) / report.partner / f"month_end_{report.month}"
    rows = [[section, metric, fmt(units, 4), fmt(value), detail] for section, metric, units, value, detail in report.figures]
    rows += [["unposted", kind, "", "", f"{ref}: {why}"] for kind, ref, why in report.unposted]
    rows.append(["verdict", "ready_to_close" if report.ready else "not_ready", "", "", report.verdict])
    csv_path = _write(base.with_suffix(".csv"), _csv(["section", "metric", "units", f"value_{report.currency}", "detail"], rows))
    verdict_class = "ok" if report.ready else "bad"
    sections = [
        f'<p class="{verdict_class}">{html.escape(report.verdict)}</p>',
        "<h2>Movements of the month</h2>" + _table(["section", "metric", "units", f"value ({report.currency})", "detail"],
                                                   [[s, m, fmt(u, 4), fmt(v), d] for s, m, u, v, d in report.figures], numeric=[2, 3]),
        "<h2>Still unposted, and why</h2>" + _table(["kind", "reference", "why"], report.unposted),
    ]
    html_path = _write(base.with_suffix(".html"), _page(f"Month-end valuation {report.month} - {report.partner}", sections))
    log.info("month-end report: %s and %s", csv_path, html_path)
    return [csv_path, html_path]


def exception_rows(ledger: Ledger, *, partner: str | None = None, code: str | None = None, older_than_hours: float | None = None,
                   exception_id: int | None = None, include_resolved: bool = False, now: Any = None) -> list[dict[str, Any]]:
    """The operator's view of record exceptions (``python -m threepl_bridge exceptions``): oldest first, each with its
    code's title, severity and action from the catalogue, its age, and the file it came from (name, folder, where the
    file went, the exchange id a replay takes)."""
    from datetime import timedelta

    from threepl_bridge import codes
    from threepl_bridge.ledger.models import utcnow
    from threepl_bridge.ledger.states import ExceptionStatus

    now = now or utcnow()
    before = now - timedelta(hours=older_than_hours) if older_than_hours is not None else None
    found = ledger.find_exceptions(partner=partner, code=code, seen_before=before, exception_id=exception_id,
                                   status=None if include_resolved or exception_id is not None else ExceptionStatus.OPEN)
    files = {x: ledger.exchange(x) for x in sorted({e.exchange_id for e in found if e.exchange_id})}
    rows = []
    for e in found:
        entry = codes.CODES.get(e.code)
        exchange = files.get(e.exchange_id) if e.exchange_id else None
        rows.append({
            "id": e.id, "partner": e.partner, "code": e.code, "severity": str(entry.severity) if entry else "error",
            "title": entry.title if entry else e.code, "object_type": e.object_type, "object_ref": e.object_ref,
            "message": e.message, "action": entry.action if entry else "", "status": e.status, "occurrences": e.occurrences,
            "first_seen_at": e.first_seen_at.isoformat(), "last_seen_at": e.last_seen_at.isoformat(),
            "resolved_at": e.resolved_at.isoformat() if e.resolved_at else None,
            "resolution": e.resolution, "resolved_by": e.resolved_by,
            "suggestion": json.loads(e.suggestion) if e.suggestion else None,
            "age_hours": round((now - e.first_seen_at).total_seconds() / 3600, 1),
            "file": {"exchange_id": exchange.id, "name": exchange.remote_name, "folder": exchange.remote_folder, "kind": exchange.kind,
                     "moved_to": exchange.moved_to} if exchange else None,
        })
    return rows
