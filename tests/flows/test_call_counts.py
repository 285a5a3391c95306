"""Odoo calls of a release of 1,000 orders and of a posting of 500 pickings, counted on the stand-in's side as a real
Odoo receives them (every execute_kw, chatter included: a note per picking would be a call per picking).

Counts, not times: the goals of issue 14 are <= 10 + 2 * ceil(N / 500) calls for a release of N orders and
<= 10 + 3 * ceil(N / 100) for a posting of N pickings, and no method called once per order or picking. The
benchmarks (benchmarks/release_orders.py, benchmarks/post_dispatches.py) run the same code and print the times.
"""

from __future__ import annotations

from benchmarks import post_dispatches, release_orders


def test_a_release_of_1000_orders_costs_calls_per_500_orders_not_per_order():
    result = release_orders.run(1000, real=False)  # asserts that the stand-in received exactly what the client sent
    calls = result["calls"]
    assert result["released"] == 1000 and result["lines"] == 1500
    assert sum(calls.values()) <= release_orders.goal(1000) == 14, calls
    assert calls.get("stock.picking.message_post", 0) == 0  # one record per call: never used for a file's notes
    assert calls["mail.message.create"] == 1  # the 1,000 notes in one call
    assert max(calls.values()) <= 2, calls  # the open-ended picking scan pages by 500; every other read is one call


def test_a_posting_of_500_pickings_costs_calls_per_file_not_per_picking():
    result = post_dispatches.run(500, None, with_floor=False, floor_first=False, real=False)
    calls = result["calls"]
    assert (result["rows"], result["posted"], result["states"]) == (750, 750, ["done"])
    assert sum(calls.values()) <= post_dispatches.goal(500) == 25, calls
    assert calls["stock.picking.button_validate"] == 2  # validate_batch 250
    assert calls["mail.message.create"] == 1 and calls.get("stock.picking.message_post", 0) == 0
    assert max(calls.values()) <= 2, calls
