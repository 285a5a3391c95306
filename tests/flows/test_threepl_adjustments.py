"""The 3PL's own stock adjustments: posted within tolerance, waiting for finance above it, explained by a later
count (stand-in, contract F6), each posted once."""

from __future__ import annotations

from tests.flows.conftest import ADJUST_HEADER, RUN_AT, csv_file, drop, outcomes, run_kind, run_stock, stock_csv
from threepl_bridge.flows.adjustments import approve
from threepl_bridge.ledger.states import State


def adjusted(world, name: str, lines: list[str]) -> None:
    drop(world, world.demo, "adjustments", name, csv_file(ADJUST_HEADER, lines))


def inventory_moves(world) -> list[tuple[str, float, str]]:
    found = world.x("stock.move", "search_read", [["is_inventory", "=", True], ["reference", "like", "3PL count R"]], fields=["reference", "product_qty", "date"])
    return sorted((m["reference"], m["product_qty"], m["date"][:10]) for m in found)


def on_hand(world, sku: str) -> float:
    [p] = world.x("product.product", "search_read", [["default_code", "=", sku]], fields=["qty_available"], context={"location": 35})
    return p["qty_available"]


def test_within_tolerance_posted_dated_on_the_moment_above_it_waits_for_approval_then_posts_once(world):
    before = on_hand(world, "FURN_8855"), on_hand(world, "FURN_7800")
    adjusted(world, "ADJUST_1.csv", ["1,FURN_8855,,,-2,EA,DMG,forklift,2026-11-12 08:00:00",   # 2 x 100: within 5 units / 250
                                     "2,FURN_7800,,,-3,EA,SHR,,2026-11-12 09:00:00"])          # 3 x 300 = 900: above
    [result] = run_kind(world, world.demo, "adjustments")
    assert (result.state, result.posted, result.adjusted, result.awaiting_approval) == (State.INPUT_PROCESSED, 2, 1, 1)
    lines = {l.sku: l for l in world.ledger.reconciliation_lines(result.reconciliation_id)}
    assert (lines["FURN_8855"].classification, lines["FURN_8855"].approval) == ("adjusted", "auto")
    assert "DMG (damage, forklift)" in lines["FURN_8855"].explanation
    assert lines["FURN_7800"].approval == "pending"
    assert on_hand(world, "FURN_8855") == before[0] - 2 and on_hand(world, "FURN_7800") == before[1]
    [entry] = world.x("account.move", "search_read", [["ref", "like", "3PL count R"]], fields=["date", "amount_total"])
    assert entry["date"] == "2026-11-12"
    assert approve(world.demo, world.odoo, world.ledger, result.reconciliation_id, ["FURN_7800"], "jane@finance") == 1
    assert approve(world.demo, world.odoo, world.ledger, result.reconciliation_id, ["FURN_7800"], "jane@finance") == 0  # never twice
    assert on_hand(world, "FURN_7800") == before[1] - 3
    assert len(inventory_moves(world)) == 2


def test_unmapped_reason_unknown_sku_and_a_lot_tracked_line_without_lot_are_exceptions(world):
    adjusted(world, "ADJUST_X.csv", ["1,FURN_8855,,,1,EA,XXX,,2026-11-12 08:00:00", "2,NOPE,,,1,EA,FND,,2026-11-12 08:00:00",
                                     "3,FURN_5555,,,1,EA,FND,,2026-11-12 08:00:00", "4,FURN_8855,,,0,EA,RC,,2026-11-12 08:00:00"])
    [result] = run_kind(world, world.demo, "adjustments")
    assert outcomes(world, result) == {2: ("exception", "ADJUSTMENT_REASON_UNKNOWN"), 3: ("exception", "ADJUSTMENT_UNKNOWN_SKU"),
                                       4: ("exception", "ADJUSTMENT_LOT_MISSING"), 5: ("exception", "ADJUSTMENT_QTY_INVALID")}
    assert result.reconciliation_id is None and inventory_moves(world) == []


def test_a_rerun_or_a_copy_adjusts_nothing_twice(world):
    from threepl_bridge.flows.exchange import process_exchange

    adjusted(world, "ADJUST_1.csv", ["1,FURN_8855,,,2,EA,FND,found pallet,2026-11-12 08:00:00"])
    [first] = run_kind(world, world.demo, "adjustments")
    again = process_exchange(__import__("threepl_bridge.flows.threepl_adjustments", fromlist=["ADJUSTMENTS"]).ADJUSTMENTS, world.demo,
                             first.exchange_id, transport=world.transport(world.demo), ledger=world.ledger, client=world.odoo, now=RUN_AT)
    assert again.state == State.INPUT_PROCESSED
    adjusted(world, "ADJUST_1.csv", ["1,FURN_8855,,,2,EA,FND,found pallet,2026-11-12 08:00:00"])  # the same file dropped again
    [copy] = run_kind(world, world.demo, "adjustments")
    assert copy.state == State.INPUT_DUPLICATE
    assert [m[1] for m in inventory_moves(world)] == [2.0]


def test_a_count_after_an_adjustment_waiting_for_approval_is_timing_not_a_second_variance(world):
    before = on_hand(world, "FURN_7800")
    adjusted(world, "ADJUST_1.csv", ["1,FURN_7800,,,-3,EA,DMG,,2026-11-12 08:00:00"])  # waits: 900 > 250
    [adj] = run_kind(world, world.demo, "adjustments")
    assert adj.awaiting_approval == 1
    drop(world, world.demo, "stock", "STOCK_1.csv", stock_csv([f"FURN_7800,,{before - 3:g},EA,available,2026-11-19 23:00:00"]))
    [count] = run_stock(world, world.demo)
    [line] = [l for l in world.ledger.reconciliation_lines(count.reconciliation_id) if l.sku == "FURN_7800"]
    assert (line.classification, line.variance_qty) == ("timing", 0)
    assert "adjusted by R" in line.explanation


def test_the_semicolon_partner_sends_signed_decimal_comma_quantities_and_german_reasons(world):
    before = on_hand(world, "FURN_8855")
    text = "Artikel;Charge;Menge;ME;Grund;Bemerkung;Zeitpunkt\nFURN_8855;;-1,0;EA;BRUCH;Palette gekippt;12.11.2026 09:00\n"
    drop(world, world.semi, "adjustments", "KORR_1.txt", text.encode("iso-8859-1"))
    [result] = run_kind(world, world.semi, "adjustments")
    assert (result.posted, result.adjusted, result.awaiting_approval) == (1, 0, 1)  # semi3pl has no tolerance: every line waits
    [line] = world.ledger.reconciliation_lines(result.reconciliation_id)
    assert "BRUCH (damage, Palette gekippt) 2026-11-12 08:00 UTC" in line.explanation  # 09:00 in Berlin
    assert line.variance_qty == -1
    assert approve(world.semi, world.odoo, world.ledger, result.reconciliation_id, None, "jane@finance") == 1
    assert on_hand(world, "FURN_8855") == before - 1
