"""Suggested fixes: each points at exactly one fix the data supports, or at none."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from threepl_bridge.formats import suggest
from threepl_bridge.formats.gs1 import check_digit

BARCODES = {"036000291452": "FURN_7800", "4006381333931": "E-COM11", "96385074": "FURN_8855"}


def test_a_barcode_with_leading_zeros_added_or_dropped_is_the_same_gtin():
    upc_as_ean = suggest.barcode("0036000291452", BARCODES)
    assert (upc_as_ean.kind, upc_as_ean.value) == ("barcode_form", "036000291452") and "FURN_7800" in upc_as_ean.reason
    assert "added" in upc_as_ean.reason
    dropped = suggest.barcode("36000291452", BARCODES)
    assert (dropped.value, "dropped" in dropped.reason) == ("036000291452", True)
    assert suggest.barcode("00000096385074", BARCODES).value == "96385074"  # EAN-8 as GTIN-14


def test_a_case_level_gtin14_points_at_its_item_and_says_cases():
    body = "1" + "400638133393"  # indicator 1, the EAN-13's digits without its check digit
    case = body + str(check_digit(body))
    found = suggest.barcode(case, BARCODES)
    assert (found.kind, found.value) == ("case_barcode", "4006381333931") and "cases" in found.reason
    wrong_check = body + str((check_digit(body) + 1) % 10)
    assert suggest.barcode(wrong_check, BARCODES) is None  # not a valid GTIN-14: no guess


def test_no_barcode_suggestion_without_exactly_one_candidate():
    assert suggest.barcode("123456789012", BARCODES) is None
    assert suggest.barcode("ABC-123", BARCODES) is None
    assert suggest.barcode("036000291452", BARCODES) is None  # it is the known one: nothing to fix
    twice = {"036000291452": "A", "0036000291452": "B"}
    assert suggest.barcode("00036000291452", twice) is None


def test_a_quantity_that_matches_once_read_in_cases_or_units():
    cases = suggest.quantity(Decimal("2"), Decimal("24"), Decimal("12"), case_unit="CS12", unit="EA")
    assert (cases.kind, cases.value) == ("case_quantity", "24") and "2 CS12 of 12 is 24 EA" in cases.reason
    units = suggest.quantity(Decimal("36"), Decimal("3"), Decimal("12"), case_unit="CS12", unit="EA")
    assert (units.kind, units.value) == ("unit_quantity", "3")
    assert suggest.quantity(Decimal("5"), Decimal("24"), Decimal("12"), case_unit="CS12", unit="EA") is None
    assert suggest.quantity(Decimal("24"), Decimal("24"), Decimal("12"), case_unit="CS12", unit="EA") is None
    assert suggest.quantity(Decimal("2"), Decimal("2"), Decimal("1"), case_unit="EA", unit="EA") is None


SKUS = ["FURN_7800", "FURN_7801", "E-COM11", "FURN_8855", "DESK-42"]


def test_a_sku_that_looks_like_exactly_one_or_is_one_typo_from_it():
    looks = suggest.sku("furn_78OO ", SKUS)
    assert (looks.kind, looks.value) == ("sku_lookalike", "FURN_7800")
    typo = suggest.sku("FURN_8585", SKUS)  # two digits transposed: one edit (Damerau)
    assert (typo.kind, typo.value) == ("sku_typo", "FURN_8855") and "1 edit " in typo.reason
    assert suggest.sku("FURN_780", SKUS) is None  # one edit from 7800 and from 7801: no guess
    assert suggest.sku("TABLE_0001", SKUS) is None
    assert suggest.sku("DESK-24", SKUS).value == "DESK-42"  # a transposition is one edit
    assert suggest.sku("BA21", ["AB12", "XY99"]) is None  # codes of up to 5 characters get one edit only (this is two)
    assert suggest.sku("AB13", ["AB12", "XY99"]).value == "AB12"


def test_a_date_that_fits_only_with_day_and_month_swapped():
    found = suggest.swapped_date(date(2026, 2, 11), date(2026, 11, 1), date(2026, 11, 30))
    assert (found.kind, found.value) == ("date_swapped", "2026-11-02")
    assert suggest.swapped_date(date(2026, 11, 2), date(2026, 11, 1), date(2026, 11, 30)) is None  # inside already
    assert suggest.swapped_date(date(2026, 3, 14), date(2026, 11, 1), date(2026, 11, 30)) is None  # 14 is no month
    assert suggest.swapped_date(date(2026, 5, 5), date(2026, 11, 1), date(2026, 11, 30)) is None
    assert suggest.swapped_date(date(2026, 2, 7), date(2026, 11, 1), date(2026, 11, 30)) is None  # swapped: July, outside
