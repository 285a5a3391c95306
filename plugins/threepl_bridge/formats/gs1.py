"""GS1 check digits (EAN-8, UPC-A, EAN-13, GTIN-14). Odoo does not verify them; 3PL scanners do."""

from __future__ import annotations

GS1_LENGTHS = {8: "EAN-8", 12: "UPC-A", 13: "EAN-13", 14: "GTIN-14"}


def check_digit(body: str) -> int:
    """The check digit for the digits ``body`` (everything but the last digit)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def gs1_problem(barcode: str) -> str | None:
    """None when ``barcode`` is a valid GS1 code or not a GS1-shaped code at all (e.g. an internal Code 128);
    otherwise why it is wrong."""
    if not barcode.isdigit() or len(barcode) not in GS1_LENGTHS:
        return None
    expected = check_digit(barcode[:-1])
    if int(barcode[-1]) != expected:
        return f"{GS1_LENGTHS[len(barcode)]} {barcode} has check digit {barcode[-1]}, expected {expected}"
    return None
