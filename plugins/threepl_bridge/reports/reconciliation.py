"""The stock reconciliation report: one per snapshot the 3PL sent (HTML, CSV, XLSX)."""

from __future__ import annotations

import json
import logging
from decimal import Decimal
from pathlib import Path
from typing import Any

from threepl_bridge.ledger.repo import Ledger
from threepl_bridge.reports import svg
from threepl_bridge.reports.output import Column, Table, money, reports_dir, to_csv, to_xlsx, write_file
from threepl_bridge.reports.quality import quality_table
from threepl_bridge.reports.render import code_info, page

log = logging.getLogger(__name__)
TOP = 10
UNITS = "units"  # the lines are in each product's own unit of measure in Odoo


def write_reconciliation_report(ledger: Ledger, recon_id: int, folder: str | Path | None = None) -> list[Path]:
    recon = ledger.reconciliation(recon_id)
    exchange = ledger.exchange(recon.exchange_id)
    lines = ledger.reconciliation_lines(recon_id)
    details = json.loads(recon.details or "{}")
    cur = recon.currency or ""
    exceptions = [o for o in ledger.row_outcomes(recon.exchange_id) if o.outcome == "exception"]
    counts = ledger.reconciliation_counts(recon_id)
    variance_total = sum((l.variance_value for l in lines), Decimal(0))
    pending = [l for l in lines if l.approval == "pending"]
    top = sorted((l for l in lines if l.variance_qty != 0), key=lambda l: (-abs(l.variance_value), l.sku, l.lot))[:TOP]

    def diff(l: Any) -> Decimal | None:
        return None if l.threepl_qty is None or l.odoo_qty is None else l.threepl_qty - l.odoo_qty

    tables = {
        "totals": Table("totals", "Lines by classification", [Column("Classification"), Column("Lines", "int")], sorted(counts.items())),
        "top": Table("top_variances", f"Top {TOP} variances by value", [Column("SKU"), Column("Lot"), Column("Variance", "qty", UNITS),
                     Column("Unit cost", "money", cur), Column("Value", "money", cur), Column("Approval"), Column("Posted")],
                     [[l.sku, l.lot, l.variance_qty, l.unit_cost, l.variance_value, l.approval, "yes" if l.posting_id else "no"] for l in top]),
        "timing": Table("timing", "Timing differences", [Column("SKU"), Column("Lot"), Column("Timing", "qty", UNITS), Column("Explanation")],
                        [[l.sku, l.lot, l.timing_qty, l.explanation or ""] for l in lines if l.timing_qty != 0]),
        "exceptions": Table("exceptions", "Rows of the file not taken", [Column("Row", "int"), Column("Problem"), Column("Code"),
                            Column("What to do"), Column("Message")],
                            [[o.row_number, code_info(o.code)["title"], o.code, code_info(o.code)["action"], o.message or ""] for o in exceptions]),
        "lines": Table("lines", "Lines that differ", [Column("SKU"), Column("Lot"), Column("Class"), Column("3PL", "qty", UNITS),
                       Column("Odoo", "qty", UNITS), Column("Difference", "qty", UNITS), Column("Timing", "qty", UNITS),
                       Column("Variance", "qty", UNITS), Column("Value", "money", cur), Column("Approval"), Column("Explanation")],
                       [[l.sku, l.lot, l.classification, l.threepl_qty, l.odoo_qty, diff(l), l.timing_qty, l.variance_qty, l.variance_value,
                         l.approval + (" (posted)" if l.posting_id else ""), l.explanation or ""] for l in lines]),
    }
    quality = ledger.quality(recon.exchange_id) or {"checks": details.get("data_quality", [])}
    tables["quality"] = quality_table(quality)
    chart = Table("chart", "Variance value by SKU", [Column("SKU (lot)"), Column("Value", "money", cur)],
                  [[f"{l.sku} {l.lot}".strip(), l.variance_value] for l in top])
    title = f"Stock reconciliation R{recon_id} - {recon.partner}"
    base = reports_dir(folder) / recon.partner / f"reconciliation_{recon.as_of:%Y%m%dT%H%M%SZ}_R{recon_id}"
    html = page("reconciliation.html.j2", title=title, recon=recon, exchange=exchange, t=tables, chart_table=chart, currency=cur,
                pending=pending, variance_total=money(variance_total, cur), matches=counts.get("match", 0), unknown=details.get("unknown_rows", {}),
                chart=svg.bars(chart.rows, title=f"Top {len(top)} variances by value ({cur})", unit=cur, fmt=lambda v: money(v, cur)),
                footer=f"snapshot {exchange.remote_name} (exchange {exchange.id}), reconciliation {recon_id}")
    order = ["totals", "top", "timing", "exceptions", "quality", "lines"]
    paths = [write_file(base.with_suffix(".html"), html), write_file(base.with_suffix(".csv"), to_csv([tables[k] for k in order])),
             write_file(base.with_suffix(".xlsx"), to_xlsx([tables[k] for k in order], title))]
    log.info("reconciliation report: %s", ", ".join(str(p) for p in paths))
    return paths
