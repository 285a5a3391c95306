"""A report's tables, and the three files each report is: HTML (templates, :mod:`render`), CSV and XLSX.

A :class:`Table` holds typed cells (text, quantities with their unit, money, counts, dates); each output formats
them its own way: the HTML per unit of measure and currency ("1,250 Units", "-3,000.00 USD"), the CSV as plain
machine-readable values ("1250", "-3000.00"), the XLSX as typed cells (numbers, dates) under a frozen header.
Text that came from a 3PL file (SKUs, lots, messages) never acts as a spreadsheet formula (OWASP "CSV
injection"): a text cell starting with = + - @, a tab or a line break gets a leading ``'`` in the CSV and the XLSX;
the HTML escapes everything (Jinja2's autoescaping). Files are written atomically (temp file, rename) and are
deterministic: the same input gives the same bytes.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from threepl_bridge.ledger.engine import airflow_home

REPORTS_ENV = "THREEPL_REPORTS_DIR"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
PLAIN_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
MINOR_UNITS = {"JPY": 0, "KRW": 0, "CLP": 0, "ISK": 0, "VND": 0, "BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3, "TND": 3}  # ISO 4217; others 2
LONG_WORD = 30  # characters: a longer word in a text cell may break anywhere (HTML)
QTY_PLACES = 3  # quantities: up to three decimals, trailing zeros dropped (Odoo's default UoM precision is 0.01 - 0.001)


def reports_dir(override: str | Path | None = None) -> Path:
    if override:
        return Path(override)
    env = os.environ.get(REPORTS_ENV)
    return Path(env) if env else airflow_home() / "reports"


def csv_cell(value: Any) -> str:
    """One CSV/XLSX text cell that a spreadsheet shows as the text it is: a text starting with = + - @, a tab or a
    line break (``=HYPERLINK(...)``, ``+cmd|...``, ``-2+3``) gets a leading ``'``; a plain number stays a number."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_START) and not PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def fmt(value: Any, places: int = 2) -> str:
    """A plain number with fixed decimals (CSV), or the text itself."""
    if value is None:
        return ""
    if isinstance(value, (Decimal, int, float)):
        return f"{Decimal(str(value)):.{places}f}"
    return str(value)


def money(value: Any, currency: str = "") -> str:
    """An amount in the currency's minor units, thousands grouped: "-3,000.00 USD"."""
    if value is None or value == "":
        return ""
    places = MINOR_UNITS.get(currency, 2)
    return f"{Decimal(str(value)):,.{places}f}" + (f" {currency}" if currency else "")


def qty(value: Any, unit: str = "") -> str:
    """A quantity as its unit shows it: integral quantities without decimals, others to three places at most,
    thousands grouped: "1,250 Units", "2.5 kg"."""
    if value is None or value == "":
        return ""
    number = Decimal(str(value)).quantize(Decimal(1).scaleb(-QTY_PLACES))
    text = f"{number:,.{QTY_PLACES}f}".rstrip("0").rstrip(".")
    return text + (f" {unit}" if unit else "")


@dataclass(frozen=True)
class Column:
    title: str
    kind: str = "text"  # text, qty, money, int, date, link (a relative path to another report)
    unit: str = ""  # qty: the unit's name; money: the currency


@dataclass
class Table:
    """One table of a report: a sheet in the XLSX, a section in the CSV, a table in the HTML."""

    name: str  # the CSV section and XLSX sheet name
    title: str
    columns: list[Column]
    rows: list[list[Any]] = field(default_factory=list)
    empty: str = "none"

    def shown(self, row: Sequence[Any]) -> list[tuple[str, str]]:
        """The HTML's cells of ``row``: (text, CSS class): ``n`` right-aligns a number, ``w`` lets a long word (a
        path, a URL, a code pasted into a file) break anywhere so the table keeps to the page's width."""
        out = []
        for c, v in zip(self.columns, row):
            text = _shown(c, v)
            css = "n" if c.kind in ("qty", "money", "int") else "link" if c.kind == "link" and text else ""
            out.append((text, css or ("w" if any(len(w) > LONG_WORD for w in text.split()) else "")))
        return out


def _shown(column: Column, value: Any) -> str:
    if value is None:
        return ""
    if column.kind == "money":  # the unit is in the column's header
        return money(value, "")
    if column.kind == "qty":
        return qty(value, "")
    if column.kind == "int":
        return f"{int(value):,}"
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    return str(value)


def _plain(column: Column, value: Any) -> str:
    if value is None:
        return ""
    if column.kind == "money":
        return fmt(value, MINOR_UNITS.get(column.unit, 2))
    if column.kind == "qty":
        return qty(value).replace(",", "")
    if isinstance(value, datetime):
        return value.isoformat()
    return csv_cell(value)


def _csv_line(cells: Iterable[str]) -> str:
    """Comma-separated, quoted where needed: a delimiter, a quote or any line break (csv.writer leaves a lone CR
    unquoted when the line terminator is LF, and the CR then splits the row)."""
    out = []
    for text in cells:
        out.append(f'"{text.replace(chr(34), chr(34) * 2)}"' if any(c in text for c in ',"\r\n') else text)
    return ",".join(out) + "\n"


def to_csv(tables: Sequence[Table]) -> bytes:
    """All tables in one CSV: a ``section`` column (the table's name), then each table's own header and rows, every
    line as wide as the widest table."""
    width = max(len(t.columns) for t in tables)

    def padded(cells: list[str]) -> list[str]:
        return cells + [""] * (width + 1 - len(cells))

    lines = [_csv_line(["section", *(f"c{i + 1}" for i in range(width))])]
    for t in tables:
        lines.append(_csv_line(padded([f"{t.name}:header", *(csv_cell(c.title + (f" ({c.unit})" if c.unit else "")) for c in t.columns)])))
        lines += [_csv_line(padded([t.name, *(_plain(c, v) for c, v in zip(t.columns, row))])) for row in t.rows]
    return "".join(lines).encode("utf-8")


def table_csv(table: Table) -> bytes:
    """One table as a CSV of its own (a drill-down beside the report): header, then rows."""
    head = [csv_cell(c.title + (f" ({c.unit})" if c.unit else "")) for c in table.columns]
    return "".join([_csv_line(head), *(_csv_line([_plain(c, v) for c, v in zip(table.columns, row)]) for row in table.rows)]).encode("utf-8")


def to_xlsx(tables: Sequence[Table], title: str) -> bytes:
    """One sheet per table: a frozen, bold header row, typed cells (numbers with their format, dates), text
    neutralised as in the CSV, column widths fitted. Deterministic (fixed document times)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.remove(book.active)
    book.properties.title = title
    book.properties.creator = "odoo-3pl-bridge"
    book.properties.created = book.properties.modified = datetime(2000, 1, 1)
    used: set[str] = set()
    for t in tables:
        name = _sheet_name(t.name, used)
        sheet = book.create_sheet(name)
        sheet.append([c.title + (f" ({c.unit})" if c.unit else "") for c in t.columns])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in t.rows:
            sheet.append([_typed(c, v) for c, v in zip(t.columns, row)])
        for i, c in enumerate(t.columns, start=1):
            fmt_code = {"money": "#,##0.00;-#,##0.00", "qty": "#,##0.###;-#,##0.###", "int": "#,##0", "date": "yyyy-mm-dd"}.get(c.kind)
            widths = [len(str(sheet.cell(row=r, column=i).value or "")) for r in range(1, min(sheet.max_row, 200) + 1)]
            sheet.column_dimensions[get_column_letter(i)].width = min(60, max(8, *widths) + 2)
            if fmt_code:
                for r in range(2, sheet.max_row + 1):
                    sheet.cell(row=r, column=i).number_format = fmt_code
            for r in range(2, sheet.max_row + 1):  # text stays text: openpyxl would store "=..." as a formula
                cell = sheet.cell(row=r, column=i)
                if isinstance(cell.value, str):
                    cell.data_type = "s"
        sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return _fixed_zip_times(out.getvalue())


def _typed(column: Column, value: Any) -> Any:
    if value is None:
        return None
    if column.kind in ("money", "qty") and isinstance(value, (Decimal, int, float)):
        return float(value)
    if column.kind == "int":
        return int(value)
    if column.kind == "date" and isinstance(value, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        return date.fromisoformat(value)
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, date):
        return value
    return csv_cell(value)


def _sheet_name(name: str, used: set[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\]", "_", name)[:28] or "sheet"
    candidate, n = base, 1
    while candidate.lower() in used:
        n += 1
        candidate = f"{base[:25]}_{n}"
    used.add(candidate.lower())
    return candidate


def _fixed_zip_times(data: bytes) -> bytes:
    """The same XLSX bytes for the same content: zip entries re-stamped with one fixed time, and the document's
    modification time fixed too (openpyxl's save stamps it with the clock, whatever the properties say: two writes
    a second apart differed)."""
    import zipfile

    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(2000, 1, 1, 0, 0, 0))
            fixed.compress_type, fixed.external_attr = zipfile.ZIP_DEFLATED, info.external_attr
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)", rb"\g<1>2000-01-01T00:00:00Z\g<2>", content)
            target.writestr(fixed, content)
    return out.getvalue()


def write_file(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return path
