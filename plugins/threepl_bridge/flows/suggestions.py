"""Suggested fixes for dispatch rows, computed from data and stored with the row's exception (shown in the
exceptions view and the CLI), never applied by themselves: a person decides.

- a SKU or barcode that is not on the picking: one of the picking's products, misspelt, in lookalike characters or
  in another GS1 form (``formats.suggest.sku`` / ``barcode``);
- an over-shipment that is exactly the open quantity times the factor of the 3PL's case unit: cases reported where
  units were shipped (a shortfall the other way round is a partial shipment and a backorder, not an exception);
- an order reference Odoo does not know that is, misspelt or without its prefix, exactly one of the pickings
  released to this 3PL and not dispatched yet;
- an order that was never released to this 3PL: the picking's operation type (another warehouse's order?).
"""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal
from typing import Any

from threepl_bridge.codes import Problem
from threepl_bridge.formats import suggest
from threepl_bridge.formats.suggest import Suggestion
from threepl_bridge.specs.models import Partner


def attach(problem: Problem, found: Suggestion | None) -> Problem:
    return dataclasses.replace(problem, suggestion=json.dumps(found.as_dict())) if found else problem


def product_on_picking(problem: Problem, values: dict[str, Any], products: list[dict[str, Any]]) -> Problem:
    """The products of the picking: is the row's SKU or barcode one of theirs, misspelt or in another GS1 form?"""
    if values.get("sku"):
        return attach(problem, suggest.sku(str(values["sku"]), sorted({p["default_code"] for p in products if p.get("default_code")})))
    if values.get("barcode"):
        return attach(problem, suggest.barcode(str(values["barcode"]), {p["barcode"]: p.get("default_code") or str(p["id"]) for p in products
                                                                         if p.get("barcode")}))
    return problem


def case_or_unit(problem: Problem, partner: Partner, shipped: Decimal, open_qty: Decimal, unit: str, given: Any, code: Any) -> Problem:
    """``shipped`` (``given`` of the 3PL's unit ``code``, in the move's unit) is more than is open: is it the open
    quantity exactly, read as cases of the 3PL's unit instead of single units?"""
    factors = {u.code: u.factor for u in partner.spec.uom}
    factor = factors.get(str(code or ""), Decimal(1))
    base = next((c for c, f in factors.items() if f == 1), "units")
    if factor > 1 and open_qty > 0 and shipped == open_qty * factor:
        return attach(problem, Suggestion("cases_for_units", f"{given} {code} = {shipped.normalize():f}",
                                          f"{given} {code} is {shipped.normalize():f} {unit}, exactly {factor.normalize():f} times the "
                                          f"{open_qty.normalize():f} {unit} open: the 3PL reported cases where it shipped "
                                          f"{open_qty.normalize():f} {base}? (then {open_qty.normalize():f} {base})"))
    return problem


def order_ref(problem: Problem, given: str, open_refs: list[str]) -> Problem:
    """An unknown order reference against the pickings released to this 3PL and not dispatched yet."""
    ends = [ref for ref in open_refs if ref.endswith(given) and len(given) >= 4 and ref != given]
    if len(ends) == 1:
        return attach(problem, Suggestion("order_ref_prefix", ends[0], f"{given!r} is the end of {ends[0]}, released to this 3PL and not "
                                                                        "dispatched yet: the 3PL dropped the prefix?"))
    found = suggest.sku(given, open_refs) if open_refs else None
    if found:
        found = Suggestion("order_ref_" + found.kind.removeprefix("sku_"), found.value,
                           found.reason.replace("SKU", "open order") + " released to this 3PL")
    return attach(problem, found)


def other_operation(problem: Problem, picking: dict[str, Any], partner: str) -> Problem:
    """A picking that exists in Odoo but was never released to this 3PL: name its operation type."""
    kind = picking.get("picking_type_id")
    if not kind or not isinstance(kind, list | tuple) or len(kind) < 2:
        return problem
    return attach(problem, Suggestion("other_warehouse", str(kind[1]), f"{picking['name']} is a picking of {kind[1]!r} that was never "
                                                                      f"released to {partner}: if that is another warehouse, the 3PL "
                                                                      "shipped another site's order; if not, release it first"))
