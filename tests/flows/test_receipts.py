"""Receipt confirmations from the 3PL posted into Odoo's incoming pickings (stand-in, contract F8), over SFTP."""

from __future__ import annotations

import pytest

from tests.flows.conftest import RECEIPT_HEADER, RUN_AT, csv_file, drop, outcomes, purchase, quarantine, run_kind
from threepl_bridge.ledger.states import State


def receipt(world, name: str, lines: list[str]) -> None:
    drop(world, world.demo, "receipts", name, csv_file(RECEIPT_HEADER, lines))


def lines_of(world, picking_id: int) -> list[tuple[str, float, str, str]]:
    found = world.x("stock.move.line", "search_read", [["picking_id", "=", picking_id]], fields=["product_id", "quantity", "lot_id", "location_dest_id"])
    return sorted((l["product_id"][1].split("]")[0][1:], l["quantity"], l["lot_id"][1] if l["lot_id"] else "", l["location_dest_id"][1]) for l in found)


@pytest.fixture
def asn(world):
    quarantine(world)
    return purchase(world, [("FURN_8855", 20, 95.0), ("FURN_5555", 10, 72.0), ("FURN_7800", 5, 300.0)])


def test_a_short_an_over_and_a_damaged_line_with_a_new_lot_post_dated_on_the_receipt_moment(world, asn):
    receipt(world, "RECEIPT_1.csv", [
        f"{asn['name']},1,FURN_8855,,12,EA,,,good,2026-11-03 08:00:00",       # short: 14 of 20, 2 of them damaged
        f"{asn['name']},1,FURN_8855,,2,EA,,,damaged,2026-11-03 08:00:00",
        f"{asn['name']},2,FURN_5555,,10,EA,RCV-1,2027-01-31,good,2026-11-03 08:00:00",  # a new lot
        f"{asn['name']},3,FURN_7800,,5.4,EA,,,good,2026-11-03 08:00:00",      # over, within the 10% tolerance
    ])
    [result] = run_kind(world, world.demo, "receipts")
    assert (result.state, result.posted, result.exception) == (State.INPUT_PROCESSED, 4, 0)
    assert result.pickings_posted == [asn["name"]]
    done, rest = world.x("stock.picking", "search_read", [["purchase_id", "=", asn["purchase_id"][0]]], fields=["state", "backorder_id", "date_done"],
                         order="id")
    assert (done["state"], done["date_done"]) == ("done", "2026-11-03 16:00:00")  # 08:00 in Los Angeles
    assert (rest["state"], rest["backorder_id"][0]) == ("assigned", done["id"])  # the 6 missing stay expected
    assert lines_of(world, done["id"]) == [("FURN_5555", 10.0, "RCV-1", "3PL/Stock"), ("FURN_7800", 0.4, "", "3PL/Stock"),  # the surplus: its own
                                           ("FURN_7800", 5.0, "", "3PL/Stock"),  # line, as Odoo 17 makes it
                                           ("FURN_8855", 2.0, "", "3PL/Quarantine"), ("FURN_8855", 12.0, "", "3PL/Stock")]
    entries = world.x("account.move", "search_read", [["ref", "like", asn["name"]]], fields=["date", "amount_total"])
    assert {e["date"] for e in entries} == {"2026-11-03"}
    assert sorted(e["amount_total"] for e in entries) == [720.0, 1330.0, 1620.0]  # 14 x 95 (damaged ones valued too), 10 x 72, 5.4 x 300
    received = world.x("purchase.order.line", "search_read", [["order_id", "=", asn["purchase_id"][0]]], fields=["qty_received"], order="id")
    assert [l["qty_received"] for l in received] == [14.0, 10.0, 5.4]


def test_the_rest_arrives_later_under_the_same_asn_reference_and_goes_into_the_backorder(world, asn):
    receipt(world, "RECEIPT_1.csv", [f"{asn['name']},1,FURN_8855,,12,EA,,,good,2026-11-03 08:00:00"])
    receipt(world, "RECEIPT_2.csv", [f"{asn['name']},1,FURN_8855,,8,EA,,,good,2026-11-05 08:00:00",
                                     f"{asn['name']},2,FURN_5555,,10,EA,RCV-2,,,2026-11-05 08:00:00",
                                     f"{asn['name']},3,FURN_7800,,5,EA,,,,2026-11-05 08:00:00"])
    first, second = run_kind(world, world.demo, "receipts")
    assert (first.posted, second.posted, second.exception) == (1, 3, 0)
    pickings = world.x("stock.picking", "search_read", [["purchase_id", "=", asn["purchase_id"][0]]], fields=["state"])
    assert [p["state"] for p in pickings] == ["done", "done"]
    assert world.x("purchase.order", "read", [asn["purchase_id"][0]], fields=["receipt_status"])[0]["receipt_status"] == "full"


def test_beyond_the_tolerance_the_line_is_an_exception_and_the_receipt_is_held_whole(world, asn):
    receipt(world, "RECEIPT_1.csv", [f"{asn['name']},1,FURN_8855,,20,EA,,,good,2026-11-03 08:00:00",
                                     f"{asn['name']},3,FURN_7800,,6,EA,,,good,2026-11-03 08:00:00"])  # 6 of 5: over 10%
    [result] = run_kind(world, world.demo, "receipts")
    assert outcomes(world, result) == {2: ("exception", "RECEIPT_ASN_HELD"), 3: ("exception", "RECEIPT_OVER_TOLERANCE")}
    [message] = [o.message for o in world.ledger.row_outcomes(result.exchange_id) if o.code == "RECEIPT_OVER_TOLERANCE"]
    assert "6 received for [FURN_7800] Desk Combination" in message and "at most 5.5" in message
    assert world.x("stock.picking", "read", [asn["id"]], fields=["state"])[0]["state"] == "assigned"


def test_every_receipt_row_code(world, asn, released):
    cancelled = purchase(world, [("FURN_8855", 1, 95.0)])
    world.x("stock.picking", "action_cancel", [cancelled["id"]])
    rows = [
        "3PL/IN/99999,1,FURN_8855,,1,EA,,,good,2026-11-03 08:00:00",                       # 2 unknown ASN
        f"{released['one']['name']},1,FURN_7800,,1,EA,,,good,2026-11-03 08:00:00",        # 3 a delivery, not a receipt
        f"{cancelled['name']},1,FURN_8855,,1,EA,,,good,2026-11-03 08:00:00",               # 4 cancelled
        f"{asn['name']},9,E-COM11,,1,EA,,,good,2026-11-03 08:00:00",                       # 5 not expected
        f"{asn['name']},2,FURN_5555,,10,EA,,,good,2026-11-03 08:00:00",                    # 6 lot missing
        f"{asn['name']},1,FURN_8855,,1,DZ,,,bad,2026-11-03 08:00:00",                      # 7 condition not allowed
        f"{asn['name']},4,FURN_7800,,0,EA,,,good,2026-11-03 08:00:00",                     # 8 quantity 0
        f"{asn['name']},5,FURN_7800,,1,EA,,,good,2030-01-01 08:00:00",                     # 9 in the future
    ]
    receipt(world, "RECEIPT_X.csv", rows)
    [result] = run_kind(world, world.demo, "receipts")
    got = outcomes(world, result)
    assert got == {2: ("exception", "RECEIPT_UNKNOWN_ASN"), 3: ("exception", "RECEIPT_NOT_OURS"), 4: ("exception", "RECEIPT_PICKING_CANCELLED"),
                   5: ("exception", "RECEIPT_SKU_NOT_ON_ASN"), 6: ("exception", "RECEIPT_LOT_MISSING"),
                   7: ("exception", "RECEIPT_VALUE_NOT_ALLOWED"), 8: ("exception", "RECEIPT_QTY_INVALID"), 9: ("exception", "RECEIPT_FUTURE_DATE")}
    assert world.x("stock.picking", "read", [asn["id"]], fields=["state"])[0]["state"] == "assigned"


def test_damaged_goods_without_a_location_are_an_exception_naming_what_to_create(world):
    asn = purchase(world, [("FURN_8855", 2, 95.0)])  # no 3PL/Quarantine in this Odoo
    receipt(world, "RECEIPT_1.csv", [f"{asn['name']},1,FURN_8855,,2,EA,,,damaged,2026-11-03 08:00:00"])
    [result] = run_kind(world, world.demo, "receipts")
    [row] = world.ledger.row_outcomes(result.exchange_id)
    assert (row.code, row.field) == ("RECEIPT_LOCATION_MISSING", "condition")
    assert "Odoo has no location named '3PL/Quarantine'" in row.message


def test_serials_one_unit_each_and_a_serial_twice_in_the_file_is_refused(world):
    quarantine(world)
    [pid] = world.x("product.product", "search", [["default_code", "=", "FURN_5555"]])
    world.x("product.product", "write", [pid], {"tracking": "serial"})
    asn = purchase(world, [("FURN_5555", 3, 72.0)])
    receipt(world, "RECEIPT_S.csv", [f"{asn['name']},1,FURN_5555,,1,EA,SN-1,,good,2026-11-03 08:00:00",
                                     f"{asn['name']},1,FURN_5555,,1,EA,SN-1,,damaged,2026-11-03 08:00:00",
                                     f"{asn['name']},1,FURN_5555,,2,EA,SN-2,,good,2026-11-03 08:00:00"])
    [result] = run_kind(world, world.demo, "receipts")
    assert outcomes(world, result) == {2: ("exception", "RECEIPT_ASN_HELD"), 3: ("exception", "RECEIPT_SERIAL_DUPLICATE"),
                                       4: ("exception", "RECEIPT_SERIAL_QTY")}
    receipt(world, "RECEIPT_S2.csv", [f"{asn['name']},1,FURN_5555,,1,EA,SN-1,,good,2026-11-03 08:00:00",
                                      f"{asn['name']},1,FURN_5555,,1,EA,SN-2,,good,2026-11-03 08:00:00"])
    [fixed] = run_kind(world, world.demo, "receipts")
    assert fixed.posted == 2
    assert lines_of(world, asn["id"]) == [("FURN_5555", 1.0, "SN-1", "3PL/Stock"), ("FURN_5555", 1.0, "SN-2", "3PL/Stock")]


def test_a_copy_of_the_file_and_a_rerun_post_nothing_twice(world, asn):
    lines = [f"{asn['name']},1,FURN_8855,,12,EA,,,good,2026-11-03 08:00:00", f"{asn['name']},1,FURN_8855,,2,EA,,,damaged,2026-11-03 08:00:00"]
    receipt(world, "RECEIPT_1.csv", lines)
    [first] = run_kind(world, world.demo, "receipts")
    layers = world.x("stock.valuation.layer", "search_count", [])
    receipt(world, "RECEIPT_1.csv", lines)  # the very same file again: a duplicate exchange, nothing read
    [again] = run_kind(world, world.demo, "receipts")
    assert (again.state, again.duplicate_of) == (State.INPUT_DUPLICATE, first.exchange_id)
    receipt(world, "RECEIPT_2.csv", [*lines, f"{asn['name']},3,FURN_7800,,5,EA,,,good,2026-11-04 08:00:00"])  # the same lines and a new one
    [copy] = run_kind(world, world.demo, "receipts")
    assert (first.posted, copy.posted, copy.duplicate) == (2, 1, 2)
    assert world.x("stock.valuation.layer", "search_count", []) == layers + 1
    received = world.x("purchase.order.line", "search_read", [["order_id", "=", asn["purchase_id"][0]]], fields=["qty_received"], order="id")
    assert [l["qty_received"] for l in received] == [14.0, 0.0, 5.0]


def test_killed_after_odoo_validated_before_the_ledger_commit_does_not_receive_twice(world, asn):
    from threepl_bridge.flows.exchange import process_exchange, receive_file
    from threepl_bridge.flows.receipts import RECEIPTS

    receipt(world, "RECEIPT_K.csv", [f"{asn['name']},1,FURN_8855,,20,EA,,,good,2026-11-03 08:00:00",
                                     f"{asn['name']},2,FURN_5555,,10,EA,RCV-K,,good,2026-11-03 08:00:00",
                                     f"{asn['name']},3,FURN_7800,,5,EA,,,damaged,2026-11-03 08:00:00"])
    transport = world.transport(world.demo)
    received = receive_file(world.demo, RECEIPTS, "RECEIPT_K.csv", transport=transport, ledger=world.ledger)
    kwargs = dict(transport=transport, ledger=world.ledger, client=world.odoo, now=RUN_AT)
    with pytest.MonkeyPatch.context() as patch, pytest.raises(SystemExit):
        patch.setattr(type(world.ledger), "complete_postings", lambda *a, **k: (_ for _ in ()).throw(SystemExit("killed")))
        process_exchange(RECEIPTS, world.demo, received.exchange_id, **kwargs)
    assert world.x("stock.picking", "read", [asn["id"]], fields=["state"])[0]["state"] == "done"  # Odoo did validate
    layers = world.x("stock.valuation.layer", "search_count", [])
    result = process_exchange(RECEIPTS, world.demo, received.exchange_id, **kwargs)  # Airflow retries the task
    assert (result.state, result.posted) == (State.INPUT_PROCESSED, 3)
    assert world.x("stock.valuation.layer", "search_count", []) == layers
    assert world.x("stock.lot", "search_count", [["name", "=", "RCV-K"]]) == 1


def test_the_semicolon_partner_reads_german_conditions_and_closes_a_short_receipt(world):
    quarantine(world)
    asn = purchase(world, [("FURN_8855", 20, 95.0)])
    text = ("Avis;Pos;Artikel;Menge;ME;Charge;MHD;Zustand;Eingang\n"
            f"{asn['name']};1;FURN_8855;10,0;EA;;;gut;03.11.2026 17:00\n"
            f"{asn['name']};1;FURN_8855;1,0;EA;;;beschädigt;03.11.2026 17:00\n")
    drop(world, world.semi, "receipts", "WE_1.txt", text.encode("iso-8859-1"))
    [result] = run_kind(world, world.semi, "receipts")
    assert result.posted == 2
    pickings = world.x("stock.picking", "search_read", [["purchase_id", "=", asn["purchase_id"][0]]], fields=["state"])
    assert [p["state"] for p in pickings] == ["done"]  # policy backorder: cancel - no backorder
    assert lines_of(world, asn["id"]) == [("FURN_8855", 1.0, "", "3PL/Quarantine"), ("FURN_8855", 10.0, "", "3PL/Stock")]
    [entry] = world.x("account.move", "search_read", [["ref", "like", asn["name"]]], fields=["date"])
    assert entry["date"] == "2026-11-03"


def test_a_replayed_file_posts_what_was_fixed_and_nothing_twice(world):
    asn = purchase(world, [("FURN_8855", 10, 95.0), ("FURN_7800", 2, 300.0)])  # no quarantine location yet
    data = [f"{asn['name']},1,FURN_8855,,9,EA,,,good,2026-11-03 08:00:00", f"{asn['name']},1,FURN_8855,,1,EA,,,damaged,2026-11-03 08:00:00"]
    receipt(world, "RECEIPT_R.csv", data)
    [first] = run_kind(world, world.demo, "receipts")
    assert outcomes(world, first) == {2: ("exception", "RECEIPT_ASN_HELD"), 3: ("exception", "RECEIPT_LOCATION_MISSING")}
    quarantine(world)  # the operator creates the location, then the file is replayed (dropped again)
    receipt(world, "RECEIPT_R.csv", data)
    [replay] = run_kind(world, world.demo, "receipts")
    assert (replay.state, replay.posted, replay.exception) == (State.INPUT_PROCESSED, 2, 0)
    layers = world.x("stock.valuation.layer", "search_count", [])
    receipt(world, "RECEIPT_R.csv", data)  # and once more by mistake
    [again] = run_kind(world, world.demo, "receipts")
    assert again.posted == 0 and world.x("stock.valuation.layer", "search_count", []) == layers
    assert lines_of(world, asn["id"]) == [("FURN_8855", 1.0, "", "3PL/Quarantine"), ("FURN_8855", 9.0, "", "3PL/Stock")]
