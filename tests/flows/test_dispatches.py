"""Dispatch confirmations from the 3PL posted into Odoo (stand-in), over a real SFTP server."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
import pytest

from tests.flows.conftest import RUN_AT, dispatch_csv, drop, run_dispatches
from threepl_bridge.ledger.states import State

CASE_UOM = 27


def picking(world, pid: int) -> dict:
    [p] = world.x("stock.picking", "read", [pid], fields=["name", "state", "date_done", "carrier_tracking_ref", "backorder_id"])
    return p


def moves(world, pid: int) -> dict[str, dict]:
    found = world.x("stock.move", "search_read", [["picking_id", "=", pid]], fields=["product_id", "product_uom_qty", "quantity", "state", "move_line_ids", "date"])
    return {m["product_id"][1].split("]")[0].strip("["): m for m in found}


def entries(world, pid: int) -> list[dict]:
    ids = world.x("stock.move", "search", [["picking_id", "=", pid]])
    return world.x("account.move", "search_read", [["stock_move_id", "in", ids]], fields=["date", "state", "amount_total"])


def outcomes(world, result) -> dict[int, tuple[str, str]]:
    return {o.row_number: (o.outcome, o.code) for o in world.ledger.row_outcomes(result.exchange_id)}


def counts_add_up(result) -> bool:
    return result.rows == result.posted + result.duplicate + result.exception


def test_full_dispatch_posts_with_tracking_and_the_warehouse_day_as_accounting_date(world, released):
    one = released["one"]
    drop(world, world.demo, "dispatches", "DISPATCH_1.csv", dispatch_csv(
        [f"{one['name']},1,FURN_7800,,2,EA,,2026-10-31 23:00:00,The Poste,TP123,P1"], bom=True))
    [result] = run_dispatches(world, world.demo)
    assert (result.state, result.rows, result.posted) == (State.INPUT_PROCESSED, 1, 1) and counts_add_up(result)
    p = picking(world, one["id"])
    # 31 Oct 23:00 in Los Angeles is 1 Nov 06:00 UTC: the picking is dated when the goods left...
    assert (p["state"], p["carrier_tracking_ref"], p["date_done"]) == ("done", "TP123", "2026-11-01 06:00:00")
    assert moves(world, one["id"])["FURN_7800"]["date"] == "2026-11-01 06:00:00"
    # ... and the valuation entry lands in October, the month the goods left, though reported in November
    assert [(e["date"], e["state"]) for e in entries(world, one["id"])] == [("2026-10-31", "posted")]
    assert result.moved_to == "/archive/DISPATCH_1.csv"
    assert sorted(p.name for p in (world.sftp_root / "archive").iterdir()) == ["DISPATCH_1.csv", "DISPATCH_1.csv.ok"]
    notes = world.x("mail.message", "search_read", [["model", "=", "stock.picking"], ["res_id", "=", one["id"]]], fields=["body"])
    assert any("DISPATCH_1.csv" in n["body"] and "rows 2" in n["body"] for n in notes)


def test_short_shipment_creates_a_backorder_that_the_3pl_ships_later(world, released):
    two = released["two"]
    drop(world, world.demo, "dispatches", "DISPATCH_A.csv", dispatch_csv([
        f"{two['name']},1,FURN_8855,,6,EA,,2026-11-02 10:00:00,Standard delivery,SD1,P1",
    ]))
    [first] = run_dispatches(world, world.demo)
    assert first.posted == 1
    m = moves(world, two["id"])
    assert (m["FURN_8855"]["quantity"], m["FURN_8855"]["state"]) == (6.0, "done")
    [back] = world.x("stock.picking", "search_read", [["backorder_id", "=", two["id"]]], fields=["name", "state"])
    back_moves = moves(world, back["id"])
    assert (back_moves["FURN_8855"]["product_uom_qty"], back_moves["E-COM11"]["product_uom_qty"]) == (4.0, 4.0)
    assert world.ledger.released_pickings("demo3pl")[back["id"]].state == "released"
    # the next orders run does not take the split for a change made in Odoo after release...
    world.run_orders(world.demo)
    assert "ORDER_CHANGED_AFTER_RELEASE" not in world.open_codes(world.demo).get(back["name"], set())
    # the rest arrives later under the same order reference: it posts on the backorder
    drop(world, world.demo, "dispatches", "DISPATCH_B.csv", dispatch_csv([
        f"{two['name']},1,FURN_8855,,4,EA,,2026-11-03 10:00:00,Standard delivery,SD2,P2",
        f"{two['name']},2,E-COM11,,4,EA,,2026-11-03 10:00:00,Standard delivery,SD2,P2",
    ]))
    [second] = run_dispatches(world, world.demo)
    assert second.posted == 2 and picking(world, back["id"])["state"] == "done"
    [line] = world.x("sale.order.line", "search_read", [["product_id.default_code", "=", "FURN_8855"]], fields=["qty_delivered"])
    assert line["qty_delivered"] == 10.0


def test_a_backorder_changed_in_odoo_after_the_split_is_still_reported(world, released):
    two = released["two"]
    drop(world, world.demo, "dispatches", "DISPATCH_A.csv", dispatch_csv([
        f"{two['name']},1,FURN_8855,,6,EA,,2026-11-02 10:00:00,Standard delivery,SD1,P1",
    ]))
    run_dispatches(world, world.demo)
    [back] = world.x("stock.picking", "search_read", [["backorder_id", "=", two["id"]]], fields=["name"])
    world.run_orders(world.demo)
    assert "ORDER_CHANGED_AFTER_RELEASE" not in world.open_codes(world.demo).get(back["name"], set())
    world.x("stock.move", "write", [moves(world, back["id"])["E-COM11"]["id"]], {"product_uom_qty": 3})
    world.run_orders(world.demo)
    assert "ORDER_CHANGED_AFTER_RELEASE" in world.open_codes(world.demo)[back["name"]]


def test_back_dated_times_are_exact_whatever_the_api_users_time_zone(world, released):
    # load() reads naive datetimes in the API user's zone: Brussels would put 06:00 UTC at 05:00 UTC
    world.x("res.users", "write", [world.odoo.uid], {"tz": "Europe/Brussels"})
    one = released["one"]
    drop(world, world.demo, "dispatches", "DISPATCH_TZ.csv", dispatch_csv(
        [f"{one['name']},1,FURN_7800,,2,EA,,2026-10-31 23:00:00,The Poste,TP9,P1"]))
    [result] = run_dispatches(world, world.demo)
    assert result.posted == 1
    assert picking(world, one["id"])["date_done"] == "2026-11-01 06:00:00"
    move = moves(world, one["id"])["FURN_7800"]
    assert move["date"] == "2026-11-01 06:00:00"
    lines = world.x("stock.move.line", "read", move["move_line_ids"], fields=["date"])
    assert lines and {l["date"] for l in lines} == {"2026-11-01 06:00:00"}


def test_short_shipment_without_backorder_when_the_partner_says_so(world, released, tmp_path):
    from threepl_bridge.specs.models import Partner

    data = world.demo.spec.model_dump()
    data["policy"]["backorder"] = "cancel"
    cancel_partner = Partner(spec=type(world.demo.spec).model_validate(data), layouts=world.demo.layouts, source=world.demo.source)
    two = released["two"]
    drop(world, cancel_partner, "dispatches", "DISPATCH_C.csv", dispatch_csv([
        f"{two['name']},1,FURN_8855,,6,EA,,2026-11-02 10:00:00,Standard delivery,SD1,P1",
    ]))
    [result] = run_dispatches(world, cancel_partner)
    assert result.posted == 1
    assert world.x("stock.picking", "search", [["backorder_id", "=", two["id"]]]) == []
    m = moves(world, two["id"])
    assert (m["FURN_8855"]["product_uom_qty"], m["FURN_8855"]["quantity"], m["E-COM11"]["state"]) == (10.0, 6.0, "cancel")


def test_lot_tracked_and_multi_parcel_lines(world, released):
    lots = released["lots"]
    drop(world, world.demo, "dispatches", "DISPATCH_L.csv", dispatch_csv([
        f"{lots['name']},1,FURN_5555,,6,EA,LOT-A,2026-11-02 10:00:00,Standard delivery,SD1,P1",
        f"{lots['name']},1,FURN_5555,,4,EA,LOT-B,2026-11-02 10:05:00,Standard delivery,SD2,P2",
    ]))
    [result] = run_dispatches(world, world.demo)
    assert result.posted == 2 and counts_add_up(result)
    p = picking(world, lots["id"])
    assert p["state"] == "done" and p["carrier_tracking_ref"] == "SD1, SD2"
    move = moves(world, lots["id"])["FURN_5555"]
    lines = world.x("stock.move.line", "read", move["move_line_ids"], fields=["lot_id", "quantity", "state"])
    assert sorted((l["lot_id"][1], l["quantity"]) for l in lines if l["quantity"]) == [("LOT-A", 6.0), ("LOT-B", 4.0)]


def test_replaying_the_same_shipment_never_posts_twice(world, released):
    one = released["one"]
    body = dispatch_csv([f"{one['name']},1,FURN_7800,,2,EA,,2026-11-02 10:00:00,The Poste,TP1,P1"])
    drop(world, world.demo, "dispatches", "DISPATCH_1.csv", body)
    run_dispatches(world, world.demo)
    layers_before = world.x("stock.valuation.layer", "search_count", [])
    # the 3PL drops the same file again, then the same line inside a new file
    drop(world, world.demo, "dispatches", "DISPATCH_1.csv", body)
    drop(world, world.demo, "dispatches", "DISPATCH_9.csv", body.replace(b"P1", b"P1") + b"")
    results = run_dispatches(world, world.demo)
    assert world.x("stock.valuation.layer", "search_count", []) == layers_before
    by_name = {world.ledger.exchange(r.exchange_id).remote_name: r for r in results}
    # the same name and content once archived is a new arrival, a duplicate of the settled first one
    assert by_name["DISPATCH_1.csv"].state == State.INPUT_DUPLICATE
    assert world.ledger.exchange(by_name["DISPATCH_1.csv"].exchange_id).arrival == 2
    assert by_name["DISPATCH_9.csv"].state in (State.INPUT_DUPLICATE, State.INPUT_PROCESSED)
    drop(world, world.demo, "dispatches", "DISPATCH_10.csv", dispatch_csv([
        f"{one['name']},1,FURN_7800,,2,EA,,2026-11-02 10:00:00,The Poste,TP1,P1",
        f"{one['name']},1,FURN_7800,,1,EA,,2026-11-04 10:00:00,The Poste,TP9,P9",
    ]))
    [mixed] = run_dispatches(world, world.demo)
    assert outcomes(world, mixed) == {2: ("duplicate", ""), 3: ("exception", "DISPATCH_CONFLICT")}
    assert world.x("stock.valuation.layer", "search_count", []) == layers_before


def test_a_batch_with_one_bad_picking_still_posts_the_others(world, released):
    world.x("res.users", "write", [8], {"email": False})  # Odoo now refuses to create a backorder (contract F3)
    one, two = released["one"], released["two"]
    drop(world, world.demo, "dispatches", "DISPATCH_M.csv", dispatch_csv([
        f"{one['name']},1,FURN_7800,,2,EA,,2026-11-02 10:00:00,The Poste,TP1,P1",
        f"{two['name']},1,FURN_8855,,6,EA,,2026-11-02 10:00:00,Standard delivery,SD1,P2",
    ]))
    [result] = run_dispatches(world, world.demo)
    assert picking(world, one["id"])["state"] == "done"
    assert picking(world, two["id"])["state"] == "assigned"
    assert outcomes(world, result) == {2: ("posted", ""), 3: ("exception", "DISPATCH_POST_FAILED")}
    [msg] = [o.message for o in world.ledger.row_outcomes(result.exchange_id) if o.code == "DISPATCH_POST_FAILED"]
    assert "Unable to send message, please configure the sender's email address." in msg


def test_killed_after_odoo_validated_before_the_ledger_commit_does_not_double_post(world, released):
    from threepl_bridge.flows.dispatches import DISPATCHES, process_dispatch_file
    from threepl_bridge.flows.exchange import receive_file

    one = released["one"]
    drop(world, world.demo, "dispatches", "DISPATCH_K.csv", dispatch_csv([f"{one['name']},1,FURN_7800,,2,EA,,2026-11-02 10:00:00,The Poste,TP1,P1"]))
    transport = world.transport(world.demo)
    received = receive_file(world.demo, DISPATCHES, "DISPATCH_K.csv", transport=transport, ledger=world.ledger)
    kwargs = dict(partner=world.demo, client=world.odoo, ledger=world.ledger, transport=transport, exchange_id=received.exchange_id, now=RUN_AT)
    with pytest.MonkeyPatch.context() as patch, pytest.raises(SystemExit):
        patch.setattr(type(world.ledger), "complete_postings", lambda *a, **k: (_ for _ in ()).throw(SystemExit("killed")))
        process_dispatch_file(**kwargs)
    assert picking(world, one["id"])["state"] == "done"  # Odoo did validate
    layers = world.x("stock.valuation.layer", "search_count", [])
    result = process_dispatch_file(**kwargs)  # Airflow retries the task
    assert (result.state, result.posted) == (State.INPUT_PROCESSED, 1)
    assert world.x("stock.valuation.layer", "search_count", []) == layers
    [line] = world.x("sale.order.line", "search_read", [["product_id.default_code", "=", "FURN_7800"]], fields=["qty_delivered"])
    assert line["qty_delivered"] == 2.0


def test_every_row_exception_code_from_one_file(world, released, monkeypatch):
    one, two, lots = released["one"], released["two"], released["lots"]
    cancelled = world.sell([("FURN_7800", 1)])
    world.run_orders(world.demo)
    world.x("stock.picking", "action_cancel", [cancelled["id"]])
    held = world.sell([("FURN_8855", 2), ("E-COM11", 1)])
    world.run_orders(world.demo)
    not_released = world.x("stock.picking", "create", {"picking_type_id": 12, "location_id": 35, "location_dest_id": 5, "partner_id": 10})
    [nr] = world.x("stock.picking", "read", [not_released], fields=["name"])
    rows = [
        "3PL/OUT/99999,1,FURN_7800,,1,EA,,2026-11-02 10:00:00,,,",                              # 2 unknown order
        f"{nr['name']},1,FURN_7800,,1,EA,,2026-11-02 10:00:00,,,",                               # 3 not released
        f"{cancelled['name']},1,FURN_7800,,1,EA,,2026-11-02 10:00:00,,,",                        # 4 cancelled
        f"{one['name']},1,FURN_9999,,1,EA,,2026-11-02 10:00:00,,,",                              # 5 SKU not on picking
        f"{one['name']},2,FURN_7800,,1,KG,,2026-11-02 10:00:00,,,",                              # 6 unknown uom (GX)
        f"{two['name']},1,FURN_8855,,11,EA,,2026-11-02 10:00:00,,T7,",                           # 7 over-shipment
        f"{lots['name']},1,FURN_5555,,1,EA,,2026-11-02 10:00:00,,,",                             # 8 lot missing
        f"{lots['name']},2,FURN_5555,,1,EA,LOT-NOPE,2026-11-02 10:00:00,,,",                     # 9 lot unknown
        f"{one['name']},3,FURN_7800,,1,EA,,2026-11-02 10:00:00,The Poste,,",                     # 10 tracking missing
        f"{one['name']},4,FURN_7800,,0,EA,,2026-11-02 10:00:00,,,",                              # 11 qty not positive
        f"{one['name']},5,FURN_7800,,1,EA,,2099-01-01 00:00:00,,,",                              # 12 future date
        f"{one['name']},6,FURN_7800,,lots,EA,,2026-11-02 10:00:00,,,",                           # 13 unreadable value
        ",7,FURN_7800,,1,EA,,2026-11-02 10:00:00,,,",                                            # 14 required missing
        f"{one['name']},8,FURN_7800,,1,EA,,2026-11-02 10:00:00,,,",                              # 15 duplicate row
        f"{one['name']},8,FURN_7800,,1,EA,,2026-11-02 10:00:00,,,",                              # 16 duplicate row
        f"{held['name']},1,FURN_8855,,2,EA,,2026-11-02 10:00:00,,T17,",                          # 17 order held
        f"{held['name']},2,E-COM11,,1,DZ,,2026-11-02 10:00:00,,T18,",                            # 18 over-shipment (1 dozen > 1)
    ]
    drop(world, world.demo, "dispatches", "DISPATCH_BAD.csv", dispatch_csv(rows))
    [result] = run_dispatches(world, world.demo)
    got = {n: code for n, (_, code) in outcomes(world, result).items()}
    assert got == {
        2: "DISPATCH_UNKNOWN_ORDER", 3: "DISPATCH_NOT_RELEASED", 4: "DISPATCH_PICKING_CANCELLED",
        5: "DISPATCH_SKU_NOT_ON_PICKING", 6: "DISPATCH_UNKNOWN_UOM", 7: "DISPATCH_OVER_SHIPMENT", 8: "DISPATCH_LOT_MISSING",
        9: "DISPATCH_LOT_UNKNOWN", 10: "DISPATCH_TRACKING_MISSING", 11: "DISPATCH_QTY_NOT_POSITIVE", 12: "DISPATCH_FUTURE_DATE",
        13: "DISPATCH_FIELD_INVALID", 14: "DISPATCH_REQUIRED_MISSING", 15: "DISPATCH_DUPLICATE_ROW", 16: "DISPATCH_DUPLICATE_ROW",
        17: "DISPATCH_ORDER_HELD", 18: "DISPATCH_OVER_SHIPMENT",
    }
    assert (result.rows, result.exception, result.posted) == (17, 17, 0) and counts_add_up(result)
    messages = {o.row_number: o.message for o in world.ledger.row_outcomes(result.exchange_id)}
    assert messages[13] == "DISPATCH_BAD.csv row 13: qty_shipped: 'lots' is not a number"
    assert "held whole: row(s) [18] failed" in messages[17]
    for p in (one, two, lots, held):
        assert picking(world, p["id"])["state"] == "assigned"  # nothing was posted


def test_unit_not_convertible_and_locked_period(world, released, tmp_path):
    from threepl_bridge.specs.models import Partner

    data = world.demo.spec.model_dump()
    data["uom"] = [*data["uom"], {"odoo_uom": "kg", "code": "KG", "factor": 1}]
    partner = Partner(spec=type(world.demo.spec).model_validate(data), layouts=world.demo.layouts, source=world.demo.source)
    one, two = released["one"], released["two"]
    admin_env = world.odoo  # the lock date is set by an administrator (contract F4): here straight in the stand-in
    from threepl_bridge.odoo.client import OdooClient, OdooSettings

    admin = OdooClient(OdooSettings(url=admin_env.settings.url, database="odoo3pl", login="admin", password="admin"))
    admin.execute("res.company", "write", [1], {"period_lock_date": "2026-10-31"})
    drop(world, partner, "dispatches", "DISPATCH_U.csv", dispatch_csv([
        f"{one['name']},1,FURN_7800,,2,KG,,2026-11-02 10:00:00,The Poste,TP1,P1",
        f"{two['name']},1,FURN_8855,,10,EA,,2026-10-30 10:00:00,Standard delivery,SD1,P1",
        f"{two['name']},2,E-COM11,,4,EA,,2026-10-30 10:00:00,Standard delivery,SD1,P1",
    ]))
    [result] = run_dispatches(world, partner)
    assert outcomes(world, result) == {2: ("exception", "DISPATCH_UOM_NOT_CONVERTIBLE"), 3: ("exception", "DISPATCH_LOCKED_PERIOD"),
                                       4: ("exception", "DISPATCH_LOCKED_PERIOD")}


def test_unreadable_file_goes_to_the_error_folder_and_others_go_on(world, released):
    one = released["one"]
    drop(world, world.demo, "dispatches", "DISPATCH_A_BAD.csv", b"order_ref,qty\r\n3PL/OUT/00001,1\r\n")
    drop(world, world.demo, "dispatches", "DISPATCH_B_LATIN1.csv", "order_ref,line,sku,barcode,qty_shipped,uom,lot,shipped_at\r\nX,1,Caf\xe9,,1,EA,,2026-11-02 10:00:00\r\n".encode("latin-1"))
    drop(world, world.demo, "dispatches", "DISPATCH_C.csv", dispatch_csv([f"{one['name']},1,FURN_7800,,2,EA,,2026-11-02 10:00:00,The Poste,TP1,P1"]))
    results = {world.ledger.exchange(r.exchange_id).remote_name: r for r in run_dispatches(world, world.demo)}
    bad, latin, good = results["DISPATCH_A_BAD.csv"], results["DISPATCH_B_LATIN1.csv"], results["DISPATCH_C.csv"]
    assert bad.state == State.INPUT_ERROR and "required column(s) ['sku', 'qty_shipped', 'shipped_at'] missing" in bad.error
    assert latin.state == State.INPUT_ERROR and "line 2: bytes b'\\xe9' are not valid utf-8-sig" in latin.error
    assert good.state == State.INPUT_PROCESSED and good.posted == 1
    assert sorted(p.name for p in (world.sftp_root / "error").iterdir()) == [
        "DISPATCH_A_BAD.csv", "DISPATCH_A_BAD.csv.ok", "DISPATCH_B_LATIN1.csv", "DISPATCH_B_LATIN1.csv.ok"]
    codes = {e.code for e in world.ledger.open_exceptions("demo3pl")}
    assert "DISPATCH_FILE_UNREADABLE" in codes


def test_pending_at_the_3pl_after_the_sla_and_closed_when_dispatched(world, released):
    from threepl_bridge.flows.dispatches import flag_pending

    later = datetime.now(timezone.utc) + timedelta(hours=72)
    pending = flag_pending(partner=world.demo, client=world.odoo, ledger=world.ledger, now=later)
    assert [p["picking"] for p in pending] == sorted(p["name"] for p in released.values())
    assert all(p["age_hours"] > 48 for p in pending)
    assert {e.object_ref for e in world.ledger.open_exceptions("demo3pl") if e.code == "DISPATCH_PENDING_AT_3PL"} == {p["name"] for p in released.values()}
    one = released["one"]
    drop(world, world.demo, "dispatches", "DISPATCH_1.csv", dispatch_csv([f"{one['name']},1,FURN_7800,,2,EA,,2026-11-02 10:00:00,The Poste,TP1,P1"]))
    run_dispatches(world, world.demo)
    still = {e.object_ref for e in world.ledger.open_exceptions("demo3pl") if e.code == "DISPATCH_PENDING_AT_3PL"}
    assert one["name"] not in still and len(still) == 2
    assert flag_pending(partner=world.demo, client=world.odoo, ledger=world.ledger, now=datetime.now(timezone.utc)) == []


def test_a_misspelt_sku_gets_the_pickings_sku_as_a_suggested_fix_never_applied(world, released):
    import json

    one = released["one"]
    drop(world, world.demo, "dispatches", "DISPATCH_TYPO.csv", dispatch_csv([
        f"{one['name']},1,furn_78OO,,2,EA,,2026-11-02 10:00:00,The Poste,TP1,P1",     # lookalike: case and O for 0
        f"{one['name']},2,FURN_9999,,1,EA,,2026-11-02 10:00:00,The Poste,TP1,P1"]))   # nothing on the picking is close
    [result] = run_dispatches(world, world.demo)
    assert result.posted == 0 and picking(world, one["id"])["state"] == "assigned"
    found = {o.row_number: o for o in world.ledger.row_outcomes(result.exchange_id)}
    assert {n: o.code for n, o in found.items()} == {2: "DISPATCH_SKU_NOT_ON_PICKING", 3: "DISPATCH_SKU_NOT_ON_PICKING"}
    fix = json.loads(found[2].suggestion)
    assert (fix["kind"], fix["value"]) == ("sku_lookalike", "FURN_7800") and "furn_78OO" in fix["reason"]
    assert found[3].suggestion is None


def test_suggested_fixes_for_a_dropped_prefix_cases_for_units_and_another_warehouses_order(world, released):
    import json

    one, two = released["one"], released["two"]
    [wh] = world.x("stock.warehouse", "search", [["code", "!=", "3PL"]], limit=1)
    so = world.x("sale.order", "create", {"partner_id": 10, "warehouse_id": wh, "order_line": [[0, 0, {"product_id": 8, "product_uom_qty": 1}]]})
    world.x("sale.order", "action_confirm", [so])
    [elsewhere] = world.x("stock.picking", "search_read", [["sale_id", "=", so]], fields=["name", "picking_type_id"])
    short = one["name"].split("/", 1)[1]  # "3PL/OUT/00001" sent as "OUT/00001"
    drop(world, world.demo, "dispatches", "DISPATCH_HINTS.csv", dispatch_csv([
        f"{short},1,FURN_7800,,2,EA,,2026-11-02 10:00:00,The Poste,TP1,P1",
        f"{two['name']},1,FURN_8855,,10,CS12,,2026-11-02 10:00:00,The Poste,TP2,P2",  # 10 units ordered, "10 cases" reported
        f"{elsewhere['name']},1,FURN_7800,,1,EA,,2026-11-02 10:00:00,The Poste,TP3,P3"]))
    [result] = run_dispatches(world, world.demo)
    found = {o.row_number: o for o in world.ledger.row_outcomes(result.exchange_id) if o.outcome == "exception"}
    fixes = {n: (o.code, json.loads(o.suggestion) if o.suggestion else None) for n, o in found.items()}
    code, fix = fixes[2]
    assert (code, fix["kind"], fix["value"]) == ("DISPATCH_UNKNOWN_ORDER", "order_ref_prefix", one["name"])
    code, fix = fixes[3]
    assert (code, fix["kind"], fix["value"]) == ("DISPATCH_OVER_SHIPMENT", "cases_for_units", "10 CS12 = 120")
    assert "10 Units" in fix["reason"] and "EA" in fix["reason"]
    code, fix = fixes[4]
    assert (code, fix["kind"], fix["value"]) == ("DISPATCH_NOT_RELEASED", "other_warehouse", elsewhere["picking_type_id"][1])
    assert all(picking(world, p["id"])["state"] == "assigned" for p in (one, two))  # a suggestion is never applied


def _serial_phone(world) -> dict[str, int]:
    """A serial-tracked product with serials SN-1, SN-2, SN-3 (one unit each) in 3PL/Stock; their lot ids."""
    pid = world.x("product.product", "create", {"name": "Phone", "default_code": "PHONE-S", "detailed_type": "product", "standard_price": 300.0,
                                                "tracking": "serial"})
    lots = {}
    for name in ("SN-1", "SN-2", "SN-3"):
        lots[name] = world.x("stock.lot", "create", {"name": name, "product_id": pid})
        world.x("stock.quant", "create", {"product_id": pid, "location_id": 35, "lot_id": lots[name], "inventory_quantity_auto_apply": 1},
                context={"inventory_mode": True})
    return lots


def test_serials_ship_one_unit_each_and_a_serial_twice_or_a_line_of_two_is_refused_with_its_own_code(world):
    lots = _serial_phone(world)
    world.run_products(world.demo)
    picking = world.sell([("PHONE-S", 2)])
    world.run_orders(world.demo)
    row = f"{picking['name']},1,PHONE-S,,{{qty}},EA,{{serial}},2026-11-02 10:00:00,The Poste,TP1,{{parcel}}"
    drop(world, world.demo, "dispatches", "DISPATCH_S1.csv", dispatch_csv([row.format(qty=1, serial="SN-1", parcel="P1"),
                                                                           row.format(qty=1, serial="SN-1", parcel="P2")]))
    drop(world, world.demo, "dispatches", "DISPATCH_S2.csv", dispatch_csv([row.format(qty=2, serial="SN-2", parcel="P1")]))
    results = {world.ledger.exchange(r.exchange_id).remote_name: r for r in run_dispatches(world, world.demo)}
    assert results["DISPATCH_S1.csv"].posted == 0 and results["DISPATCH_S2.csv"].posted == 0
    rows = {(o.row_number, o.code): o.message for x in results.values() for o in world.ledger.row_outcomes(x.exchange_id) if o.outcome == "exception"}
    assert rows[(3, "DISPATCH_SERIAL_DUPLICATE")] == "DISPATCH_S1.csv row 3: serial 'SN-1' of PHONE-S is already on row 2 of this file"
    assert (2, "DISPATCH_ORDER_HELD") in rows
    assert rows[(2, "DISPATCH_SERIAL_QTY")].endswith("PHONE-S is tracked by serial number: serial 'SN-2' is one unit, the line ships 2")
    # the 3PL's corrected file: one line per serial
    drop(world, world.demo, "dispatches", "DISPATCH_S3.csv", dispatch_csv([row.format(qty=1, serial="SN-1", parcel="P1"),
                                                                           row.format(qty=1, serial="SN-3", parcel="P2")]))
    [fixed] = run_dispatches(world, world.demo)
    assert fixed.posted == 2
    on_hand = {q["lot_id"][1]: q["quantity"] for q in world.x("stock.quant", "search_read", [["lot_id", "in", sorted(lots.values())],
                                                                                            ["location_id", "=", 35]], fields=["lot_id", "quantity"])}
    assert on_hand == {"SN-1": 0.0, "SN-2": 1.0, "SN-3": 0.0}


def test_a_serial_already_delivered_in_an_earlier_file_is_refused_by_odoo_and_reported_on_its_row(world):
    _serial_phone(world)
    world.run_products(world.demo)
    first, second = world.sell([("PHONE-S", 1)]), world.sell([("PHONE-S", 1)], ref="PO-2")
    world.run_orders(world.demo)
    row = "{name},1,PHONE-S,,1,EA,SN-1,2026-11-02 10:00:00,The Poste,TP1,P1"
    drop(world, world.demo, "dispatches", "DISPATCH_F1.csv", dispatch_csv([row.format(name=first["name"])]))
    [one] = run_dispatches(world, world.demo)
    drop(world, world.demo, "dispatches", "DISPATCH_F2.csv", dispatch_csv([row.format(name=second["name"])]))
    [two] = run_dispatches(world, world.demo)
    assert (one.posted, two.posted, two.exception) == (1, 0, 1)
    [refused] = [o for o in world.ledger.row_outcomes(two.exchange_id) if o.outcome == "exception"]
    assert refused.code == "DISPATCH_POST_FAILED" and "The serial number has already been assigned" in refused.message
    states = {p["name"]: p["state"] for p in world.x("stock.picking", "read", [first["id"], second["id"]], fields=["name", "state"])}
    assert states[first["name"]] == "done" and states[second["name"]] != "done"
