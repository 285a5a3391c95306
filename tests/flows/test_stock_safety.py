"""Nothing written off by mistake (issue 13, defects 1 and 4): a rejected row never becomes a write-off, a snapshot
without a valid row is never reconciled against the wall clock, a lot-tracked product counted without a lot is not
adjusted, and an adjustment whose outcome is unknown, refused or hit by a long 502 is applied exactly once.

Every test checks Odoo's real quants in the stand-in, its inventory moves and the ledger's lines and postings."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from decimal import Decimal

import pytest

from tests.faults import FaultyOdoo
from tests.flows.conftest import RUN_AT, drop, run_stock, stock_csv
from threepl_bridge.odoo.client import OdooClient
from threepl_bridge.odoo.errors import OdooTransientError

AT = "2026-11-20 01:10:00"  # Los Angeles: after the stand-in's stock was booked (09:00 UTC), before RUN_AT
STOCK = 35  # 3PL/Stock


# ------------------------------------------------------------------------------------------------ helpers


def product(world, sku: str, *, qty: float, cost: float, tracking: str = "none", lot: str | None = None) -> int:
    pid = world.x("product.product", "create", {"name": sku, "default_code": sku, "detailed_type": "product", "standard_price": cost,
                                                "tracking": tracking})
    values = {"product_id": pid, "location_id": STOCK, "inventory_quantity_auto_apply": qty}
    if lot:
        values["lot_id"] = world.x("stock.lot", "create", {"name": lot, "product_id": pid})
    world.x("stock.quant", "create", values, context={"inventory_mode": True})
    return pid


def held_rows(world, *, skip: tuple[str, ...] = ()) -> list[str]:
    """A snapshot line for every quant Odoo holds in 3PL/Stock (all match), but the SKUs in ``skip``."""
    held = world.x("stock.quant", "search_read", [["location_id", "=", STOCK], ["quantity", "!=", 0]], fields=["product_id", "lot_id", "quantity"])
    sku = {p["id"]: p["default_code"] for p in world.x("product.product", "read", sorted({q["product_id"][0] for q in held}), fields=["default_code"])}
    return [f"{sku[q['product_id'][0]]},{q['lot_id'][1] if q['lot_id'] else ''},{q['quantity']:g},EA,ok,{AT}"
            for q in held if sku[q["product_id"][0]] not in skip]


def quants(world, sku: str) -> dict[str, float]:
    """lot name ('' for none) -> quantity of the product's quants in 3PL/Stock."""
    found = world.x("stock.quant", "search_read", [["product_id.default_code", "=", sku], ["location_id", "=", STOCK]],
                    fields=["lot_id", "quantity"])
    return {(q["lot_id"][1] if q["lot_id"] else ""): q["quantity"] for q in found}


def count_moves(world, sku: str) -> int:
    """Inventory moves this pipeline made for the product (their reference is '3PL count R<n> <sku>...')."""
    return len(world.x("stock.move", "search", [["product_id.default_code", "=", sku], ["is_inventory", "=", True],
                                                ["reference", "like", "3PL count R"]]))


def all_adjustment_moves(world) -> int:
    return len(world.x("stock.move", "search", [["is_inventory", "=", True], ["reference", "like", "3PL count R"]]))


def lines(world, recon_id: int) -> dict[tuple[str, str], object]:
    return {(l.sku, l.lot): l for l in world.ledger.reconciliation_lines(recon_id)}


def row_codes(world, result) -> dict[int, str]:
    return {o.row_number: o.code for o in world.ledger.row_outcomes(result.exchange_id)}


@pytest.fixture
def proxy(world):
    """The world's Odoo behind the fault proxy; ``proxy.client`` talks through it (no back-off between retries)."""
    with FaultyOdoo(world.odoo.settings.url) as faulty:
        settings = dataclasses.replace(world.odoo.settings, url=faulty.url, backoff=0.0)
        faulty.client = OdooClient(settings)
        faulty.world = dataclasses.replace(world, odoo=faulty.client)
        yield faulty


# ------------------------------------------------------------------ defect 1: a rejected row is never a write-off


@pytest.mark.parametrize("bad", [
    '"CHEAP-1",,"2,5",EA,ok,{at}',        # decimal comma
    "CHEAP-1,,-1,EA,ok,{at}",            # negative
    "CHEAP-1,,3,EA,ok,2027-01-01 00:00:00",  # future date
    "CHEAP-1,,3,BOX,ok,{at}",            # unknown unit
    "CHEAP-1,,3,EA,ok,20/11/2026 01:10",  # timestamp in another format
])
def test_a_rejected_row_is_never_absent_and_never_adjusted(world, bad):
    """Defect 1: CHEAP-1 (3 in Odoo, 30.00: within tolerance) has only a rejected row. Today it counted as absent,
    absent means zero, and it was written off automatically."""
    product(world, "CHEAP-1", qty=3, cost=10)
    drop(world, world.demo, "stock", "STOCK_REJ.csv", stock_csv([*held_rows(world, skip=("CHEAP-1",)), bad.format(at=AT)]))
    [result] = run_stock(world, world.demo)
    assert result.state == "input_processed" and result.exceptions == 1
    [bad_row] = [n for n, c in row_codes(world, result).items() if c]
    line = lines(world, result.reconciliation_id)[("CHEAP-1", "")]
    assert (line.classification, line.approval, line.variance_qty, line.posting_id) == ("rejected", "none", Decimal(0), None)
    assert f"row {bad_row}" in line.explanation and row_codes(world, result)[bad_row] in line.explanation
    assert quants(world, "CHEAP-1") == {"": 3.0} and count_moves(world, "CHEAP-1") == 0
    assert result.adjusted == 0 and all_adjustment_moves(world) == 0


def test_duplicate_rows_of_a_product_are_not_counted_and_not_adjusted(world):
    product(world, "CHEAP-1", qty=3, cost=10)
    drop(world, world.demo, "stock", "STOCK_DUP.csv", stock_csv([*held_rows(world, skip=("CHEAP-1",)),
                                                                 f"CHEAP-1,,1,EA,ok,{AT}", f"CHEAP-1,,1,EA,ok,{AT}"]))
    [result] = run_stock(world, world.demo)
    line = lines(world, result.reconciliation_id)[("CHEAP-1", "")]
    assert (line.classification, line.approval, line.variance_qty) == ("rejected", "none", Decimal(0))
    assert "STOCK_DUPLICATE_ROW" in line.explanation
    assert quants(world, "CHEAP-1") == {"": 3.0} and all_adjustment_moves(world) == 0


def test_a_rejected_lot_row_keeps_only_that_lot_out(world):
    """FURN_5555 is lot-tracked: a rejected LOT-A row keeps LOT-A out; LOT-B, counted 2 short, is still a variance."""
    rows = [r for r in held_rows(world, skip=("FURN_5555",))]
    drop(world, world.demo, "stock", "STOCK_LOTS.csv", stock_csv([*rows, f"FURN_5555,LOT-A,-40,EA,ok,{AT}", f"FURN_5555,LOT-B,58,EA,ok,{AT}"]))
    [result] = run_stock(world, world.demo)
    got = {k: (l.classification, l.variance_qty) for k, l in lines(world, result.reconciliation_id).items() if k[0] == "FURN_5555"}
    assert got == {("FURN_5555", "LOT-A"): ("rejected", Decimal(0)), ("FURN_5555", "LOT-B"): ("variance", Decimal(-2))}
    assert quants(world, "FURN_5555")["LOT-A"] == 40.0


def test_a_rejected_row_without_a_readable_sku_keeps_every_absent_product_unexplained(world):
    """We cannot know which product the row was: absent_means_zero does not apply to this snapshot."""
    product(world, "CHEAP-1", qty=3, cost=10)
    drop(world, world.demo, "stock", "STOCK_NOSKU.csv", stock_csv([*held_rows(world, skip=("CHEAP-1",)), f",,3,EA,ok,{AT}"]))
    [result] = run_stock(world, world.demo)
    assert [c for c in row_codes(world, result).values() if c] == ["STOCK_REQUIRED_MISSING"]
    line = lines(world, result.reconciliation_id)[("CHEAP-1", "")]
    assert (line.classification, line.approval, line.variance_qty, line.threepl_qty) == ("absent", "none", Decimal(0), None)
    assert "no readable SKU" in line.explanation
    assert quants(world, "CHEAP-1") == {"": 3.0} and all_adjustment_moves(world) == 0


def test_other_products_of_a_snapshot_with_a_rejected_row_still_reconcile(world):
    """The rejected product is kept out; an absent product with nothing rejected is still adjusted by policy."""
    product(world, "CHEAP-1", qty=3, cost=10)
    product(world, "CHEAP-2", qty=2, cost=10)
    drop(world, world.demo, "stock", "STOCK_MIX.csv", stock_csv([*held_rows(world, skip=("CHEAP-1", "CHEAP-2")), f"CHEAP-1,,-3,EA,ok,{AT}"]))
    [result] = run_stock(world, world.demo)
    got = lines(world, result.reconciliation_id)
    assert got[("CHEAP-1", "")].classification == "rejected"
    assert (got[("CHEAP-2", "")].classification, got[("CHEAP-2", "")].approval) == ("absent", "auto")
    assert quants(world, "CHEAP-1") == {"": 3.0} and quants(world, "CHEAP-2") == {"": 0.0}


# ------------------------------------------------------- defect 1: no valid row, no reconciliation (no wall clock)


@pytest.mark.parametrize("rows, code", [
    ([], "STOCK_SNAPSHOT_EMPTY"),                                                     # header only
    (["FURN_7800,,500,EA,ok,20/11/2026 01:10", "CHEAP-1,,3,EA,ok,20/11/2026 01:10"], "STOCK_NO_VALID_ROWS"),  # another format
    # (the ambiguous DST hour, which used to leave no valid row, is now read as its first occurrence by both readers)
    (["FURN_7800,,500,EA,ok,9999-12-31 01:30:00", "CHEAP-1,,3,EA,ok,0001-01-01 01:30:00"], "STOCK_NO_VALID_ROWS"),  # implausible
    (["FURN_7800,,-500,EA,ok,{at}", "CHEAP-1,,3,BOX,ok,{at}"], "STOCK_NO_VALID_ROWS"),  # every row rejected
])
def test_a_snapshot_without_a_valid_row_is_not_reconciled(world, rows, code):
    product(world, "CHEAP-1", qty=3, cost=10)
    before = {sku: quants(world, sku) for sku in ("FURN_7800", "FURN_6666", "CHEAP-1")}
    drop(world, world.demo, "stock", "STOCK_NONE.csv", stock_csv([r.format(at=AT) for r in rows]))
    [result] = run_stock(world, world.demo)
    assert (result.state, result.rows, result.exceptions, result.reconciliation_id, result.adjusted) == (
        "input_processed", len(rows), len(rows), None, 0)
    assert world.ledger.reconciliations(world.demo.code) == []
    assert all(c for c in row_codes(world, result).values())  # every row is its own exception
    [exc] = [e for e in world.ledger.open_exceptions(world.demo.code) if e.object_type == "file"]
    assert (exc.code, exc.object_ref) == (code, f"STOCK_NONE.csv#{result.exchange_id}")
    assert "STOCK_NONE.csv" in exc.message
    assert {sku: quants(world, sku) for sku in before} == before and all_adjustment_moves(world) == 0
    again = run_stock(world, world.demo)
    assert again == []  # archived: not listed again


# ------------------------------------------------------ defect 1: a lot-tracked product counted without a lot


def test_a_lot_tracked_product_counted_without_a_lot_is_an_exception_and_not_adjusted(world):
    product(world, "LOTTED-1", qty=2, cost=1, tracking="lot", lot="L1")
    drop(world, world.demo, "stock", "STOCK_LOT.csv", stock_csv([*held_rows(world, skip=("LOTTED-1",)), f"LOTTED-1,,2,EA,ok,{AT}"]))
    [result] = run_stock(world, world.demo)
    [(number, outcome)] = [(o.row_number, o) for o in world.ledger.row_outcomes(result.exchange_id) if o.code]
    assert (outcome.code, outcome.field) == ("STOCK_LOT_MISSING", "lot")
    assert "STOCK_LOT.csv" in outcome.message and f"row {number}" in outcome.message
    got = lines(world, result.reconciliation_id)
    assert {k: (l.classification, l.approval, l.variance_qty) for k, l in got.items() if k[0] == "LOTTED-1"} == {
        ("LOTTED-1", ""): ("rejected", "none", Decimal(0)), ("LOTTED-1", "L1"): ("rejected", "none", Decimal(0))}
    assert quants(world, "LOTTED-1") == {"L1": 2.0} and all_adjustment_moves(world) == 0


def test_a_lot_odoo_does_not_know_for_a_tracked_product_is_an_exception_and_no_lot_is_created_or_written_off(world):
    product(world, "LOTTED-1", qty=2, cost=1, tracking="lot", lot="L1")
    # the 3PL typed L2 for L1: creating L2 and writing L1 off (absent) would be two wrong adjustments
    drop(world, world.demo, "stock", "STOCK_LOT2.csv", stock_csv([*held_rows(world, skip=("LOTTED-1",)), f"LOTTED-1,L2,2,EA,ok,{AT}"]))
    [result] = run_stock(world, world.demo)
    assert result.exceptions == 1 and result.adjusted == 0
    [outcome] = [o for o in world.ledger.row_outcomes(result.exchange_id) if o.outcome == "exception"]
    assert (outcome.code, outcome.field) == ("STOCK_LOT_UNKNOWN", "lot") and "lot 'L2' of SKU LOTTED-1" in outcome.message
    assert quants(world, "LOTTED-1") == {"L1": 2.0}
    lines = {(l.sku, l.lot): l for l in world.ledger.reconciliation_lines(result.reconciliation_id)}
    assert lines[("LOTTED-1", "L1")].classification == "rejected" and lines[("LOTTED-1", "L1")].variance_qty == 0


def test_a_sku_that_only_looks_like_a_product_keeps_that_product_from_being_written_off(world):
    product(world, "CHEAP-1", qty=3, cost=10)
    # counted under a homoglyph (Cyrillic A and zero-width space), the real row left out: CHEAP-1 is not absent
    drop(world, world.demo, "stock", "STOCK_TWIN.csv", stock_csv([*held_rows(world, skip=("CHEAP-1",)), f"CHE\u0410P-\u200b1,,3,EA,ok,{AT}"]))
    [result] = run_stock(world, world.demo)
    assert result.adjusted == 0 and result.awaiting_approval == 0
    lines = {(l.sku, l.lot): l for l in world.ledger.reconciliation_lines(result.reconciliation_id)}
    assert lines[("CHEAP-1", "")].classification == "rejected" and "looks like it" in lines[("CHEAP-1", "")].explanation
    assert quants(world, "CHEAP-1") == {"": 3.0}


# ----------------------------------------------------------------- defect 4: adjustments are applied exactly once


def _one_short(world, name: str = "STOCK_ADJ.csv", *, sku: str = "CHEAP-1", counted: int = 2, at: str = AT) -> None:
    drop(world, world.demo, "stock", name, stock_csv([*held_rows(world, skip=(sku,)), f"{sku},,{counted},EA,ok,{at}"]))


def _posting(world, recon_id: int, sku: str) -> str | None:
    return world.ledger.posting_state(world.demo.code, f"adjust:{recon_id}:{sku}:")


def test_a_lost_reply_leaves_the_intent_and_the_retry_completes_without_applying_twice(world, proxy):
    product(world, "CHEAP-1", qty=3, cost=10)
    _one_short(world)
    proxy.fail("write", "lost_reply")
    with pytest.raises(OdooTransientError):
        run_stock(proxy.world, world.demo)
    assert quants(world, "CHEAP-1") == {"": 2.0}  # Odoo applied it
    [recon] = world.ledger.reconciliations(world.demo.code)
    assert _posting(world, recon.id, "CHEAP-1") == "intent"
    [result] = run_stock(proxy.world, world.demo)  # the task's retry
    assert result.state == "input_processed" and result.reconciliation_id == recon.id
    assert quants(world, "CHEAP-1") == {"": 2.0} and count_moves(world, "CHEAP-1") == 1
    assert _posting(world, recon.id, "CHEAP-1") == "done" and lines(world, recon.id)[("CHEAP-1", "")].posting_id
    assert world.ledger.reconciliation(recon.id).state == "posted"
    assert proxy.calls("write") == ["lost_reply"]  # the retry asked Odoo instead of writing again


def test_re_approving_after_an_ambiguous_failure_never_applies_twice(world, proxy):
    from threepl_bridge.flows.stock import approve

    product(world, "PRICY-1", qty=10, cost=100)  # 3 short = 300.00: over the tolerance, waits for approval
    _one_short(world, sku="PRICY-1", counted=7)
    [result] = run_stock(world, world.demo)
    assert lines(world, result.reconciliation_id)[("PRICY-1", "")].approval == "pending"
    proxy.fail("write", "lost_reply")
    try:
        approve(world.demo, proxy.client, world.ledger, result.reconciliation_id, ["PRICY-1"], "finance@acme")
    except OdooTransientError:
        pass
    assert quants(world, "PRICY-1") == {"": 7.0}
    approve(world.demo, proxy.client, world.ledger, result.reconciliation_id, ["PRICY-1"], "finance@acme")  # as advised
    approve(world.demo, proxy.client, world.ledger, result.reconciliation_id, ["PRICY-1"], "finance@acme")
    assert quants(world, "PRICY-1") == {"": 7.0} and count_moves(world, "PRICY-1") == 1
    assert _posting(world, result.reconciliation_id, "PRICY-1") == "done"


def test_an_ambiguous_failure_during_approval_raises_and_keeps_the_intent(world, proxy):
    from threepl_bridge.flows.stock import approve

    product(world, "PRICY-1", qty=10, cost=100)
    _one_short(world, sku="PRICY-1", counted=7)
    [result] = run_stock(world, world.demo)
    proxy.fail("write", "lost_reply")
    with pytest.raises(OdooTransientError):
        approve(world.demo, proxy.client, world.ledger, result.reconciliation_id, ["PRICY-1"], "finance@acme")
    assert _posting(world, result.reconciliation_id, "PRICY-1") == "intent"
    assert not [e for e in world.ledger.open_exceptions(world.demo.code) if e.code == "STOCK_ADJUSTMENT_FAILED"]


def test_an_auto_approved_line_hit_by_a_long_502_is_posted_by_the_retry(world, proxy):
    product(world, "CHEAP-1", qty=3, cost=10)
    _one_short(world)
    proxy.fail("write", "502", times=100)
    with pytest.raises(OdooTransientError):
        run_stock(proxy.world, world.demo)
    [recon] = world.ledger.reconciliations(world.demo.code)
    assert quants(world, "CHEAP-1") == {"": 3.0} and _posting(world, recon.id, "CHEAP-1") == "intent"
    proxy.rules.clear()
    [result] = run_stock(proxy.world, world.demo)
    assert (result.state, result.adjusted) == ("input_processed", 1)
    assert quants(world, "CHEAP-1") == {"": 2.0} and count_moves(world, "CHEAP-1") == 1
    assert world.ledger.reconciliation(recon.id).state == "posted"


def test_a_later_stock_run_posts_what_an_earlier_one_could_not_and_does_not_adjust_it_again(world, proxy):
    """An approval hit by a long 502 fails; the next day's snapshot run posts the approved line first, and the new
    count (still 3 short of Odoo at its time) is explained by that adjustment instead of adjusting again."""
    from threepl_bridge.flows.stock import approve

    product(world, "PRICY-1", qty=10, cost=100)
    _one_short(world, sku="PRICY-1", counted=7)
    [first] = run_stock(world, world.demo)
    proxy.fail("write", "502", times=100)
    with pytest.raises(OdooTransientError):
        approve(world.demo, proxy.client, world.ledger, first.reconciliation_id, ["PRICY-1"], "finance@acme")
    assert quants(world, "PRICY-1") == {"": 10.0}
    proxy.rules.clear()
    world.env.frozen_now = datetime(2026, 11, 20, 10, 0)  # Odoo's clock: the catch-up is applied after the next count
    _one_short(world, "STOCK_NEXT.csv", sku="PRICY-1", counted=7, at="2026-11-20 01:20:00")
    [second] = run_stock(world, world.demo, now=RUN_AT)
    assert quants(world, "PRICY-1") == {"": 7.0} and count_moves(world, "PRICY-1") == 1
    assert world.ledger.reconciliation(first.reconciliation_id).state == "posted"
    line = lines(world, second.reconciliation_id)[("PRICY-1", "")]
    assert (line.classification, line.variance_qty, line.timing_qty, line.approval) == ("timing", Decimal(0), Decimal(-3), "none")
    assert f"R{first.reconciliation_id}" in line.explanation


def test_a_refused_auto_adjustment_is_an_exception_and_its_re_approval_posts_once(world, proxy):
    from threepl_bridge.flows.stock import approve

    product(world, "CHEAP-1", qty=3, cost=10)
    _one_short(world)
    proxy.fail("write", "access")
    [result] = run_stock(proxy.world, world.demo)
    recon = result.reconciliation_id
    assert quants(world, "CHEAP-1") == {"": 3.0} and _posting(world, recon, "CHEAP-1") == "failed"
    assert [e.code for e in world.ledger.open_exceptions(world.demo.code)] == ["STOCK_ADJUSTMENT_FAILED"]
    assert approve(world.demo, proxy.client, world.ledger, recon, ["CHEAP-1"], "finance@acme") == 1
    assert approve(world.demo, proxy.client, world.ledger, recon, ["CHEAP-1"], "finance@acme") == 0
    assert quants(world, "CHEAP-1") == {"": 2.0} and count_moves(world, "CHEAP-1") == 1
    assert _posting(world, recon, "CHEAP-1") == "done" and world.ledger.reconciliation(recon).state == "posted"
    assert [e.code for e in world.ledger.open_exceptions(world.demo.code)] == []  # resolved by the posting
