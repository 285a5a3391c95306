"""The Odoo calls issue 18's goods in added (receipts, returns, locations), through our client and the flows' own
posting (``flows.goods_in.GoodsIn.post`` with a real ledger): the same assertions on the stand-in and on a real
Odoo 17 (see conftest.py).

Facts the flows rely on, each seen on a real 17.0 server:
- an incoming move's pre-filled lines may be replaced (unlink, then create) by lines into other internal locations
  (a quarantine outside the stock location) and with a lot by name (created at validation, F8); each line is
  valued on its own, dated ``force_period_date``;
- a receipt move written above its demand is received in full (Odoo accepts a surplus silently);
- a receipt's backorder is ``assigned`` (goods from a supplier need no reservation);
- a return line into the scrap location is valued nowhere: only the restocked unit comes back at the delivery's
  cost (F9), and ``qty_delivered`` drops by both;
- the API user may create an internal location under the warehouse's view, found by ``complete_name``.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from types import SimpleNamespace

import pytest

from tests.conftest import REPO
from threepl_bridge.flows import returns
from threepl_bridge.flows.goods_in import Arrival, GoodsIn, Put, location_named
from threepl_bridge.ledger.repo import Ledger
from threepl_bridge.odoo.errors import OdooUserError
from threepl_bridge.odoo.stock_queries import StockQueries
from threepl_bridge import codes
from threepl_bridge.specs.loader import load_partner

MOVE_FIELDS = ["product_id", "product_uom_qty", "quantity", "picked", "state", "move_line_ids", "product_uom", "location_id", "location_dest_id"]


@pytest.fixture
def ledger(tmp_path):
    return Ledger.open(f"sqlite:///{tmp_path / 'ledger.db'}")


def _exchange(ledger: Ledger, name: str) -> int:
    return ledger.register_inbound(partner="demo3pl", kind="receipts", folder="/in", name=name, sha256=hashlib.sha256(name.encode()).hexdigest(),
                                   size=1).exchange_id


def _quarantine(odoo) -> int:
    name = f"Q-{odoo.tag}"
    found = odoo.x("stock.location", "search", [["complete_name", "=", f"{odoo.warehouse['code']}/{name}"]])
    return found[0] if found else odoo.x("stock.location", "create", {"name": name, "location_id": odoo.warehouse["view_location_id"][0], "usage": "internal"})


def _lines(odoo, picking_id: int) -> list[tuple[int, float, str, int]]:
    found = odoo.x("stock.move.line", "search_read", [["picking_id", "=", picking_id]], fields=["product_id", "quantity", "lot_id", "location_dest_id"])
    return sorted((l["product_id"][0], l["quantity"], l["lot_id"][1] if l["lot_id"] else "", l["location_dest_id"][0]) for l in found)


def _day(odoo) -> date:
    """A day in the open period: yesterday, unless the books are locked past it (then the test cannot say anything)."""
    day = datetime.now(timezone.utc).date() - timedelta(days=1)
    lock = StockQueries(odoo.client, load_partner(REPO / "sftp_formats" / "partners" / "demo3pl.yaml")).lock_dates([1]).get(1)
    if lock and day.isoformat() <= lock:
        pytest.skip(f"the books are locked until {lock}")
    return day


def test_a_location_made_by_the_api_user_under_the_warehouse_is_found_by_its_full_name(odoo):
    loc = _quarantine(odoo)
    [rec] = odoo.x("stock.location", "read", [loc], fields=["complete_name", "usage"])
    assert rec == {"id": loc, "complete_name": f"{odoo.warehouse['code']}/Q-{odoo.tag}", "usage": "internal"}
    partner = load_partner(REPO / "sftp_formats" / "partners" / "demo3pl.yaml")
    assert location_named(StockQueries(odoo.client, partner), rec["complete_name"]) == loc
    assert location_named(StockQueries(odoo.client, partner), f"{odoo.warehouse['code']}/nowhere-{odoo.tag}") is None


def test_f08_a_receipt_posted_by_the_flow_short_damaged_new_lot_and_a_surplus(odoo, ledger):
    odoo.ensure_email()
    partner = load_partner(REPO / "sftp_formats" / "partners" / "demo3pl.yaml")
    quarantine = _quarantine(odoo)
    drawer, box, desk = odoo.product("DRW"), odoo.product("BOX", tracking="lot"), odoo.product("DESK")
    vendor = odoo.customer(phone=False)
    po = odoo.x("purchase.order", "create", {
        "partner_id": vendor, "picking_type_id": odoo.warehouse["in_type_id"][0], "partner_ref": f"ASN-{odoo.tag}",
        "order_line": [[0, 0, {"product_id": drawer["id"], "product_qty": 20, "price_unit": 95}],
                       [0, 0, {"product_id": box["id"], "product_qty": 10, "price_unit": 60}],
                       [0, 0, {"product_id": desk["id"], "product_qty": 5, "price_unit": 300}]],
    })
    odoo.x("purchase.order", "button_confirm", [po])
    [picking] = odoo.x("stock.picking", "search_read", [["purchase_id", "=", po]], fields=["name", "state", "company_id"])
    moves = {m["product_id"][0]: m for m in odoo.moves(picking["id"], MOVE_FIELDS)}
    stock, unit = odoo.stock_location, moves[drawer["id"]]["product_uom"][0]
    day = _day(odoo)
    moment = datetime.combine(day, datetime.min.time().replace(hour=10), tzinfo=partner.spec.company_tz)

    def arrival() -> Arrival:
        a = Arrival(picking={"id": picking["id"], "name": picking["name"]}, rows=[], moves={m["id"]: m for m in moves.values()}, moment=moment)
        a.puts = {moves[drawer["id"]]["id"]: [Put(Decimal(12), unit, stock), Put(Decimal(2), unit, quarantine)],
                  moves[box["id"]]["id"]: [Put(Decimal(10), unit, stock, lot_name=f"RCV-{odoo.tag}")],
                  moves[desk["id"]]["id"]: [Put(Decimal("5.5"), unit, stock)]}
        a.move_qty = {moves[drawer["id"]]["id"]: Decimal(14), moves[box["id"]]["id"]: Decimal(10), moves[desk["id"]]["id"]: Decimal("5.5")}
        return a

    posting = GoodsIn("receipts", codes.RECEIPT_POST_FAILED, "Received")
    GoodsIn._prepare(odoo.client, [arrival()])  # an attempt that dies before validation; its retry prepares again
    exchange = _exchange(ledger, f"R-{odoo.tag}")
    posted, issues, names = posting.post(partner, odoo.client, ledger, [arrival()], exchange, "RECEIPT_CT.csv")
    assert (issues, names) == ([], [picking["name"]])
    assert _lines(odoo, picking["id"]) == sorted([(drawer["id"], 12.0, "", stock), (drawer["id"], 2.0, "", quarantine),
                                                  (box["id"], 10.0, f"RCV-{odoo.tag}", stock), (desk["id"], 5.0, "", stock), (desk["id"], 0.5, "", stock)])
    # (a move written above its demand: Odoo 17 keeps the demand's line and adds one for the surplus)
    done, rest = odoo.x("stock.picking", "search_read", [["purchase_id", "=", po]], fields=["state", "backorder_id", "date_done"], order="id")
    assert done["state"] == "done" and done["date_done"] == moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    assert (rest["state"], rest["backorder_id"][0]) == ("assigned", done["id"])  # 6 drawers still expected
    assert odoo.valuation(moves[drawer["id"]]["id"]) == (14.0, 1330.0)  # the damaged ones are valued too: the company owns them
    assert odoo.valuation(moves[desk["id"]]["id"]) == (5.5, 1650.0)  # the surplus is received
    if odoo.dialect.books_stock_moves:  # 17, 18: an entry per valued move, dated force_period_date
        entries = odoo.x("account.move", "search_read", [["stock_move_id", "in", [m["id"] for m in moves.values()]]], fields=["date"])
        assert len(entries) == 3 and {e["date"] for e in entries} == {day.isoformat()}
    held = odoo.x("stock.quant", "search_read", [["product_id", "=", drawer["id"]], ["location_id", "=", quarantine]], fields=["quantity"])
    assert [q["quantity"] for q in held] == [2.0]
    received = odoo.x("purchase.order.line", "search_read", [["order_id", "=", po]], fields=["product_id", "qty_received"])
    assert {l["product_id"][0]: l["qty_received"] for l in received} == {drawer["id"]: 14.0, box["id"]: 10.0, desk["id"]: 5.5}
    again = posting.post(partner, odoo.client, ledger, [arrival()], exchange, "RECEIPT_CT.csv")  # a retry after the commit
    assert again[2] == [picking["name"]] and odoo.valuation(moves[drawer["id"]]["id"]) == (14.0, 1330.0)


def test_f09_a_returned_unit_scrapped_is_valued_nowhere_the_restocked_one_at_the_delivery_cost(odoo, ledger):
    odoo.ensure_email()
    partner = load_partner(REPO / "sftp_formats" / "partners" / "demo3pl.yaml")
    desk = odoo.product("DESK", stock=10, cost=300.0)
    picking = odoo.order([(desk["id"], 3)])
    assert odoo.x("stock.picking", "button_validate", [picking["id"]], context={"skip_sms": True}) is True
    [delivered] = odoo.moves(picking["id"])
    work = SimpleNamespace(client=odoo.client, ledger=ledger, partner=partner, exchange=SimpleNamespace(id=_exchange(ledger, f"W-{odoo.tag}")))
    made = returns._make_return(work, picking, {delivered["id"]: Decimal(2)})  # the flow's own wizard calls (F9)
    action = {"res_id": made}
    [move] = odoo.moves(action["res_id"], MOVE_FIELDS)
    assert move["product_uom_qty"] == 2.0 and ledger.posting_of("demo3pl", f"return-create:{picking['id']}:{work.exchange.id}") == ("done", made)
    # what the returns flow reads to know how much more may come back, and to find a return whose reply was lost
    delivered = [m["id"] for m in odoo.moves(picking["id"])]
    back = odoo.client.search_read_in("stock.move", "origin_returned_move_id", delivered, ["origin_returned_move_id", "product_uom_qty", "state"])
    assert [(m["origin_returned_move_id"][0], m["product_uom_qty"]) for m in back] == [(delivered[0], 2.0)]
    assert odoo.x("stock.picking", "search", [["return_id", "=", picking["id"]], ["state", "not in", ["done", "cancel"]]]) == [action["res_id"]]
    scrap = location_named(StockQueries(odoo.client, partner), partner.spec.policy.scrap_location)
    assert scrap is not None
    unit = move["product_uom"][0]
    a = Arrival(picking={"id": action["res_id"], "name": "return"}, rows=[], moves={move["id"]: move},
                moment=datetime.combine(_day(odoo), datetime.min.time(), tzinfo=partner.spec.company_tz),
                puts={move["id"]: [Put(Decimal(1), unit, odoo.stock_location), Put(Decimal(1), unit, scrap)]}, move_qty={move["id"]: Decimal(2)})
    _, issues, names = GoodsIn("return", codes.RETURN_POST_FAILED, "Returned").post(partner, odoo.client, ledger, [a], _exchange(ledger, f"T-{odoo.tag}"),
                                                                                     "RETURN_CT.csv")
    assert issues == [] and len(names) == 1
    qty, value = odoo.valuation(move["id"])
    assert value == 300.0 and (qty == 1.0 or not odoo.dialect.has_valuation_layers)  # (19: the move's quantity, 2)
    [sol] = odoo.x("sale.order.line", "search_read", [["order_id", "=", picking["sale_id"][0]]], fields=["qty_delivered"])
    assert sol["qty_delivered"] == 1.0


def test_the_asn_of_a_purchase_receipt_reads_its_supplier_order_and_expected_lot(odoo, ledger):
    """flows.asn's reads on a real server: the lines of a receipt whose lot Odoo already knows (a lot name on its
    move line), the vendor's name and the purchase order's."""
    from threepl_bridge.flows.asn import _Reads, asn_rows

    partner = load_partner(REPO / "sftp_formats" / "partners" / "demo3pl.yaml")
    box = odoo.product("BOX", tracking="lot")
    vendor = odoo.customer(phone=False)
    po = odoo.x("purchase.order", "create", {"partner_id": vendor, "picking_type_id": odoo.warehouse["in_type_id"][0],
                                             "order_line": [[0, 0, {"product_id": box["id"], "product_qty": 4, "price_unit": 60}]]})
    odoo.x("purchase.order", "button_confirm", [po])
    [picking] = odoo.x("stock.picking", "search_read", [["purchase_id", "=", po]], fields=["name", "state", "partner_id", "purchase_id", "return_id",
                                                                                          "origin", "scheduled_date", "picking_type_id", "location_id"])
    [move] = odoo.moves(picking["id"])
    odoo.x("stock.move.line", "write", move["move_line_ids"], {"lot_name": f"EXP-{odoo.tag}"})
    rows, problems = asn_rows(partner, picking, "purchase", _Reads(odoo.client, partner, ledger, [picking]))
    [row] = rows
    assert (row["asn_ref"], row["sku"], row["quantity"], row["uom"], row["lot"]) == (picking["name"], box["default_code"], 4, "EA", f"EXP-{odoo.tag}")
    [po_name] = [p["name"] for p in odoo.x("purchase.order", "read", [po], fields=["name"])]
    assert row["purchase_order"] == po_name and row["supplier"] == odoo.x("res.partner", "read", [vendor], fields=["name"])[0]["name"]
    assert [p.code for p in problems] == ["ASN_PRODUCT_NOT_AT_3PL"]  # this ledger never sent the product


def test_a_transfer_made_by_hand_into_the_3pl_is_reserved_at_confirmation(odoo):
    """What the ASN flow announces as a transfer (policy.asn_transfers): an incoming picking from another
    warehouse's stock, confirmed by hand (action_confirm reserves at once; action_assign changes nothing more)."""
    drawer = odoo.product("DRW")
    others = [w for w in odoo.x("stock.warehouse", "search_read", [["code", "!=", odoo.warehouse["code"]]], fields=["lot_stock_id"])]
    if not others:
        pytest.skip("no other warehouse on this server")
    source = others[0]["lot_stock_id"][0]
    odoo.x("stock.quant", "create", {"product_id": drawer["id"], "location_id": source, "inventory_quantity_auto_apply": 10},
           context={"inventory_mode": True})
    picking = odoo.x("stock.picking", "create", {"picking_type_id": odoo.warehouse["in_type_id"][0], "location_id": source,
                                                 "location_dest_id": odoo.stock_location, "move_ids": [[0, 0, {
                                                     **({"name": "resupply"} if odoo.major < 19 else {}),  # (19: moves have no name)
                                                     "product_id": drawer["id"], "product_uom_qty": 4, "product_uom": drawer["uom_id"][0],
                                                     "location_id": source, "location_dest_id": odoo.stock_location}]]})
    assert odoo.x("stock.picking", "read", [picking], fields=["state"])[0]["state"] == "draft"
    assert odoo.x("stock.picking", "action_confirm", [picking]) is True
    assert odoo.x("stock.picking", "read", [picking], fields=["state"])[0]["state"] == "assigned"
    assert odoo.x("stock.picking", "action_assign", [picking]) is True
    [move] = odoo.moves(picking)
    assert (move["state"], move["quantity"]) == ("assigned", 4.0)
    odoo.x("stock.picking", "action_cancel", [picking])


def test_a_serial_already_in_stock_cannot_be_received_again(odoo):
    """A receipt of a serial the warehouse already holds (a 3PL typo, a unit returned through the wrong door):
    Odoo refuses the validation (seen on a real 17.0: "The serial number has already been assigned"), so the
    receipts flow reports it as RECEIPT_POST_FAILED with Odoo's message and receives nothing."""
    odoo.ensure_email()
    phone = odoo.product("PHONE", tracking="serial", lots={"SN-1": 1}, cost=300.0)
    [lot] = odoo.x("stock.lot", "search", [["product_id", "=", phone["id"]]])
    po = odoo.x("purchase.order", "create", {"partner_id": odoo.customer(phone=False), "picking_type_id": odoo.warehouse["in_type_id"][0],
                                             "order_line": [[0, 0, {"product_id": phone["id"], "product_qty": 1, "price_unit": 300}]]})
    odoo.x("purchase.order", "button_confirm", [po])
    [picking] = odoo.x("stock.picking", "search_read", [["purchase_id", "=", po]], fields=["move_ids"])
    [move] = odoo.moves(picking["id"])
    odoo.x("stock.move.line", "write", move["move_line_ids"], {"lot_id": lot, "quantity": 1, "picked": True})
    with pytest.raises(OdooUserError, match="The serial number has already been assigned"):
        odoo.x("stock.picking", "button_validate", [picking["id"]], context={"skip_sms": True})
    assert odoo.x("stock.picking", "read", [picking["id"]], fields=["state"])[0]["state"] == "assigned"
