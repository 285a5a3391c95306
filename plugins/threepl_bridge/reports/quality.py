"""Data quality of one inbound file: its Great Expectations results in plain words (GX's own rendering of each
expectation), as a table for the finance reports and as a self-contained page per file for engineers and
auditors (in the manner of GX's Data Docs, offline: ``<reports>/<partner>/quality/``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from threepl_bridge.ledger.repo import Ledger
from threepl_bridge.reports.output import Column, Table, to_xlsx, write_file
from threepl_bridge.reports.render import code_info, page


def quality_table(quality: dict[str, Any]) -> Table:
    """One row per check: what it checks (GX's words), its threshold, rows checked and failing, sample values, the
    code failing rows get and what to do about them."""
    rows = []
    for c in quality.get("checks", []):
        rows.append([c.get("description") or c["expectation"], c["column"], f"{float(c.get('mostly', 1)) * 100:g}% of rows",
                     c.get("rows"), c["unexpected"], "passed" if c["success"] else "failed", ", ".join(c.get("samples") or []),
                     code_info(c["code"])["title"], c["code"]])
    return Table("data_quality", "Data quality", [Column("Check"), Column("Column"), Column("Threshold"), Column("Rows checked", "int"),
                 Column("Rows failing", "int"), Column("Result"), Column("Sample failing values"), Column("Failing rows become"), Column("Code")],
                 rows, empty="no checks recorded for this file")


def write_quality_page(ledger: Ledger, exchange_id: int, folder: Path) -> Path:
    """The file's data-quality page (HTML and XLSX beside it); the latest validation of the file."""
    exchange = ledger.exchange(exchange_id)
    quality = ledger.quality(exchange_id) or {"checks": []}
    table = quality_table(quality)
    failed = [c for c in quality.get("checks", []) if not c["success"]]
    title = f"Data quality - {exchange.partner} {exchange.kind} {exchange.remote_name}"
    base = folder / exchange.partner / "quality" / f"{exchange.kind}_E{exchange.id}"
    html = page("quality.html.j2", title=title, exchange=exchange, quality=quality, table=table, failed=failed,
                codes={c["code"]: code_info(c["code"]) for c in failed}, footer=f"exchange {exchange.id}, suite expectations/{quality.get('suite', exchange.kind)}.json")
    write_file(base.with_suffix(".xlsx"), to_xlsx([table], title))
    return write_file(base.with_suffix(".html"), html)
