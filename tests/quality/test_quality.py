"""quality.py: the Great Expectations suites of expectations/*.json over parsed 3PL files.

Issues are checked only through ``.row``, ``.code``, ``.field`` and ``.message`` (their class is being renamed) and
summary entries through ``.expectation``, ``.column``, ``.code``, ``.success`` and ``.unexpected``. GX runs are
shared per module (a run costs a moment), each test asserts on its own part of the outcome.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import REPO
from threepl_bridge.codes import CODES
from threepl_bridge.formats.reader import read_frame, read_rows
from threepl_bridge.quality import EXPECTATIONS_ENV, load_suite, validate_frame, validate_rows
from threepl_bridge.specs.loader import formats_dir, load_layout
from threepl_bridge.specs.models import DelimitedLayout

LA = ZoneInfo("America/Los_Angeles")
LAYOUTS = formats_dir() / "layouts"
DISPATCHES = load_layout(LAYOUTS / "demo3pl_dispatches.yaml")
STOCK = load_layout(LAYOUTS / "demo3pl_stock.yaml")
UOMS = ["EA", "DZ", "CS12"]
DISPATCH_NOW = datetime(2026, 11, 3, tzinfo=timezone.utc)
STOCK_NOW = datetime(2026, 11, 21, tzinfo=timezone.utc)


def payload(header: str, lines: list[str]) -> bytes:
    return (header + "\r\n" + "".join(line + "\r\n" for line in lines)).encode()


DISPATCH_HEADER = "order_ref,line,sku,barcode,qty_shipped,uom,lot,shipped_at,carrier,tracking_no,parcel_id"
DISPATCH_LINES = [
    "WH/OUT/1,1,SKU1,,2,EA,,2026-11-02 10:00:00,,,P1",   # 2 clean (and duplicated by row 10)
    ",2,SKU1,,2,EA,,2026-11-02 10:00:00,,,",            # 3 order_ref empty
    "WH/OUT/1,3,,,2,EA,,2026-11-02 10:00:00,,,",        # 4 sku empty
    "WH/OUT/1,4,SKU1,,,EA,,2026-11-02 10:00:00,,,",     # 5 quantity empty
    "WH/OUT/1,5,SKU1,,2,EA,,,,,",                       # 6 shipped_at empty
    "WH/OUT/1,6,SKU1,,0,EA,,2026-11-02 10:00:00,,,",    # 7 quantity 0
    "WH/OUT/1,7,SKU1,,2,DZ,,2030-01-01 10:00:00,,,",    # 8 shipped in the future
    "WH/OUT/1,8,SKU1,,2,XX,,2026-11-02 10:00:00,,,",    # 9 unknown unit
    "WH/OUT/1,1,SKU1,,5,EA,,2026-11-02 11:00:00,,,P1",  # 10 same order/line/lot/parcel as row 2
    "WH/OUT/1,9,SKU1,,abc,EA,,2026-11-02 10:00:00,,,",  # 11 quantity unreadable (already a parse problem)
    "WH/OUT/1,10,SKU1,,1,EA,,02/11/2026,,,",            # 12 shipped_at unreadable (already a parse problem)
    "WH/OUT/2,1,SKU2,,-3,CS12,L1,2026-11-02 10:00:00,,,",  # 13 negative quantity
    "WH/OUT/2,2,SKU2,,1,,L1,2026-11-02 10:00:00,,,",    # 14 clean, no unit (a null unit is not unknown)
    "WH/OUT/1,1,SKU1,,2,EA,,2026-11-02 10:00:00,,,P2",  # 15 clean: another parcel of row 2's line
]

STOCK_HEADER = "sku,lot,qty_on_hand,uom,status,snapshot_at"
STOCK_LINES = [
    "A,,5,EA,ok,2026-11-20 02:00:00",     # 2 clean (and duplicated by row 9)
    ",,5,EA,ok,2026-11-20 02:00:00",      # 3 sku empty
    "B,,,EA,ok,2026-11-20 02:00:00",      # 4 quantity empty
    "C,,5,EA,ok,",                        # 5 as_of empty
    "D,,-1,EA,ok,2026-11-20 02:00:00",    # 6 negative quantity
    "E,,5,EA,ok,2031-11-20 02:00:00",     # 7 counted in the future
    "F,,5,XX,ok,2026-11-20 02:00:00",     # 8 unknown unit
    "A,,7,EA,ok,2026-11-20 03:00:00",     # 9 same sku and lot as row 2
    "G,,zz,EA,ok,2026-11-20 02:00:00",    # 10 quantity unreadable
    "A,L1,7,EA,ok,2026-11-20 02:00:00",   # 11 clean: same sku, another lot
    "H,,0,DZ,ok,2026-11-20 02:00:00",     # 12 clean: zero on hand is fine
    "K,,1,EA,ok,2026-11-20 99:00:00",     # 13 as_of unreadable
]

DISPATCH_EXPECTED = {
    (3, "DISPATCH_REQUIRED_MISSING", "order_ref"),
    (4, "DISPATCH_REQUIRED_MISSING", "sku"),
    (5, "DISPATCH_REQUIRED_MISSING", "quantity"),
    (6, "DISPATCH_REQUIRED_MISSING", "shipped_at"),
    (7, "DISPATCH_QTY_NOT_POSITIVE", "quantity"),
    (13, "DISPATCH_QTY_NOT_POSITIVE", "quantity"),
    (8, "DISPATCH_FUTURE_DATE", "shipped_at"),
    (9, "DISPATCH_UNKNOWN_UOM", "uom"),
    (2, "DISPATCH_DUPLICATE_ROW", "key"),
    (10, "DISPATCH_DUPLICATE_ROW", "key"),
}
STOCK_EXPECTED = {
    (3, "STOCK_REQUIRED_MISSING", "sku"),
    (4, "STOCK_REQUIRED_MISSING", "quantity"),
    (5, "STOCK_REQUIRED_MISSING", "as_of"),
    (6, "STOCK_QTY_NEGATIVE", "quantity"),
    (7, "STOCK_FUTURE_DATE", "as_of"),
    (8, "STOCK_UNKNOWN_UOM", "uom"),
    (2, "STOCK_DUPLICATE_ROW", "key"),
    (9, "STOCK_DUPLICATE_ROW", "key"),
}


def keyed(issues):
    return {(i.row, i.code, i.field): i.message for i in issues}


@pytest.fixture(scope="module")
def dispatch_rows():
    return read_rows(DISPATCHES, payload(DISPATCH_HEADER, DISPATCH_LINES), LA)


@pytest.fixture(scope="module")
def dispatch_result(dispatch_rows):
    return validate_rows("dispatches", dispatch_rows, parameters={"uom_codes": UOMS, "now": DISPATCH_NOW})


@pytest.fixture(scope="module")
def stock_frame_result():
    """As the stock flow does it: read_frame, lot_key, validate_frame with the unreadable values."""
    frame, problems = read_frame(STOCK, payload(STOCK_HEADER, STOCK_LINES), LA)
    frame["lot_key"] = frame["lot"].fillna("")
    issues, summary = validate_frame("stock", frame, parameters={"uom_codes": UOMS, "now": STOCK_NOW},
                                     parse_failed={(p.row, p.field) for p in problems})
    return problems, issues, summary


@pytest.fixture(scope="module")
def stock_rows_result():
    rows = read_rows(STOCK, payload(STOCK_HEADER, STOCK_LINES), LA)
    return rows, *validate_rows("stock", rows, parameters={"uom_codes": UOMS, "now": STOCK_NOW})


# ------------------------------------------------------------------------------------------ the suites


def test_suite_codes_are_known_row_exception_codes():
    for kind in ("dispatches", "stock"):
        suite = load_suite(kind)
        assert suite["name"] == kind
        for expectation in suite["expectations"]:
            code = expectation["meta"]["code"]
            assert code in CODES, code
            assert CODES[code].object_type == "row"
            assert code.startswith(kind[:5].upper())  # DISPATCH_ / STOCK_


def test_importing_the_quality_and_format_modules_loads_neither_gx_nor_pandas():
    code = ("import sys, threepl_bridge.quality, threepl_bridge.formats.reader, threepl_bridge.formats.codec; "
            "print(sorted(m for m in ('great_expectations', 'pandas') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=REPO, env={"PYTHONPATH": f"{REPO / 'plugins'}:{REPO}", "PATH": "/usr/bin:/bin"})
    assert out.stdout.strip() == "[]"


# ------------------------------------------------------------------------------------------ dispatches


def test_dispatch_parse_problems_are_where_the_fixture_says(dispatch_rows):
    assert {(r.number, p.field) for r in dispatch_rows for p in r.problems} == {(11, "quantity"), (12, "shipped_at")}


def test_dispatch_issues_are_exactly_the_failing_values(dispatch_result):
    issues, _ = dispatch_result
    assert set(keyed(issues)) == DISPATCH_EXPECTED
    assert len(issues) == len(DISPATCH_EXPECTED)  # none twice


@pytest.mark.parametrize(("row", "code", "field", "words"), [
    (3, "DISPATCH_REQUIRED_MISSING", "order_ref", ["order_ref", "empty"]),
    (4, "DISPATCH_REQUIRED_MISSING", "sku", ["sku", "empty"]),
    (5, "DISPATCH_REQUIRED_MISSING", "quantity", ["quantity", "empty"]),
    (6, "DISPATCH_REQUIRED_MISSING", "shipped_at", ["shipped_at", "empty"]),
    (7, "DISPATCH_QTY_NOT_POSITIVE", "quantity", ["quantity 0", "greater than 0"]),
    (13, "DISPATCH_QTY_NOT_POSITIVE", "quantity", ["-3", "greater than 0"]),
    (8, "DISPATCH_FUTURE_DATE", "shipped_at", ["shipped_at", "2030-01-01 18:00:00", "future"]),
    (9, "DISPATCH_UNKNOWN_UOM", "uom", ["'XX'", "['EA', 'DZ', 'CS12']"]),
    (2, "DISPATCH_DUPLICATE_ROW", "key", ["order_ref", "line", "lot", "parcel", "more than once"]),
    (10, "DISPATCH_DUPLICATE_ROW", "key", ["more than once"]),
])
def test_each_dispatch_expectation_yields_an_issue(dispatch_result, row, code, field, words):
    message = keyed(dispatch_result[0])[(row, code, field)]
    for word in words:
        assert word in message, (word, message)


def test_unreadable_dispatch_values_are_not_reported_again(dispatch_result):
    issues, summary = dispatch_result
    assert not [i for i in issues if i.row in (11, 12)]
    # GX did see them as empty: the summary counts them, the issues leave them to the parse problem
    by_column = {(s.expectation, s.column): s for s in summary}
    assert by_column[("expect_column_values_to_not_be_null", "quantity")].unexpected == 2  # rows 5 and 11
    assert by_column[("expect_column_values_to_not_be_null", "shipped_at")].unexpected == 2  # rows 6 and 12


def test_clean_dispatch_rows_have_no_issue(dispatch_result):
    assert not [i for i in dispatch_result[0] if i.row in (14, 15)]


def test_dispatch_summary_has_one_failed_entry_per_expectation_of_the_suite(dispatch_result):
    _, summary = dispatch_result
    suite = load_suite("dispatches")["expectations"]
    expected = [(e["type"], e["kwargs"].get("column") or ",".join(e["kwargs"]["column_list"]), e["meta"]["code"]) for e in suite]
    assert sorted((s.expectation, s.column, s.code) for s in summary) == sorted(expected)
    assert all(s.success is False for s in summary)  # the fixture fails every expectation
    counts = {(s.column, s.code): s.unexpected for s in summary}
    assert counts[("order_ref", "DISPATCH_REQUIRED_MISSING")] == 1
    assert counts[("quantity", "DISPATCH_QTY_NOT_POSITIVE")] == 2
    assert counts[("shipped_at", "DISPATCH_FUTURE_DATE")] == 1
    assert counts[("uom", "DISPATCH_UNKNOWN_UOM")] == 1
    assert counts[("order_ref,line_key,lot_key,parcel_key", "DISPATCH_DUPLICATE_ROW")] == 2


def test_clean_dispatch_file_passes_every_expectation():
    rows = read_rows(DISPATCHES, payload(DISPATCH_HEADER, [DISPATCH_LINES[0], DISPATCH_LINES[-1], DISPATCH_LINES[-2]]), LA)
    issues, summary = validate_rows("dispatches", rows, parameters={"uom_codes": UOMS, "now": DISPATCH_NOW})
    assert issues == []
    assert len(summary) == len(load_suite("dispatches")["expectations"])
    assert all(s.success and s.unexpected == 0 for s in summary)


def test_the_moment_and_the_units_are_parameters(dispatch_rows):
    """The same rows against another run moment and another partner's units."""
    issues, _ = validate_rows("dispatches", dispatch_rows, parameters={"uom_codes": ["XX"], "now": datetime(2031, 1, 1, tzinfo=timezone.utc)})
    found = keyed(issues)
    assert not [k for k in found if k[1] == "DISPATCH_FUTURE_DATE"]
    unknown_units = {k[0] for k in found if k[1] == "DISPATCH_UNKNOWN_UOM"}
    assert unknown_units == {2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 15}  # every row with a unit but XX (9) or none (14)
    assert "['XX']" in found[(2, "DISPATCH_UNKNOWN_UOM", "uom")]


def test_an_expectation_on_a_column_the_frame_lacks_is_skipped():
    layout = DelimitedLayout.model_validate({  # a partner without unit column
        "name": "t_no_uom", "format": "delimited",
        "fields": [
            {"name": "order_ref", "column": "order_ref", "required": True},
            {"name": "sku", "column": "sku", "required": True},
            {"name": "quantity", "column": "qty", "type": "decimal", "required": True},
            {"name": "shipped_at", "column": "shipped_at", "type": "datetime", "required": True},
        ],
    })
    rows = read_rows(layout, b"order_ref,sku,qty,shipped_at,uom\r\nA,S1,1,2026-11-02 10:00:00,XX\r\nA,,1,2026-11-02 10:00:00,XX\r\n", LA)
    issues, summary = validate_rows("dispatches", rows, parameters={"uom_codes": UOMS, "now": DISPATCH_NOW})
    assert [(i.row, i.code, i.field) for i in issues] == [(3, "DISPATCH_REQUIRED_MISSING", "sku")]
    assert "uom" not in {s.column for s in summary}
    assert len(summary) == len(load_suite("dispatches")["expectations"]) - 1


def test_no_rows_no_checks():
    assert validate_rows("dispatches", [], parameters={"uom_codes": UOMS, "now": DISPATCH_NOW}) == ([], [])
    frame, _ = read_frame(STOCK, f"{STOCK_HEADER}\r\n".encode(), LA)
    assert validate_frame("stock", frame, parameters={"uom_codes": UOMS, "now": STOCK_NOW}) == ([], [])


# ------------------------------------------------------------------------------------------------ stock


def test_stock_frame_issues_are_exactly_the_failing_values(stock_frame_result):
    problems, issues, _ = stock_frame_result
    assert {(p.row, p.field) for p in problems} == {(10, "quantity"), (13, "as_of")}
    assert set(keyed(issues)) == STOCK_EXPECTED
    assert len(issues) == len(STOCK_EXPECTED)


def test_stock_rows_give_the_same_issues_as_the_frame(stock_rows_result, stock_frame_result):
    rows, issues, _ = stock_rows_result
    assert {(r.number, p.field) for r in rows for p in r.problems} == {(10, "quantity"), (13, "as_of")}
    assert set(keyed(issues)) == STOCK_EXPECTED
    assert {k: m.replace("-1.0", "-1") for k, m in keyed(issues).items()} == \
        {k: m.replace("-1.0", "-1") for k, m in keyed(stock_frame_result[1]).items()}


@pytest.mark.parametrize(("row", "code", "field", "words"), [
    (3, "STOCK_REQUIRED_MISSING", "sku", ["sku", "empty"]),
    (4, "STOCK_REQUIRED_MISSING", "quantity", ["quantity", "empty"]),
    (5, "STOCK_REQUIRED_MISSING", "as_of", ["as_of", "empty"]),
    (6, "STOCK_QTY_NEGATIVE", "quantity", ["quantity", "-1"]),
    (7, "STOCK_FUTURE_DATE", "as_of", ["as_of", "2031-11-20 10:00:00", "future"]),
    (8, "STOCK_UNKNOWN_UOM", "uom", ["'XX'", "['EA', 'DZ', 'CS12']"]),
    (2, "STOCK_DUPLICATE_ROW", "key", ["sku", "lot", "more than once"]),
    (9, "STOCK_DUPLICATE_ROW", "key", ["more than once"]),
])
def test_each_stock_expectation_yields_an_issue(stock_frame_result, row, code, field, words):
    message = keyed(stock_frame_result[1])[(row, code, field)]
    for word in words:
        assert word in message, (word, message)


def test_negative_stock_message_says_what_the_rule_is(stock_frame_result):
    message = keyed(stock_frame_result[1])[(6, "STOCK_QTY_NEGATIVE", "quantity")]
    assert "-1" in message
    assert "not be negative" in message or "at least 0" in message


def test_unreadable_stock_values_and_zero_quantities_are_not_issues(stock_frame_result):
    _, issues, _ = stock_frame_result
    assert not [i for i in issues if i.row in (10, 11, 12, 13)]


def test_stock_summary(stock_frame_result):
    _, _, summary = stock_frame_result
    suite = load_suite("stock")["expectations"]
    expected = [(e["type"], e["kwargs"].get("column") or ",".join(e["kwargs"]["column_list"]), e["meta"]["code"]) for e in suite]
    assert sorted((s.expectation, s.column, s.code) for s in summary) == sorted(expected)
    assert all(s.success is False for s in summary)  # the fixture fails every expectation
    counts = {(s.expectation, s.column): s.unexpected for s in summary}
    assert counts == {
        ("expect_column_values_to_not_be_null", "sku"): 1,
        ("expect_column_values_to_not_be_null", "quantity"): 2,  # rows 4 and 10: not_null counts the unreadable one too
        ("expect_column_values_to_not_be_null", "as_of"): 2,  # rows 5 and 13
        ("expect_column_values_to_be_between", "quantity"): 1,
        ("expect_column_values_to_be_between", "as_of"): 1,
        ("expect_column_values_to_be_in_set", "uom"): 1,
        ("expect_compound_columns_to_be_unique", "sku,lot_key"): 2,
    }


def test_stock_frame_without_lot_key_and_unit_skips_those_expectations():
    frame, problems = read_frame(STOCK, payload("sku,qty_on_hand,snapshot_at", ["A,-2,2026-11-20 02:00:00", "A,1,2026-11-20 02:00:00"]), LA)
    frame = frame.drop(columns=["uom"])
    issues, summary = validate_frame("stock", frame, parameters={"uom_codes": UOMS, "now": STOCK_NOW},
                                     parse_failed={(p.row, p.field) for p in problems})
    assert [(i.row, i.code, i.field) for i in issues] == [(2, "STOCK_QTY_NEGATIVE", "quantity")]
    assert sorted(s.column for s in summary) == ["as_of", "as_of", "quantity", "quantity", "sku"]
    assert all(s.code != "STOCK_DUPLICATE_ROW" for s in summary)


# ---------------------------------------------------------------------------------------- other suites


def test_suites_come_from_threepl_expectations_dir(tmp_path, monkeypatch):
    suite = {"name": "custom", "expectations": [
        {"type": "expect_column_values_to_match_regex", "kwargs": {"column": "sku", "regex": "^[A-Z0-9-]+$"}, "meta": {"code": "STOCK_FIELD_INVALID"}},
    ]}
    (tmp_path / "custom.json").write_text(json.dumps(suite))
    monkeypatch.setenv(EXPECTATIONS_ENV, str(tmp_path))
    rows = read_rows(STOCK, payload(STOCK_HEADER, ["OK-1,,1,EA,ok,2026-11-20 02:00:00", "bad sku,,1,EA,ok,2026-11-20 02:00:00"]), LA)
    issues, summary = validate_rows("custom", rows, parameters={})
    assert [(i.row, i.code, i.field, i.value) for i in issues] == [(3, "STOCK_FIELD_INVALID", "sku", "bad sku")]
    assert [(s.expectation, s.column, s.code, s.success, s.unexpected) for s in summary] == [
        ("expect_column_values_to_match_regex", "sku", "STOCK_FIELD_INVALID", False, 1)]


def test_an_expectation_without_a_catalogued_code_is_refused_naming_the_suite(tmp_path, monkeypatch):
    rows = read_rows(STOCK, payload(STOCK_HEADER, ["bad sku,,1,EA,ok,2026-11-20 02:00:00"]), LA)
    monkeypatch.setenv(EXPECTATIONS_ENV, str(tmp_path))
    regex = {"type": "expect_column_values_to_match_regex", "kwargs": {"column": "sku", "regex": "^[A-Z]+$"}}
    (tmp_path / "nocode.json").write_text(json.dumps({"name": "nocode", "expectations": [regex]}))
    with pytest.raises(RuntimeError, match="in suite nocode has no meta.code"):
        validate_rows("nocode", rows, parameters={})
    (tmp_path / "badcode.json").write_text(json.dumps({"name": "badcode", "expectations": [{**regex, "meta": {"code": "STOCK_TYPO"}}]}))
    with pytest.raises(KeyError, match="unknown exception code 'STOCK_TYPO'"):
        validate_rows("badcode", rows, parameters={})


# ------------------------------------------------------------------------ row-heavy files (issue 13, defect 8)


def _failing_dispatch_rows(n: int):
    """n copies of one line with every checkable value failing: empty order, zero quantity, unknown unit, future date."""
    return read_rows(DISPATCHES, payload(DISPATCH_HEADER, [",1,SKU1,,0,XX,,2030-01-01 10:00:00,,,P1"] * n), LA)


def test_validation_does_no_pandas_lookup_per_failing_row(monkeypatch):
    """Each failing row costs O(1) plain work: no DataFrame lookup per row (GX's per-row ``.at`` for named index
    columns took most of the time of a 100k-row file). Counted, not timed: the count must not grow with the rows."""
    import pandas as pd

    calls = {"n": 0}
    real = pd.DataFrame._get_value

    def counting(self, *args, **kwargs):
        calls["n"] += 1
        return real(self, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "_get_value", counting)
    counts, found = [], []
    for n in (50, 500):
        calls["n"] = 0
        issues, _ = validate_rows("dispatches", _failing_dispatch_rows(n), parameters={"uom_codes": UOMS, "now": DISPATCH_NOW})
        counts.append(calls["n"])
        found.append(len(issues))
    assert found[1] == 10 * found[0] and found[0] >= 4 * 50  # every failing value of every row is still reported
    assert counts[1] <= counts[0] + 10, counts


def test_a_future_date_with_day_and_month_swapped_gets_the_swapped_date_suggested():
    import json

    line = DISPATCH_LINES[0].split(",")
    at = next(i for i, v in enumerate(line) if v.startswith("2026-"))
    line[at] = "2026-12-10 10:00:00"  # 12 October written day first, read as 10 December: after "now" (3 November)
    rows = read_rows(DISPATCHES, payload(DISPATCH_HEADER, [",".join(line)]), LA)
    issues, _ = validate_rows("dispatches", rows, parameters={"uom_codes": UOMS, "now": DISPATCH_NOW})
    [future] = [i for i in issues if i.code == "DISPATCH_FUTURE_DATE"]
    fix = json.loads(future.suggestion)
    assert (fix["kind"], fix["value"]) == ("date_swapped", "2026-10-12")
    line[at] = "2026-12-25 10:00:00"  # no month 25: not a swapped date
    rows = read_rows(DISPATCHES, payload(DISPATCH_HEADER, [",".join(line)]), LA)
    issues, _ = validate_rows("dispatches", rows, parameters={"uom_codes": UOMS, "now": DISPATCH_NOW})
    assert [i.suggestion for i in issues if i.code == "DISPATCH_FUTURE_DATE"] == [""]
