"""Advance shipping notices to the 3PL: expected receipts announced once, held with reasons, changes and
cancellations after the notice sent as the partner's layout says (stand-in, SFTP)."""

from __future__ import annotations

from datetime import timedelta

from tests.flows.conftest import RUN_AT, purchase, run_asns
from threepl_bridge.flows.dispatches import flag_pending


def lines(world, partner) -> list[list[str]]:
    out = []
    for name, data in world.files(partner, "asn").items():
        text = data.decode(partner.layout_for("asn").encoding)
        out += [line.split(partner.layout_for("asn").delimiter) for line in text.splitlines()[1:]]
    return out


def test_a_purchase_receipt_is_announced_once_with_its_lines(world):
    world.run_products(world.demo)
    asn = purchase(world, [("FURN_8855", 20, 95.0), ("FURN_7800", 5, 300.0)], ref="SUP-1")
    first = run_asns(world, world.demo)
    assert (first["candidates"], first["released"], first["held"]) == (1, 1, 0)
    [(name, data)] = world.files(world.demo, "asn").items()
    assert name.startswith("ASN_") and name.endswith(".csv")
    text = data.decode()
    assert text.splitlines()[0] == "asn_ref,line,action,receipt_type,sku,barcode,qty_expected,uom,lot,expected_date,supplier,po_number"
    rows = lines(world, world.demo)
    assert [(r[0], r[1], r[2], r[3], r[4], r[6], r[7], r[11]) for r in rows] == [
        (asn["name"], "1", "new", "purchase", "FURN_8855", "20", "EA", asn["purchase_id"][1]),
        (asn["name"], "2", "new", "purchase", "FURN_7800", "5", "EA", asn["purchase_id"][1])]
    assert rows[0][10] == "Wood Corner"
    second = run_asns(world, world.demo)
    assert second["candidates"] == 0 and len(world.files(world.demo, "asn")) == 1  # never announced twice
    notes = world.x("mail.message", "search_read", [["model", "=", "stock.picking"], ["res_id", "=", asn["id"]]], fields=["body"])
    assert any("Released to 3PL" in n["body"] for n in notes)


def test_a_receipt_of_a_product_not_at_the_3pl_is_held_then_announced(world):
    asn = purchase(world, [("FURN_8855", 2, 95.0)])
    held = run_asns(world, world.demo)
    assert (held["released"], held["held"]) == (0, 1)
    assert world.open_codes(world.demo)[asn["name"]] == {"ASN_PRODUCT_NOT_AT_3PL"}
    world.run_products(world.demo)
    later = run_asns(world, world.demo)
    assert later["released"] == 1 and asn["name"] not in world.open_codes(world.demo)


def test_a_cancellation_and_a_change_after_the_notice_go_out_with_their_action(world):
    world.run_products(world.demo)
    cancelled = purchase(world, [("FURN_8855", 2, 95.0)], ref="SUP-C")
    changed = purchase(world, [("FURN_7800", 4, 300.0)], ref="SUP-X")
    run_asns(world, world.demo)
    world.x("stock.picking", "action_cancel", [cancelled["id"]])
    [move] = world.x("stock.move", "search", [["picking_id", "=", changed["id"]]])
    world.x("stock.move", "write", [move], {"product_uom_qty": 6})
    result = run_asns(world, world.demo, now=RUN_AT + timedelta(minutes=30))
    assert result["watch"] == {"watched": 2, "cancelled": 1, "changed": 1}
    actions = {(r[0], r[2], r[6]) for r in lines(world, world.demo)}
    assert {(cancelled["name"], "cancel", "2"), (changed["name"], "change", "6")} <= actions
    again = run_asns(world, world.demo, now=RUN_AT + timedelta(hours=1))
    assert again["watch"]["cancelled"] == 0 and again["watch"]["changed"] == 0  # sent once


def test_the_semicolon_partner_needs_barcodes_and_is_told_of_a_cancellation_by_a_person(world):
    world.run_products(world.semi)
    [pid] = world.x("product.product", "search", [["default_code", "=", "FURN_8855"]])
    barcode = world.x("product.product", "read", [pid], fields=["barcode"])[0]["barcode"]
    world.x("product.product", "write", [pid], {"barcode": False})
    asn = purchase(world, [("FURN_8855", 2, 95.0)])
    held = run_asns(world, world.semi)
    assert held["held"] == 1 and world.open_codes(world.semi)[asn["name"]] == {"ASN_MISSING_BARCODE"}
    world.x("product.product", "write", [pid], {"barcode": barcode or "4006381333931"})
    assert run_asns(world, world.semi)["released"] == 1
    [(name, data)] = world.files(world.semi, "asn").items()
    assert name.startswith("AVIS_") and data.decode("iso-8859-1").splitlines()[0] == "Avis;Pos;Artikel;EAN;Menge;ME;Anlieferung;Lieferant"
    world.x("stock.picking", "action_cancel", [asn["id"]])
    run_asns(world, world.semi)
    assert "ASN_CANCELLED_AFTER_RELEASE" in world.open_codes(world.semi)[asn["name"]]
    assert len(world.files(world.semi, "asn")) == 1


def test_an_announced_receipt_is_never_an_order_pending_at_the_3pl(world):
    world.run_products(world.demo)
    asn = purchase(world, [("FURN_8855", 2, 95.0)])
    run_asns(world, world.demo)
    pending = flag_pending(partner=world.demo, client=world.odoo, ledger=world.ledger, now=RUN_AT + timedelta(days=5))
    assert asn["name"] not in {p["picking"] for p in pending}
    assert asn["name"] not in world.open_codes(world.demo)


def test_a_customer_return_made_in_odoo_is_announced_when_the_partner_wants_rma_notices(world):
    from tests.flows.conftest import ship_one

    picking, _ = ship_one(world)
    ctx = {"active_id": picking["id"], "active_ids": [picking["id"]], "active_model": "stock.picking"}
    wizard = world.x("stock.return.picking", "create", {}, context=ctx)
    rma = world.x("stock.return.picking", "create_returns", [wizard], context=ctx)["res_id"]
    [name] = [p["name"] for p in world.x("stock.picking", "read", [rma], fields=["name"])]
    run_asns(world, world.demo)
    assert [(r[0], r[3], r[4], r[6]) for r in lines(world, world.demo)] == [(name, "return", "FURN_7800", "2")]
    run_asns(world, world.semi)  # semi3pl announces purchase receipts only
    assert world.files(world.semi, "asn") == {}


def test_the_rest_of_a_short_receipt_stays_announced_under_its_asn(world):
    from tests.flows.conftest import RECEIPT_HEADER, csv_file, drop, run_kind

    world.run_products(world.demo)
    asn = purchase(world, [("FURN_8855", 20, 95.0)])
    run_asns(world, world.demo)
    drop(world, world.demo, "receipts", "RECEIPT_1.csv", csv_file(RECEIPT_HEADER, [f"{asn['name']},1,FURN_8855,,12,EA,,,good,2026-11-03 08:00:00"]))
    [result] = run_kind(world, world.demo, "receipts")
    assert result.posted == 1
    [rest] = world.x("stock.picking", "search_read", [["backorder_id", "=", asn["id"]]], fields=["name", "state"])
    assert rest["state"] == "assigned"
    again = run_asns(world, world.demo)
    assert again["candidates"] == 0 and len(world.files(world.demo, "asn")) == 1  # the backorder is not announced again
    released = world.ledger.released_pickings("demo3pl", kind="asn")
    assert {(r.picking_name, r.state) for r in released.values()} == {(asn["name"], "done"), (rest["name"], "released")}


def test_an_inter_warehouse_transfer_is_announced_only_when_the_partner_asks(world, tmp_path):
    import yaml

    from tests.conftest import REPO
    from threepl_bridge.specs.loader import load_partner

    world.run_products(world.demo)
    world.x("stock.quant", "create", {"product_id": 32, "location_id": 8, "inventory_quantity_auto_apply": 50}, context={"inventory_mode": True})
    picking = world.x("stock.picking", "create", {"picking_type_id": 11, "location_id": 8, "location_dest_id": 35,  # WH/Stock -> 3PL/Stock
                                                  "move_ids": [[0, 0, {"name": "resupply", "product_id": 32, "product_uom_qty": 5, "product_uom": 1,
                                                                       "location_id": 8, "location_dest_id": 35}]]})
    world.x("stock.picking", "action_confirm", [picking])
    world.x("stock.picking", "action_assign", [picking])
    [transfer] = world.x("stock.picking", "read", [picking], fields=["name", "state"])
    assert transfer["state"] == "assigned"
    assert run_asns(world, world.demo)["candidates"] == 0  # demo3pl announces purchase receipts (and returns) only
    data = yaml.safe_load((REPO / "sftp_formats" / "partners" / "demo3pl.yaml").read_text())
    data["policy"]["asn_transfers"] = True
    (tmp_path / "layouts").mkdir()
    for name in {d["layout"] for d in data["documents"].values()}:
        (tmp_path / "layouts" / f"{name}.yaml").write_text((REPO / "sftp_formats" / "layouts" / f"{name}.yaml").read_text())
    (tmp_path / "demo3pl.yaml").write_text(yaml.safe_dump(data))
    partner = load_partner(tmp_path / "demo3pl.yaml")
    assert run_asns(world, partner)["released"] == 1
    assert [(r[0], r[3], r[6]) for r in lines(world, partner)] == [(transfer["name"], "transfer", "5")]
