"""Month end: every difference the report computes blocks the verdict or is explained on the report."""

from __future__ import annotations

from datetime import date

from tests.flows.conftest import drop, run_dispatches, ship_one
from threepl_bridge.flows.month_end import compute


def test_a_delivery_in_odoo_that_no_3pl_file_explains_blocks_the_close_and_is_named(world):
    _, [by_hand] = ship_one(world, also=[("FURN_8855", 4)])
    clean = compute(world.demo, world.odoo, world.ledger, date(2026, 11, 1))
    assert clean.ready, clean.verdict
    # somebody validates a delivery of the 3PL's warehouse by hand in Odoo
    [move] = world.x("stock.move", "search_read", [["picking_id", "=", by_hand["id"]]], fields=["product_uom_qty"])
    world.x("stock.move", "write", [move["id"]], {"quantity": 4, "picked": True})
    world.x("stock.picking", "button_validate", [by_hand["id"]], context={"skip_sms": True})
    report = compute(world.demo, world.odoo, world.ledger, date(2026, 11, 1))
    figures = {metric: units for _, metric, units, _, _ in report.figures}
    assert figures["dispatched_units_difference"] == -4
    assert not report.ready
    assert any(by_hand["name"] in item and "no 3PL dispatch file reports them" in item for item in report.blocking), report.blocking
    assert ("dispatch", by_hand["name"], "difference between the 3PL and Odoo") in report.unposted


def test_a_quarantined_dispatch_file_blocks_the_close_for_operations_with_its_action(world):
    from datetime import datetime, timezone

    world.run_products(world.demo)
    drop(world, world.demo, "dispatches", "DISPATCH_BAD.csv", b"order_ref,qty\r\n3PL/OUT/00001,1\r\n")
    [bad] = run_dispatches(world, world.demo)
    assert bad.state == "input_error"
    month = datetime.now(timezone.utc).date().replace(day=1)  # the exception was raised now (the ledger's clock)
    report = compute(world.demo, world.odoo, world.ledger, month)
    [blocker] = [b for b in report.blocking if "DISPATCH_BAD.csv" in b]
    assert blocker.who == "operations" and "cannot be read with the partner's layout" in blocker and "drop it again" in blocker
    assert [(k, c) for k, r, c in report.unposted if "DISPATCH_BAD.csv" in r] == [("file", "DISPATCH_FILE_UNREADABLE")]
    assert not report.ready
    earlier = compute(world.demo, world.odoo, world.ledger, date(2026, 10, 1))  # raised after October closed: not October's
    assert not [b for b in earlier.blocking if "DISPATCH_BAD.csv" in b]
