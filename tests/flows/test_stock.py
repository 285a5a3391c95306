"""Stock snapshots reconciled with Odoo at the snapshot's time; adjustments; finance reports."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from tests.flows.conftest import dispatch_csv, drop, run_dispatches, run_stock, stock_csv
from threepl_bridge.specs.models import Partner

T_LOCAL = "2026-11-20 22:00:00"  # the 3PL's count, Los Angeles time (2026-11-21 06:00 UTC)
T_UTC = datetime(2026, 11, 21, 6, 0, tzinfo=timezone.utc)
LATER = datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc)


def partner_with(world, **policy) -> Partner:
    data = world.demo.spec.model_dump()
    data["policy"].update(policy)
    return Partner(spec=type(world.demo.spec).model_validate(data), layouts=world.demo.layouts, source=world.demo.source)


def add_stock(world, sku: str, qty: float) -> None:
    [pid] = world.x("product.product", "search", [["default_code", "=", sku]])
    world.x("stock.quant", "create", {"product_id": pid, "location_id": 35, "inventory_quantity_auto_apply": qty}, context={"inventory_mode": True})


@pytest.fixture
def scenario(world):
    """Orders shipped around the count at T, as in the issue: the reconciliation must tell them apart."""
    add_stock(world, "FURN_7777", 50)
    add_stock(world, "FURN_8888", 30)
    world.run_products(world.demo)
    a = world.sell([("FURN_7800", 2)])
    b = world.sell([("E-COM11", 5)])
    y = world.sell([("FURN_7777", 3)])
    x = world.sell([("FURN_8888", 2)])
    world.run_orders(world.demo)
    line = "{name},1,{sku},,{qty},EA,,{when},The Poste,TRK,P1"
    # A shipped before T and posted (dated when it left); B shipped after T
    drop(world, world.demo, "dispatches", "DISPATCH_A.csv", dispatch_csv([line.format(name=a["name"], sku="FURN_7800", qty=2, when="2026-11-20 20:00:00")]))
    drop(world, world.demo, "dispatches", "DISPATCH_B.csv", dispatch_csv([line.format(name=b["name"], sku="E-COM11", qty=5, when="2026-11-21 02:00:00")]))
    run_dispatches(world, world.demo, now=LATER)
    # X shipped before T but posted later, by a partner that keeps Odoo's validation time on the moves
    world.env.frozen_now = datetime(2026, 11, 21, 7, 0)
    late = partner_with(world, backdate_moves=False)
    drop(world, late, "dispatches", "DISPATCH_X.csv", dispatch_csv([line.format(name=x["name"], sku="FURN_8888", qty=2, when="2026-11-20 21:30:00")]))
    run_dispatches(world, late, now=LATER)
    # Y shipped before T; its file is still waiting in the 3PL's folder when the count is reconciled
    drop(world, world.demo, "dispatches", "DISPATCH_Y.csv", dispatch_csv([line.format(name=y["name"], sku="FURN_7777", qty=3, when="2026-11-20 21:00:00")]))
    world.env.frozen_now = datetime(2026, 11, 21, 11, 0)
    drop(world, world.demo, "stock", "STOCK_20261120.csv", stock_csv([
        f"FURN_7800,,498,EA,ok,{T_LOCAL}",      # match (A shipped before T and posted)
        f"E-COM11,,300,EA,ok,{T_LOCAL}",        # match: B left after T, Odoo is computed at T
        f"FURN_5555,LOT-A,40,EA,ok,{T_LOCAL}",  # match, per lot
        f"FURN_5555,LOT-B,60,EA,ok,{T_LOCAL}",
        f"FURN_7777,,47,EA,ok,{T_LOCAL}",       # timing: Y shipped before T, not posted yet
        f"FURN_8888,,28,EA,ok,{T_LOCAL}",       # timing: X shipped before T, posted in Odoo after T
        f"FURN_8855,,395,EA,ok,{T_LOCAL}",      # true shortage of 5 (500.00): waits for approval
        f"FURN_0269,,199,EA,ok,{T_LOCAL}",      # true shortage of 1 (180.00): within tolerance, adjusted
        f"NOPE-1,,5,EA,ok,{T_LOCAL}",           # SKU unknown to Odoo
    ]))                                          # FURN_6666 (100 in Odoo) is absent from the snapshot
    [result] = run_stock(world, world.demo, now=LATER)
    return result


def lines_by_key(world, recon_id: int) -> dict[tuple[str, str], object]:
    return {(l.sku, l.lot): l for l in world.ledger.reconciliation_lines(recon_id)}


def test_each_sku_is_classified(world, scenario):
    lines = lines_by_key(world, scenario.reconciliation_id)
    got = {k: (l.classification, l.threepl_qty, l.odoo_qty, l.timing_qty, l.variance_qty) for k, l in lines.items()}
    D = Decimal
    # FURN_7800 (A shipped before T, posted), E-COM11 (B left after T: Odoo is computed at T) and both lots of
    # FURN_5555 match: matches are counted, not stored one by one
    assert world.ledger.reconciliation_counts(scenario.reconciliation_id) == {
        "absent": 1, "match": 4, "timing": 2, "unknown_sku": 1, "variance": 2}
    assert got == {
        ("FURN_7777", ""): ("timing", D(47), D(50), D(-3), D(0)),
        ("FURN_8888", ""): ("timing", D(28), D(30), D(-2), D(0)),
        ("FURN_8855", ""): ("variance", D(395), D(400), D(0), D(-5)),
        ("FURN_0269", ""): ("variance", D(199), D(200), D(0), D(-1)),
        ("FURN_6666", ""): ("absent", None, D(100), D(0), D(-100)),
        ("NOPE-1", ""): ("unknown_sku", D(5), None, D(0), D(0)),
    }
    assert "DISPATCH_Y.csv, not processed yet" in lines[("FURN_7777", "")].explanation
    assert "posted in Odoo on 2026-11-21 07:00:00" in lines[("FURN_8888", "")].explanation
    assert (lines[("FURN_8855", "")].variance_value, lines[("FURN_0269", "")].variance_value) == (D("-500.00"), D("-180.00"))
    assert scenario.rows == 9 and scenario.exceptions == 1  # the unknown SKU row
    assert scenario.classes == {"absent": 1, "match": 4, "timing": 2, "unknown_sku": 1, "variance": 2}


def test_tolerated_variance_is_adjusted_with_the_snapshot_date_and_larger_ones_wait(world, scenario):
    lines = lines_by_key(world, scenario.reconciliation_id)
    assert (lines[("FURN_0269", "")].approval, bool(lines[("FURN_0269", "")].posting_id)) == ("auto", True)
    assert (lines[("FURN_8855", "")].approval, lines[("FURN_8855", "")].posting_id) == ("pending", None)
    assert scenario.awaiting_approval == 2
    [chair] = world.x("stock.quant", "search_read", [["product_id.default_code", "=", "FURN_0269"], ["location_id", "=", 35]], fields=["quantity"])
    assert chair["quantity"] == 199.0
    [move] = world.x("stock.move", "search_read", [["reference", "=", f"3PL count R{scenario.reconciliation_id} FURN_0269"]], fields=["id", "product_qty"])
    [entry] = world.x("account.move", "search_read", [["stock_move_id", "=", move["id"]]], fields=["date", "amount_total"])
    assert (entry["date"], entry["amount_total"]) == ("2026-11-20", 180.0)  # the count's date, not the day it was posted


def test_approved_lines_post_once(world, scenario):
    from threepl_bridge.flows.stock import approve, post_adjustments

    recon = scenario.reconciliation_id
    assert approve(world.demo, world.odoo, world.ledger, recon, ["FURN_8855"], "finance@acme") == 1
    [drawer] = world.x("stock.quant", "search_read", [["product_id.default_code", "=", "FURN_8855"], ["location_id", "=", 35]], fields=["quantity"])
    assert drawer["quantity"] == 395.0
    assert post_adjustments(world.demo, world.odoo, world.ledger, recon, approved_only=False) == 0  # re-posting adjusts nothing
    assert approve(world.demo, world.odoo, world.ledger, recon, ["FURN_8855"], "finance@acme") == 0
    assert world.x("stock.quant", "search_read", [["product_id.default_code", "=", "FURN_8855"], ["location_id", "=", 35]], fields=["quantity"])[0]["quantity"] == 395.0
    lines = lines_by_key(world, recon)
    assert lines[("FURN_8855", "")].approved_by == "finance@acme"
    assert lines[("FURN_6666", "")].approval == "pending"
    assert world.ledger.reconciliation(recon).state == "awaiting_approval"


def test_reconciled_a_day_late_gives_the_same_answer(world, scenario):
    from threepl_bridge.odoo.stock_queries import StockQueries

    products = {p["id"]: p for p in world.x("product.product", "search_read", [["detailed_type", "=", "product"]], fields=["default_code"])}
    before = StockQueries(world.odoo, world.demo).quantities_at(T_UTC, products)
    # the next day: more desks leave after the count and are posted
    picking = world.sell([("FURN_7800", 7)])
    world.run_orders(world.demo)
    drop(world, world.demo, "dispatches", "DISPATCH_NEXT.csv", dispatch_csv([f"{picking['name']},1,FURN_7800,,7,EA,,2026-11-21 03:00:00,The Poste,T9,P9"]))
    world.env.frozen_now = datetime(2026, 11, 22, 9, 0)
    run_dispatches(world, world.demo, now=datetime(2026, 11, 22, 9, 0, tzinfo=timezone.utc))
    [quant] = world.x("stock.quant", "search_read", [["product_id.default_code", "=", "FURN_7800"], ["location_id", "=", 35]], fields=["quantity"])
    assert quant["quantity"] == 491.0  # today's quant has moved on...
    after = StockQueries(world.odoo, world.demo).quantities_at(T_UTC, products)
    assert after[("FURN_7800", "")] == before[("FURN_7800", "")] == Decimal(498)  # ... the quantity at T has not


def test_reports_are_self_contained_and_deterministic(world, scenario):
    from threepl_bridge.reports import write_reconciliation_report

    paths = [__import__("pathlib").Path(p) for p in scenario.reports]
    assert [p.suffix for p in paths] == [".html", ".csv", ".xlsx"]
    first = [p.read_bytes() for p in paths]
    again = write_reconciliation_report(world.ledger, scenario.reconciliation_id, paths[0].parents[1])
    assert [p.read_bytes() for p in again] == first  # deterministic, the XLSX too
    page = paths[0].read_text()
    assert "<link" not in page and "<script" not in page and "http" not in page and "<svg" in page  # opens offline, with its chart
    for text in ("Timing differences", "Top variances", "Rows of the file not taken", "Data quality", "STOCK_UNKNOWN_SKU",
                 "The 3PL holds a SKU Odoo does not know", "-500.00", "Value <span class=\"unit\">(USD)</span>", "-29,380.00 USD", "values must never be null"):
        assert text in page, text
    assert "expect_column_values" not in page  # checks in plain words (GX's own descriptions), not by expectation name
    rows = paths[1].read_text().splitlines()
    assert rows[0].startswith("section,c1,c2")
    assert any(r.startswith("top_variances,FURN_8855,,-5,") for r in rows), rows


def test_bad_snapshot_rows_are_exceptions_and_the_rest_reconciles(world):
    drop(world, world.demo, "stock", "STOCK_BAD.csv", stock_csv([
        "FURN_7800,,500,EA,ok,2026-11-20 02:00:00",
        "FURN_7800,,500,EA,ok,2026-11-20 02:00:00",
        ",,3,EA,ok,2026-11-20 02:00:00",
        "E-COM11,,-1,EA,ok,2026-11-20 02:00:00",
        "FURN_8855,,many,EA,ok,2026-11-20 02:00:00",
    ]))
    [result] = run_stock(world, world.demo, now=LATER)
    codes = {o.row_number: o.code for o in world.ledger.row_outcomes(result.exchange_id)}
    assert codes == {2: "STOCK_DUPLICATE_ROW", 3: "STOCK_DUPLICATE_ROW", 4: "STOCK_REQUIRED_MISSING", 5: "STOCK_QTY_NEGATIVE", 6: "STOCK_FIELD_INVALID"}


def test_dispatch_lines_for_skus_odoo_does_not_know_do_not_break_the_reconciliation(world):
    world.run_products(world.demo)
    picking = world.sell([("FURN_7800", 1)])
    world.run_orders(world.demo)
    drop(world, world.demo, "dispatches", "DISPATCH_X.csv", dispatch_csv([
        f"{picking['name']},1,FURN_7800,,1,EA,,2026-11-20 01:10:00,The Poste,T1,P1",
        f"{picking['name']},2,GHOST-1,,1,EA,,2026-11-20 01:10:00,The Poste,T1,P1",
    ]))
    run_dispatches(world, world.demo, now=LATER)
    drop(world, world.demo, "stock", "STOCK_G.csv", stock_csv(["FURN_7800,,499,EA,ok,2026-11-20 02:00:00"]))
    [result] = run_stock(world, world.demo, now=LATER)
    lines = lines_by_key(world, result.reconciliation_id)
    assert lines[("FURN_7800", "")].classification == "timing"  # the held order's desk left before the count
    assert ("GHOST-1", "") not in lines


def _without_unit_column(world, **document) -> Partner:
    """demo3pl with a stock layout that has no unit column (and optionally a default unit for the document)."""
    layout = world.demo.layouts["demo3pl_stock"]
    no_uom = layout.model_copy(update={"fields": tuple(f for f in layout.fields if f.name != "uom")})
    data = world.demo.spec.model_dump()
    data["documents"]["stock"].update(document)
    return Partner(spec=type(world.demo.spec).model_validate(data), layouts={**world.demo.layouts, "demo3pl_stock": no_uom},
                   source=world.demo.source)


@pytest.mark.parametrize("default_uom, counted, expected", [(None, "500", None), ("DZ", "41", Decimal(492))])
def test_a_stock_layout_without_a_unit_column_counts_in_the_products_or_the_default_unit(world, default_uom, counted, expected):
    partner = _without_unit_column(world, **({"default_uom": default_uom} if default_uom else {}))
    drop(world, partner, "stock", "STOCK_NOUOM.csv",
         f"sku,lot,qty_on_hand,status,snapshot_at\r\nFURN_7800,,{counted},ok,2026-11-20 02:00:00\r\n".encode())
    [result] = run_stock(world, partner, now=LATER)
    assert (result.state, result.exceptions) == ("input_processed", 0)
    line = lines_by_key(world, result.reconciliation_id).get(("FURN_7800", ""))
    if expected is None:
        assert line is None  # 500 units counted, 500 in Odoo: a plain match is only counted
    else:
        assert (line.threepl_qty, line.odoo_qty, line.classification) == (expected, Decimal(500), "variance")


def test_a_default_unit_must_be_one_of_the_partners_codes(world):
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="default_uom: 'BOX' is not one of the uom codes"):
        _without_unit_column(world, default_uom="BOX")


def test_a_partner_with_two_warehouses_is_counted_over_both_and_a_shortfall_comes_from_where_the_stock_is(world):
    """demo3pl runs 3PL and WH. The count covers both warehouses; a product held only in WH, counted 3 short, is
    taken down in WH (never a negative quant in the first warehouse named)."""
    data = world.demo.spec.model_dump()
    data["odoo"]["warehouses"] = ["3PL", "WH"]
    partner = Partner(spec=type(world.demo.spec).model_validate(data), layouts=world.demo.layouts, source=world.demo.source)
    pid = world.x("product.product", "create", {"name": "Spare shelf", "default_code": "SHELF-WH", "detailed_type": "product", "standard_price": 2.0})
    world.x("stock.quant", "create", {"product_id": pid, "location_id": 8, "inventory_quantity_auto_apply": 10}, context={"inventory_mode": True})
    held = world.x("stock.quant", "search_read", [["location_id", "=", 35], ["quantity", "!=", 0]], fields=["product_id", "lot_id", "quantity"])
    sku = {p["id"]: p["default_code"] for p in world.x("product.product", "read", sorted({q["product_id"][0] for q in held}), fields=["default_code"])}
    at = "2026-11-20 01:10:00"  # Los Angeles: after the stock above was booked (09:00 UTC)
    lines = [f"{sku[q['product_id'][0]]},{q['lot_id'][1] if q['lot_id'] else ''},{q['quantity']:g},EA,available,{at}" for q in held]
    drop(world, partner, "stock", "STOCK_TWO.csv", stock_csv([*lines, f"SHELF-WH,,7,EA,available,{at}"]))
    [result] = run_stock(world, partner)
    assert (result.state, result.exceptions, result.classes) == ("input_processed", 0, {"match": 7, "variance": 1}), result
    [line] = world.ledger.reconciliation_lines(result.reconciliation_id)
    assert (line.sku, line.odoo_qty, line.variance_qty, line.approval, result.adjusted) == ("SHELF-WH", Decimal(10), Decimal(-3), "auto", 1)
    quants = world.x("stock.quant", "search_read", [["product_id", "=", pid]], fields=["location_id", "quantity"])
    assert {q["location_id"][0]: q["quantity"] for q in quants if q["quantity"]} == {8: 7.0}


def test_a_rejected_line_stays_an_exception_until_approved_later(world, scenario):
    from threepl_bridge.flows.adjustments import decide, pending_options
    from threepl_bridge.flows.stock import approve

    recon = scenario.reconciliation_id
    asked = pending_options(world.ledger, [recon])
    drawer = [o for o in asked if " FURN_8855:" in o]
    assert len(drawer) == 1
    assert decide(world.demo, world.odoo, world.ledger, [], drawer, "jane@finance") == {"posted": 0, "rejected": 1}
    lines = lines_by_key(world, recon)
    assert (lines[("FURN_8855", "")].approval, lines[("FURN_8855", "")].approved_by, lines[("FURN_8855", "")].posting_id) == ("rejected", "jane@finance", None)
    assert {e.object_ref for e in world.ledger.open_exceptions("demo3pl") if e.code == "STOCK_VARIANCE_REJECTED"} == {f"R{recon} FURN_8855|"}
    assert approve(world.demo, world.odoo, world.ledger, recon, ["FURN_8855"], "omar@finance") == 1  # the recount stood: approved by params
    assert lines_by_key(world, recon)[("FURN_8855", "")].approval == "approved"
    assert not [e for e in world.ledger.open_exceptions("demo3pl") if e.code == "STOCK_VARIANCE_REJECTED"]
    [closed] = [e for e in world.ledger.find_exceptions(partner="demo3pl", status=None) if e.code == "STOCK_VARIANCE_REJECTED"]
    assert closed.resolution == "approved by omar@finance"
