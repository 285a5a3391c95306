"""Suggested fixes for a record the pipeline could not use, computed from data and never applied: a person reads
them next to the exception and decides (issue 16). Each function answers one question and returns None when the data
does not point at exactly one fix: a guess between two candidates is no suggestion.

Edit distances come from RapidFuzz (a maintained C++ implementation of Levenshtein and its relatives); GS1 check
digits from ``formats.gs1``; what codes look like from ``formats.lookalike``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from threepl_bridge.formats.gs1 import check_digit
from threepl_bridge.formats.lookalike import Lookalikes


@dataclass(frozen=True)
class Suggestion:
    kind: str  # barcode_form, case_barcode, case_quantity, unit_quantity, sku_lookalike, sku_typo, date_swapped
    value: str  # what the field would read if the suggestion is right
    reason: str  # one sentence for the operator

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "value": self.value, "reason": self.reason}


def _gtin14(code: str) -> str | None:
    """A GS1 code as GTIN-14 (EAN-8, UPC-A, EAN-13 and GTIN-14 differ by leading zeros only), None when it is no
    all-digit code of at most 14 digits."""
    text = code.strip()
    return text.zfill(14) if text.isdigit() and 0 < len(text) <= 14 else None


def barcode(given: str, known: Mapping[str, str]) -> Suggestion | None:
    """``given`` is no barcode Odoo knows (``known``: barcode -> SKU). Is it one of them with leading zeros added
    or dropped (a UPC-A read as EAN-13 or GTIN-14), or the case-level GTIN-14 of one (indicator digit 1-8, the item's
    digits, a new check digit)?"""
    key = _gtin14(given)
    if key is None:
        return None
    by_key: dict[str, list[str]] = {}
    for code in known:
        k = _gtin14(code)
        if k is not None:
            by_key.setdefault(k, []).append(code)
    same = by_key.get(key, [])
    if len(same) == 1 and same[0] != given.strip():
        code = same[0]
        return Suggestion("barcode_form", code, f"{given.strip()} is barcode {code} of {known[code]} with leading zeros "
                          f"{'added' if len(given.strip()) > len(code) else 'dropped'} (the same GTIN)")
    if key[0] in "12345678" and check_digit(key[:-1]) == int(key[-1]):
        body = "0" + key[1:13]
        item = by_key.get(body + str(check_digit(body)), [])
        if len(item) == 1:
            code = item[0]
            return Suggestion("case_barcode", code, f"{given.strip()} is a case-level GTIN-14 (indicator {key[0]}) of {known[code]} "
                              f"(item barcode {code}): the line may count cases, not units")
    return None


def quantity(given: Decimal, expected: Decimal, factor: Decimal, *, case_unit: str, unit: str) -> Suggestion | None:
    """``given`` differs from ``expected`` (both in ``unit``): does it match once read in cases of ``factor`` units,
    or the other way round?"""
    if factor <= 1 or given <= 0 or given == expected:
        return None
    if given * factor == expected:
        return Suggestion("case_quantity", f"{expected.normalize():f}", f"{given.normalize():f} {case_unit} of {factor.normalize():f} "
                          f"is {expected.normalize():f} {unit}: the 3PL counted cases where units were expected")
    if given == expected * factor:
        return Suggestion("unit_quantity", f"{expected.normalize():f}", f"{given.normalize():f} {unit} is {expected.normalize():f} "
                          f"{case_unit} of {factor.normalize():f}: the 3PL counted units where cases were expected")
    return None


def sku(given: str, known: Iterable[str], *, lookalikes: Lookalikes | None = None, max_edits: int = 2) -> Suggestion | None:
    """``given`` is no SKU Odoo knows. Does it look like exactly one of ``known`` (case, blanks, homoglyphs, O/0,
    I/l/1), or is exactly one within ``max_edits`` edits (one for codes of up to 5 characters), closer than any other?"""
    from rapidfuzz import process
    from rapidfuzz.distance import DamerauLevenshtein

    codes = list(known)
    twins = (lookalikes or Lookalikes(codes)).of(given) if given.strip() else []
    if len(twins) == 1:
        return Suggestion("sku_lookalike", twins[0], f"{given!r} looks like SKU {twins[0]} (case, blanks or lookalike characters)")
    limit = 1 if len(given.strip()) <= 5 else max_edits
    found = process.extract(given.strip(), codes, scorer=DamerauLevenshtein.distance, score_cutoff=limit, limit=2)
    if not found:
        return None
    best = found[0]
    if len(found) > 1 and found[1][1] == best[1]:
        return None  # two as close: no suggestion
    return Suggestion("sku_typo", best[0], f"{given!r} is {best[1]} edit{'s' if best[1] > 1 else ''} from SKU {best[0]}, the only SKU that close")


def swapped_date(given: date, earliest: date, latest: date) -> Suggestion | None:
    """``given`` lies outside [earliest, latest] (say, after today or before the order): would it lie inside with its
    day and month swapped (a US date read as European or the other way round)?"""
    if earliest <= given <= latest or given.day > 12 or given.day == given.month:
        return None
    try:
        other = given.replace(month=given.day, day=given.month)
    except ValueError:
        return None
    if earliest <= other <= latest:
        return Suggestion("date_swapped", other.isoformat(), f"{given.isoformat()} lies outside {earliest.isoformat()}..{latest.isoformat()}; "
                          f"with day and month swapped it is {other.isoformat()}, inside")
    return None
