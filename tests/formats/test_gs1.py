"""formats/gs1.py: GS1 check digits of EAN-8, UPC-A, EAN-13 and GTIN-14 barcodes."""

from __future__ import annotations

import pytest

from threepl_bridge.formats.gs1 import check_digit, gs1_problem

VALID = ["96385074", "036000291452", "4006381333931", "5901234123457", "00012345600012", "10012345678902"]


@pytest.mark.parametrize("barcode", VALID)
def test_check_digit_of_valid_codes(barcode):
    assert check_digit(barcode[:-1]) == int(barcode[-1])
    assert gs1_problem(barcode) is None


@pytest.mark.parametrize(("barcode", "message"), [
    ("96385075", "EAN-8 96385075 has check digit 5, expected 4"),
    ("036000291453", "UPC-A 036000291453 has check digit 3, expected 2"),
    ("4006381333932", "EAN-13 4006381333932 has check digit 2, expected 1"),
    ("00012345600013", "GTIN-14 00012345600013 has check digit 3, expected 2"),
])
def test_wrong_check_digit_is_explained(barcode, message):
    assert gs1_problem(barcode) == message


def test_check_digit_zero():
    # weights from the left 1,3,1,3...: 5*1 + 5*3 = 20 -> check digit 0 (not 10)
    assert check_digit("550000000000") == 0
    assert gs1_problem("5500000000000") is None
    assert gs1_problem("5500000000001") == "EAN-13 5500000000001 has check digit 1, expected 0"


@pytest.mark.parametrize("barcode", ["", "ABC-123", "4006381333931X", "1234567", "123456789", "400638133393123", "40063 81333931"])
def test_codes_that_are_not_gs1_shaped_are_not_checked(barcode):
    assert gs1_problem(barcode) is None
