"""The month-end report of a partner: verdict, valuation bridge, GL tie-out, movements, trends (HTML, CSV, XLSX),
and the bridge's documents as a CSV of their own (the drill-down)."""

from __future__ import annotations

import logging
from decimal import Decimal
from pathlib import Path
from typing import Any

from threepl_bridge.reports import svg
from threepl_bridge.reports.output import Column, Table, money, qty, reports_dir, table_csv, to_csv, to_xlsx, write_file
from threepl_bridge.reports.render import code_info, page

log = logging.getLogger(__name__)
LABELS = {"opening": "Opening value", "receipts": "Receipts", "returns": "Customer returns", "dispatches": "Dispatches",
          "adjustments": "Adjustments", "closing": "Closing value"}
NOT_BOOKED = "For information only: this Odoo version books no journal entry for stock moves by default"
REASONS = {"entry_without_layer": "Entry without a layer", "layer_without_entry": "Layer without an entry",
           "entry_not_posted": "Entry not posted", "posted_late": "Posted late, dated in the period",
           "dated_after_close": "Goods moved before the close, entry dated after it"}


def _why(why: str) -> list[str]:
    """A reason that is a catalogue code, in words with the code, and its action; other reasons as they are."""
    info = code_info(why)
    return [f"{info['title']} ({why})", info["action"]] if info["action"] else [why, ""]


def write_month_end_report(report: Any, folder: str | Path | None = None) -> list[Path]:
    """``report`` is a :class:`threepl_bridge.flows.month_end.MonthEnd`."""
    cur, bridge, tie = report.currency, report.bridge, report.tie_out
    units = Column("Units", "qty", "units")
    tables = {
        "verdict": Table("verdict", "Verdict", [Column("Verdict"), Column("In words")],
                         [["ready_to_close" if report.ready else "not_ready", report.verdict]]),
        "blocking": Table("blocking", "Blocking items", [Column("Who acts"), Column("What, and what to do")],
                         [[getattr(b, "who", "operations"), str(b)] for b in report.blocking], empty="nothing blocks the close"),
        "bridge": Table("bridge", "Valuation bridge", [Column("Step"), Column("Value", "money", cur), Column("Documents", "int")],
                        [[LABELS[k], v, sum(1 for l in bridge.lines if l.kind == k) if k in LABELS and k not in ("opening", "closing") else None]
                         for k, v in bridge.steps()]),
        "documents": Table("bridge_documents", "Documents of the bridge", [Column("Step"), Column("Date", "date"), Column("Document"),
                           Column("SKU"), Column("Quantity", "qty"), Column("Unit"), Column("Value", "money", cur), Column("Journal entry"),
                           Column("Posted late")],
                           [[LABELS[l.kind], l.moment, l.document, l.sku, l.quantity, l.unit, l.value, l.entry, "yes" if l.late else ""]
                            for l in bridge.lines],
                           empty="no stock movement valued in the month"),
        "tie": Table("gl_tie_out", "General-ledger tie-out at the close", [Column("Figure"), Column("Value", "money", cur)], [
            [f"General ledger balance of {', '.join(tie.accounts) or 'the stock valuation accounts'} (posted entries)", tie.gl_balance],
            ["Valuation layers at the close, by accounting date", tie.layers_value],
            ["Difference", tie.difference],
            ["Valuation layers created by the close (Odoo's Inventory Valuation report at that date)", tie.created_value],
            *([] if tie.booked else [[NOT_BOOKED, None]])]),
        "differences": Table("gl_differences", "Differences between the general ledger and the layers, entry by entry",
                             [Column("Journal entry"), Column("Date", "date"), Column("Why"), Column("GL minus layers", "money", cur), Column("Detail")],
                             [[i.entry, i.date, REASONS[i.reason], i.amount, i.detail] for i in tie.differences], empty="none: the books tie"),
        "dating": Table("gl_dating", "Why Odoo's Inventory Valuation report (by creation date) shows another figure",
                        [Column("Journal entry"), Column("Date", "date"), Column("Why"), Column("Books minus report", "money", cur), Column("Detail")],
                        [[i.entry, i.date, REASONS[i.reason], i.amount, i.detail] for i in tie.dating], empty="nothing: both date every layer alike"),
        "movements": Table("movements", "Movements of the month", [Column("Section"), Column("Metric"), units, Column("Value", "money", cur),
                           Column("Detail")], [list(f) for f in report.figures]),
        "unposted": Table("unposted", "Still unposted, and why", [Column("Kind"), Column("Reference"), Column("Why"), Column("What to do")],
                          [[kind, ref, *_why(why)] for kind, ref, why in report.unposted]),
        "files": Table("files", "Files from the 3PL with movements of the month, and their data quality", [Column("File"), Column("Kind"), Column("State"),
                       Column("Rows", "int"), Column("Rows failing", "int"), Column("Checks failed"), Column("Data-quality page", "link")],
                       [[x.remote_name, x.kind, x.state, (q or {}).get("rows"), (q or {}).get("rows_failing"),
                         "; ".join(c.get("description") or c["expectation"] for c in (q or {}).get("checks", []) if not c["success"]) or
                         ("none" if q else "not validated"), f"quality/{x.kind}_E{x.id}.html" if q else ""] for x, q in report.files],
                       empty="no file with movements of the month"),
        "trend": Table("trend", "Last 12 months", [Column("Month"), Column("Variance value posted", "money", cur), Column("Exceptions", "int")],
                       [list(t) for t in report.trend]),
    }
    steps = [(LABELS[k], v) for k, v in bridge.steps()]
    charts = {
        "waterfall": svg.waterfall(steps, title=f"Valuation bridge {report.month} ({cur})", fmt=lambda v: money(v, "")),
        "variance": svg.trend([(m, v) for m, v, _ in report.trend], title=f"Variance value posted per month ({cur})", fmt=lambda v: money(v, "")),
        "exceptions": svg.trend([(m, Decimal(n)) for m, _, n in report.trend], title="Exceptions raised per month", fmt=lambda v: qty(v)),
    }
    title = f"Month-end valuation {report.month} - {report.partner}"
    base = reports_dir(folder) / report.partner / f"month_end_{report.month}"
    order = ["verdict", "blocking", "bridge", "documents", "tie", "differences", "dating", "movements", "unposted", "files", "trend"]
    html = page("month_end.html.j2", title=title, report=report, t=tables, charts=charts, currency=cur, tie=tie,
                steps=Table("bridge_steps", "Bridge", [Column("Step"), Column("Value", "money", cur)], [list(s) for s in steps]),
                variance=Table("variance", "Variance", [Column("Month"), Column("Value", "money", cur)], [[m, v] for m, v, _ in report.trend]),
                exceptions=Table("exceptions", "Exceptions", [Column("Month"), Column("Exceptions", "int")], [[m, n] for m, _, n in report.trend]),
                money=lambda v: money(v, cur), documents=f"valuation_bridge_{report.month}.csv",
                footer=f"month {report.month}, partner {report.partner}; the bridge's documents: valuation_bridge_{report.month}.csv")
    paths = [write_file(base.with_suffix(".html"), html), write_file(base.with_suffix(".csv"), to_csv([tables[k] for k in order])),
             write_file(base.with_suffix(".xlsx"), to_xlsx([tables[k] for k in order], title)),
             write_file(base.with_name(f"valuation_bridge_{report.month}.csv"), table_csv(tables["documents"]))]
    log.info("month-end report: %s", ", ".join(str(p) for p in paths))
    return paths
