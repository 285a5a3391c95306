"""Text a 3PL sends in its own files (a SKU ``<script>...``, a lot ``=HYPERLINK(...)``) reaches the finance reports
only as text (issue 17): escaped in every HTML page (reconciliation, month end, data quality), neutralised in the
CSV and the XLSX, whichever table it lands in."""

from __future__ import annotations

from tests.flows.conftest import world  # noqa: F401  (the stand-in world)
from tests.flows.finance import HYPERLINK, SCRIPT, finance_month
from tests.test_reports_injection import Elements, assert_safe_outputs


def test_markup_and_formulas_from_3pl_files_stay_text_in_html_csv_and_xlsx(world, tmp_path):
    out = finance_month(world, tmp_path / "reports")
    html, csv_path, xlsx = out["reconciliation"]
    lines = world.ledger.reconciliation_lines(out["stock"].details["reconciliation_id"])
    assert {SCRIPT, HYPERLINK} <= {l.sku for l in lines} and HYPERLINK in {l.lot for l in lines}  # it did come through the file
    assert_safe_outputs(html, csv_path, xlsx, [SCRIPT, HYPERLINK], formula=HYPERLINK, markup=SCRIPT)
    page = html.read_text()
    assert page.count("&lt;script&gt;") >= 2  # the line and the file's row exception
    for path in out["quality"] + [out["month_end"][0]]:
        parser = Elements()
        parser.feed(path.read_text())
        assert "script" not in parser.tags, path
    dispatch_page = next(p for p in out["quality"] if p.name.startswith("dispatches_")).read_text()
    assert "Every check passed" in dispatch_page  # the file's rows were read; the SKU is a business exception, not a data-quality one
