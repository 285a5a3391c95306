"""Return receipts from the 3PL: announced returns posted into, unannounced ones created through Odoo's return
wizard (stand-in, contract F9), each unit where the disposition says, valued back at the delivery's cost."""

from __future__ import annotations

import pytest

from tests.flows.conftest import RETURN_HEADER, RUN_AT, csv_file, drop, outcomes, quarantine, run_kind, ship_one
from threepl_bridge.ledger.states import State


def returned(world, name: str, lines: list[str]) -> None:
    drop(world, world.demo, "returns", name, csv_file(RETURN_HEADER, lines))


def returns_of(world, delivery_id: int) -> list[dict]:
    return world.x("stock.picking", "search_read", [["return_id", "=", delivery_id]], fields=["name", "state", "date_done"], order="id")


def placed(world, picking_id: int) -> list[tuple[float, str]]:
    found = world.x("stock.move.line", "search_read", [["picking_id", "=", picking_id]], fields=["quantity", "location_dest_id"])
    return sorted((l["quantity"], l["location_dest_id"][1]) for l in found)


@pytest.fixture
def delivered(world):
    quarantine(world)
    picking, _ = ship_one(world, also=[("FURN_8855", 4)])  # 2 FURN_7800 delivered on 2 November
    return picking


def test_an_unannounced_return_is_created_once_and_posted_by_disposition(world, delivered):
    returned(world, "RETURN_1.csv", [f",{delivered['name']},1,FURN_7800,,1,EA,,restock,changed mind,2026-11-10 08:00:00",
                                     f",{delivered['name']},1,FURN_7800,,1,EA,,scrap,broken,2026-11-10 08:00:00"])
    [result] = run_kind(world, world.demo, "returns")
    assert (result.state, result.posted, result.exception) == (State.INPUT_PROCESSED, 2, 0)
    [ret] = returns_of(world, delivered["id"])
    assert (ret["state"], ret["date_done"]) == ("done", "2026-11-10 16:00:00")
    assert result.pickings_posted == [ret["name"]]
    assert placed(world, ret["id"]) == [(1.0, "3PL/Stock"), (1.0, "Virtual Locations/Scrap")]
    [entry] = world.x("account.move", "search_read", [["ref", "like", ret["name"]]], fields=["date", "amount_total"])
    assert (entry["date"], entry["amount_total"]) == ("2026-11-10", 300.0)  # the restocked unit, at the delivery's cost; the scrapped one nowhere
    [line] = world.x("sale.order.line", "search_read", [["product_id.default_code", "=", "FURN_7800"]], fields=["qty_delivered"])
    assert line["qty_delivered"] == 0.0  # both units came back (to_refund)


def test_more_than_was_delivered_is_an_exception_and_nothing_of_the_return_posts(world, delivered):
    returned(world, "RETURN_1.csv", [f",{delivered['name']},1,FURN_7800,,1,EA,,quarantine,,2026-11-10 08:00:00"])
    returned(world, "RETURN_2.csv", [f",{delivered['name']},1,FURN_7800,,2,EA,,restock,,2026-11-11 08:00:00"])  # 1 more can come back
    first, second = run_kind(world, world.demo, "returns")
    assert first.posted == 1
    assert outcomes(world, second) == {2: ("exception", "RETURN_MORE_THAN_DELIVERED")}
    [message] = [o.message for o in world.ledger.row_outcomes(second.exchange_id)]
    assert "2 returned for [FURN_7800] Desk Combination" in message and "only 1 can come back" in message
    [ret] = returns_of(world, delivered["id"])
    assert placed(world, ret["id"]) == [(1.0, "3PL/Quarantine")]


def test_an_announced_return_is_posted_into_and_more_than_announced_is_refused(world, delivered):
    ctx = {"active_id": delivered["id"], "active_ids": [delivered["id"]], "active_model": "stock.picking"}
    wizard = world.x("stock.return.picking", "create", {}, context=ctx)  # customer service announces 1 unit back
    [w] = world.x("stock.return.picking", "read", [wizard], fields=["product_return_moves"], context=ctx)
    world.x("stock.return.picking.line", "write", w["product_return_moves"], {"quantity": 1})
    rma = world.x("stock.return.picking", "create_returns", [wizard], context=ctx)["res_id"]
    [rma_name] = [p["name"] for p in world.x("stock.picking", "read", [rma], fields=["name"])]
    returned(world, "RETURN_1.csv", [f"{rma_name},,1,FURN_7800,,2,EA,,restock,,2026-11-10 08:00:00"])
    returned(world, "RETURN_2.csv", [f"{rma_name},,1,FURN_7800,,1,EA,,restock,,2026-11-10 09:00:00"])
    over, right = run_kind(world, world.demo, "returns")
    assert outcomes(world, over) == {2: ("exception", "RETURN_MORE_THAN_DELIVERED")}
    assert right.posted == 1 and right.pickings_posted == [rma_name]
    assert [r["state"] for r in returns_of(world, delivered["id"])] == ["done"]  # no second return made


def test_every_return_row_code(world, delivered):
    open_delivery = world.sell([("FURN_7800", 1)])
    rows = [
        ",,1,FURN_7800,,1,EA,,restock,,2026-11-10 08:00:00",                                  # 2 no reference
        ",3PL/OUT/99999,1,FURN_7800,,1,EA,,restock,,2026-11-10 08:00:00",                     # 3 unknown
        f",{open_delivery['name']},1,FURN_7800,,1,EA,,restock,,2026-11-10 08:00:00",          # 4 not delivered yet
        f",{delivered['name']},2,E-COM11,,1,EA,,restock,,2026-11-10 08:00:00",                # 5 not delivered on it
        f",{delivered['name']},3,FURN_7800,,1,EA,,resell,,2026-11-10 08:00:00",               # 6 disposition not allowed
    ]
    returned(world, "RETURN_X.csv", rows)
    [result] = run_kind(world, world.demo, "returns")
    assert outcomes(world, result) == {2: ("exception", "RETURN_NO_REFERENCE"), 3: ("exception", "RETURN_UNKNOWN_REFERENCE"),
                                       4: ("exception", "RETURN_NOT_RETURNABLE"), 5: ("exception", "RETURN_SKU_NOT_DELIVERED"),
                                       6: ("exception", "RETURN_VALUE_NOT_ALLOWED")}
    assert returns_of(world, delivered["id"]) == []


def test_a_lost_reply_of_the_return_wizard_never_makes_a_second_return(world, delivered):
    from threepl_bridge.flows import returns as flow
    from threepl_bridge.flows.exchange import process_exchange, receive_file

    returned(world, "RETURN_K.csv", [f",{delivered['name']},1,FURN_7800,,2,EA,,restock,,2026-11-10 08:00:00"])
    transport = world.transport(world.demo)
    received = receive_file(world.demo, flow.RETURNS, "RETURN_K.csv", transport=transport, ledger=world.ledger)
    kwargs = dict(transport=transport, ledger=world.ledger, client=world.odoo, now=RUN_AT)
    real = flow._make_return

    def lost(work, delivery, qty):  # Odoo made the return, the reply never came back
        real(work, delivery, qty)
        raise SystemExit("connection lost")

    with pytest.MonkeyPatch.context() as patch, pytest.raises(SystemExit):
        patch.setattr(type(world.ledger), "complete_postings", lambda *a, **k: (_ for _ in ()).throw(SystemExit("killed")))
        patch.setattr(flow, "_make_return", lost)
        process_exchange(flow.RETURNS, world.demo, received.exchange_id, **kwargs)
    assert [r["state"] for r in returns_of(world, delivered["id"])] == ["assigned"]
    result = process_exchange(flow.RETURNS, world.demo, received.exchange_id, **kwargs)  # the retry
    assert (result.state, result.posted) == (State.INPUT_PROCESSED, 1)
    assert [r["state"] for r in returns_of(world, delivered["id"])] == ["done"]
    returned(world, "RETURN_K2.csv", [f",{delivered['name']},1,FURN_7800,,2,EA,,restock,,2026-11-10 08:00:00",
                                      f",{delivered['name']},2,FURN_7800,,1,EA,,restock,,2026-11-10 08:00:00"])  # replayed, plus one more
    [again] = run_kind(world, world.demo, "returns")
    assert outcomes(world, again) == {2: ("duplicate", ""), 3: ("exception", "RETURN_MORE_THAN_DELIVERED")}


def test_a_validated_return_whose_commit_was_lost_is_not_posted_again(world, delivered):
    from threepl_bridge.flows.exchange import process_exchange, receive_file
    from threepl_bridge.flows.returns import RETURNS

    returned(world, "RETURN_V.csv", [f",{delivered['name']},1,FURN_7800,,1,EA,,restock,,2026-11-10 08:00:00"])
    transport = world.transport(world.demo)
    received = receive_file(world.demo, RETURNS, "RETURN_V.csv", transport=transport, ledger=world.ledger)
    kwargs = dict(transport=transport, ledger=world.ledger, client=world.odoo, now=RUN_AT)
    calls = []
    original = type(world.ledger).complete_postings

    def die_on_validation(self, partner, items):
        if any(key.startswith("return:") for key, _ in items):
            calls.append(items)
            raise SystemExit("killed")
        return original(self, partner, items)

    with pytest.MonkeyPatch.context() as patch, pytest.raises(SystemExit):
        patch.setattr(type(world.ledger), "complete_postings", die_on_validation)
        process_exchange(RETURNS, world.demo, received.exchange_id, **kwargs)
    assert calls and [r["state"] for r in returns_of(world, delivered["id"])] == ["done"]
    layers = world.x("stock.valuation.layer", "search_count", [])
    result = process_exchange(RETURNS, world.demo, received.exchange_id, **kwargs)
    assert (result.state, result.posted) == (State.INPUT_PROCESSED, 1)
    assert world.x("stock.valuation.layer", "search_count", []) == layers
    assert len(returns_of(world, delivered["id"])) == 1


def test_the_semicolon_partner_reads_german_dispositions(world, delivered):
    text = ("Retoure;Auftrag;Artikel;Menge;ME;Charge;Verwendung;Grund;Eingang\n"
            f";{delivered['name']};FURN_7800;1,0;EA;;sperren;defekt;10.11.2026 17:00\n")
    drop(world, world.semi, "returns", "RET_1.txt", text.encode("iso-8859-1"))
    [result] = run_kind(world, world.semi, "returns")
    assert result.posted == 1
    [ret] = returns_of(world, delivered["id"])
    assert placed(world, ret["id"]) == [(1.0, "3PL/Quarantine")]


def test_a_return_with_a_failing_line_is_held_whole_naming_that_line(world, delivered):
    returned(world, "RETURN_H.csv", [f",{delivered['name']},1,FURN_7800,,1,EA,,restock,,2026-11-10 08:00:00",
                                     f",{delivered['name']},2,E-COM11,,1,EA,,restock,,2026-11-10 08:00:00"])  # not on that delivery
    [result] = run_kind(world, world.demo, "returns")
    assert outcomes(world, result) == {2: ("exception", "RETURN_HELD"), 3: ("exception", "RETURN_SKU_NOT_DELIVERED")}
    [held] = [o.message for o in world.ledger.row_outcomes(result.exchange_id) if o.code == "RETURN_HELD"]
    assert held.endswith(f"return {delivered['name']} held whole: row(s) [3] failed")
    assert returns_of(world, delivered["id"]) == []  # no return made for a held one
