"""The Odoo calls issue 13's recovery added (a retried posting, a retried chatter note, an adjustment asked how much
of it Odoo already applied, a write sent once), through our client: the same assertions on the stand-in and on a
real Odoo 17 (see conftest.py). Each test names the facts the flow code relies on, and where it can, runs the flow's
own function against the server.

Captured on a real 17.0 server: ``sandbox/odoo_standin/contract/flows/R13_*.json``."""

from __future__ import annotations

import http.client
import json
import urllib.parse
import uuid
import xmlrpc.client
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from types import SimpleNamespace

import pytest

from tests.faults import FaultyOdoo
from threepl_bridge.flows.adjustments import applied
from threepl_bridge.flows.shipments import Shipment
from threepl_bridge.flows.dispatch_posting import _prepare_pickings
from threepl_bridge.odoo.client import OdooClient, OdooSettings
from threepl_bridge.odoo.errors import OdooTransientError, OdooUserError
from threepl_bridge.odoo.chatter import comments_of

CUSTOMERS = 5  # Partners/Customers


def _lot_order(odoo, qty: float = 10) -> tuple[dict, dict, dict[str, int]]:
    """A confirmed delivery of ``qty`` of a new lot-tracked product with LOT-A 40 and LOT-B 60 in 3PL/Stock: the
    picking, its move and the lot ids by name."""
    odoo.ensure_email()
    box = odoo.product("BOX", tracking="lot", lots={"LOT-A": 40, "LOT-B": 60}, cost=70.0)
    lots = {l["name"].split("-" + odoo.tag)[0]: l["id"] for l in odoo.x("stock.lot", "search_read", [["product_id", "=", box["id"]]], fields=["name"])}
    picking = odoo.order([(box["id"], qty)])
    [move] = odoo.moves(picking["id"], ["product_id", "product_uom", "move_line_ids", "state", "picked", "quantity"])
    return picking, move, lots


def _lines(odoo, move_id: int) -> list[tuple[int, float, bool]]:
    found = odoo.x("stock.move.line", "search_read", [["move_id", "=", move_id]], fields=["lot_id", "quantity", "picked"], order="id")
    return [(l["lot_id"][0], l["quantity"], l["picked"]) for l in found]


def _quants(odoo, product_id: int) -> dict[int, tuple[float, float]]:
    """lot id -> (quantity, reserved) in 3PL/Stock."""
    found = odoo.x("stock.quant", "search_read", [["product_id", "=", product_id], ["location_id", "=", odoo.stock_location]],
                   fields=["lot_id", "quantity", "reserved_quantity"])
    return {q["lot_id"][0]: (q["quantity"], q["reserved_quantity"]) for q in found}


def _state(odoo, model: str, rid: int) -> str:
    return odoo.x(model, "read", [rid], fields=["state"])[0]["state"]


def test_f07_a_picked_lot_line_survives_do_unreserve_and_is_replaced_by_unlink_then_create(odoo):
    """dispatch_posting._prepare_pickings on a retry: do_unreserve leaves the picked lines an interrupted attempt
    wrote (so creating the lines again would double the lot); unlinking them releases their reservation (the move,
    still picked, and its picking go back to confirmed), and the lines created then are exactly what shipped."""
    picking, move, lots = _lot_order(odoo)
    a, b = lots["LOT-A"], lots["LOT-B"]
    product = move["product_id"][0]
    assert odoo.x("stock.picking", "do_unreserve", [picking["id"]]) is None
    for lot, qty in ((a, 6), (b, 4)):  # the interrupted attempt: its lines, picked, and nothing validated
        odoo.x("stock.move.line", "create", {"move_id": move["id"], "picking_id": picking["id"], "product_id": product,
                                             "product_uom_id": move["product_uom"][0], "location_id": odoo.stock_location,
                                             "location_dest_id": CUSTOMERS, "lot_id": lot, "quantity": qty, "picked": True})
    [written] = odoo.moves(picking["id"], ["state", "picked", "quantity", "move_line_ids"])
    assert (written["state"], written["picked"], written["quantity"]) == ("assigned", True, 10.0)
    assert _state(odoo, "stock.picking", picking["id"]) == "assigned"  # not done: a retry posts it again in full
    # the retry: do_unreserve again changes nothing on a picked move
    assert odoo.x("stock.picking", "do_unreserve", [picking["id"]]) is None
    [kept] = odoo.moves(picking["id"], ["state", "picked", "quantity", "move_line_ids"])
    assert kept == written and _lines(odoo, move["id"]) == [(a, 6.0, True), (b, 4.0, True)]
    assert _quants(odoo, product) == {a: (40.0, 6.0), b: (60.0, 4.0)}
    # unlink: the reservation is released, the move keeps picked and goes back to confirmed with its picking
    assert odoo.x("stock.move.line", "unlink", kept["move_line_ids"]) is True
    [emptied] = odoo.moves(picking["id"], ["state", "picked", "quantity", "move_line_ids"])
    assert (emptied["state"], emptied["picked"], emptied["quantity"], emptied["move_line_ids"]) == ("confirmed", True, 0.0, [])
    assert _state(odoo, "stock.picking", picking["id"]) == "confirmed"
    assert _quants(odoo, product) == {a: (40.0, 0.0), b: (60.0, 0.0)}
    # then the new lines: exactly these quantities, reserved once, and validation ships exactly them
    for lot, qty in ((a, 3), (b, 7)):
        odoo.x("stock.move.line", "create", {"move_id": move["id"], "picking_id": picking["id"], "product_id": product,
                                             "product_uom_id": move["product_uom"][0], "location_id": odoo.stock_location,
                                             "location_dest_id": CUSTOMERS, "lot_id": lot, "quantity": qty, "picked": True})
    [again] = odoo.moves(picking["id"], ["state", "picked", "quantity"])
    assert (again["state"], again["picked"], again["quantity"]) == ("assigned", True, 10.0)
    assert _state(odoo, "stock.picking", picking["id"]) == "assigned"
    assert _quants(odoo, product) == {a: (40.0, 3.0), b: (60.0, 7.0)}
    assert odoo.x("stock.picking", "button_validate", [picking["id"]], context={"skip_sms": True}) is True
    assert _lines(odoo, move["id"]) == [(a, 3.0, True), (b, 7.0, True)]
    assert _quants(odoo, product) == {a: (37.0, 0.0), b: (53.0, 0.0)}


def test_f07_the_posting_prepare_run_twice_ships_each_lot_once(odoo):
    """The flow's own _prepare_pickings, run by an attempt that dies before validation and again by its retry, then
    validated: the lots ship 6 + 4, not 12 + 8."""
    picking, move, lots = _lot_order(odoo)
    a, b = lots["LOT-A"], lots["LOT-B"]
    uom = move["product_uom"][0]
    shipment = lambda: Shipment(picking={"id": picking["id"], "name": picking["name"]}, rows=[], move_qty={move["id"]: Decimal(10)},  # noqa: E731
                                lots={move["id"]: [(a, Decimal(6), uom), (b, Decimal(4), uom)]})
    _prepare_pickings(odoo.client, [shipment()])
    assert _lines(odoo, move["id"]) == [(a, 6.0, True), (b, 4.0, True)]
    assert _state(odoo, "stock.picking", picking["id"]) == "assigned"
    _prepare_pickings(odoo.client, [shipment()])  # the retry
    assert _lines(odoo, move["id"]) == [(a, 6.0, True), (b, 4.0, True)]
    assert _quants(odoo, move["product_id"][0]) == {a: (40.0, 6.0), b: (60.0, 4.0)}
    assert odoo.x("stock.picking", "button_validate", [picking["id"]], context={"skip_sms": True}) is True
    [done] = odoo.moves(picking["id"], ["state", "quantity"])
    assert (done["state"], done["quantity"]) == ("done", 10.0)
    assert _quants(odoo, move["product_id"][0]) == {a: (34.0, 0.0), b: (56.0, 0.0)}


def test_recovery_reads_the_states_of_validated_and_open_pickings_and_the_backorder_chain(odoo):
    """dispatch_checks._validated_before and dispatch_posting.post read stock.picking states (and backorder_id) by
    id: done after a validation, not done when it was refused (nothing applied; its move written to 0 is no longer reserved), a backorder names its origin, and
    an id that no longer exists is left out of the answer."""
    odoo.ensure_email()
    desk = odoo.product("DESK", stock=20)
    fields = ["name", "state", "picking_type_id", "carrier_id", "batch_id", "backorder_id", "company_id"]  # PICKING_FIELDS
    shipped, refused = odoo.order([(desk["id"], 5)]), odoo.order([(desk["id"], 2)])
    [move] = odoo.moves(shipped["id"])
    odoo.x("stock.move", "write", [move["id"]], {"quantity": 3, "picked": True})
    assert odoo.x("stock.picking", "button_validate", [shipped["id"]], context={"skip_sms": True, "skip_backorder": True}) is True
    [m] = odoo.moves(refused["id"])
    odoo.x("stock.move", "write", [m["id"]], {"quantity": 0, "picked": True})
    with pytest.raises(OdooUserError, match=odoo.fact("nothing_reserved")):
        odoo.x("stock.picking", "button_validate", [refused["id"]], context={"skip_sms": True, "skip_backorder": True})
    [back] = odoo.x("stock.picking", "search", [["backorder_id", "=", shipped["id"]]])
    read = {p["id"]: p for p in odoo.client.read("stock.picking", sorted([shipped["id"], refused["id"], back, 99999999]), fields)}
    assert sorted(read) == sorted([shipped["id"], refused["id"], back])
    assert {pid: p["state"] for pid, p in read.items()} == {shipped["id"]: "done", refused["id"]: "confirmed", back: "assigned"}
    assert read[back]["backorder_id"] == [shipped["id"], shipped["name"]] and read[shipped["id"]]["backorder_id"] is False
    assert read[shipped["id"]]["company_id"][0] == 1 and read[shipped["id"]]["picking_type_id"][0] == odoo.warehouse["out_type_id"][0]


def test_f11_a_plain_text_note_is_stored_as_a_paragraph_and_found_by_the_api_user(odoo):
    """dispatch_posting._after_validation writes its note with mail.message.create (a plain string) and on a retry
    looks for it with search_read on model, res_id and message_type 'comment' (comments_of): the string is stored as an
    HTML paragraph (&, <, > as entities), the API user finds it, and the picking's own messages (creation,
    validation) are notifications, never comments."""
    odoo.ensure_email()
    desk = odoo.product("DESK", stock=5)
    picking = odoo.order([(desk["id"], 1)])
    assert odoo.x("stock.picking", "button_validate", [picking["id"]], context={"skip_sms": True}) is True
    domain = [["model", "=", "stock.picking"], ["res_id", "=", picking["id"]], ["message_type", "=", "comment"]]
    assert odoo.x("mail.message", "search_read", domain, fields=["body"]) == []
    text = f"Shipped by 3PL Demo & Co: file DISPATCH_{odoo.tag}.csv, rows 2, 3, tracking 1Z999AA10123456784 > 1Z2."
    [mid] = odoo.client.create_many("mail.message", [{"model": "stock.picking", "res_id": picking["id"], "message_type": "comment", "body": text}])
    [msg] = odoo.x("mail.message", "read", [mid], fields=["body", "model", "res_id", "message_type", "author_id"])
    assert msg["body"] == text.replace("&", "&amp;").replace(">", "&gt;").join(["<p>", "</p>"])
    assert (msg["model"], msg["res_id"], msg["message_type"]) == ("stock.picking", picking["id"], "comment")
    [me] = odoo.x("res.users", "read", [odoo.client.uid], fields=["partner_id"])
    assert msg["author_id"][0] == me["partner_id"][0]
    assert [m["id"] for m in odoo.x("mail.message", "search_read", domain, fields=["body"])] == [mid]
    assert comments_of(odoo.client, "stock.picking", [picking["id"]]) == {picking["id"]: {text}}


def test_f11_a_string_written_to_a_message_body_is_parsed_as_html_not_escaped(odoo):
    """mail.message.body is an Html field: unlike message_post (F11, which escapes a plain string), create parses
    the string as HTML. Markup in it stays markup, so text with a tag in it does not come back as written; a body
    escaped before it is written does."""
    desk = odoo.product("DESK", stock=5)
    picking = odoo.order([(desk["id"], 1)])

    def stored(body: str) -> str:
        [mid] = odoo.client.create_many("mail.message", [{"model": "stock.picking", "res_id": picking["id"], "message_type": "comment", "body": body}])
        return odoo.x("mail.message", "read", [mid], fields=["body"])[0]["body"]

    assert stored("tracking 1Z&9<b>X</b>.") == "<p>tracking 1Z&amp;9<b>X</b>.</p>"
    assert stored("<b>bold</b> first") == "<span><b>bold</b> first</span>"
    assert stored("<p>a paragraph</p>") == "<p>a paragraph</p>"
    assert stored("line 1\nline 2") == "<p>line 1\nline 2</p>"
    assert stored("tracking 1Z&amp;9&lt;b&gt;X&lt;/b&gt;.") == "<p>tracking 1Z&amp;9&lt;b&gt;X&lt;/b&gt;.</p>"
    assert comments_of(odoo.client, "stock.picking", [picking["id"]])[picking["id"]] == {"tracking 1Z&9X.", "bold first", "a paragraph", "line 1\nline 2",
                                                                   "tracking 1Z&9<b>X</b>."}


def test_f06_an_adjustment_is_a_done_inventory_move_named_by_inventory_name_with_an_unsigned_quantity(odoo):
    """adjustments.applied asks stock.move for reference in (names), is_inventory and state done, and reads
    product_qty, location_dest_id and date: the move's reference (and name) is the context's inventory_name;
    product_qty is never negative, its direction is in the locations (a shortfall goes from the stock location
    to the inventory-adjustment location, a surplus the other way); its date is when it was applied, not the
    accounting date; quantities are rounded to the unit's 0.01."""
    drawer = odoo.product("DRW", stock=10)
    loc = odoo.stock_location
    [quant] = odoo.x("stock.quant", "search_read", [["product_id", "=", drawer["id"]], ["location_id", "=", loc]], fields=["quantity"])
    names = [f"3PL count R{odoo.tag} {drawer['default_code']} {n}" for n in ("down", "up", "third")]
    past = (date.today().replace(day=1) - timedelta(days=4)).isoformat()
    before = odoo.client.server_time()
    for name, target in zip(names, (7.0, 9.5, 9.5 + 1 / 3)):
        assert odoo.x("stock.quant", "write", [quant["id"]], {"inventory_quantity_auto_apply": target, "accounting_date": past},
                      context={"inventory_mode": True, "inventory_name": name}) is True
    assert odoo.x("stock.quant", "read", [quant["id"]], fields=["quantity"])[0]["quantity"] == 9.83
    fields = ["reference", "product_qty", "location_id", "location_dest_id", "date", "state", "is_inventory", "picking_id"]
    fields += ["name"] if odoo.major < 19 else ["inventory_name"]  # 19: stock.move has no name any more
    moves = odoo.x("stock.move", "search_read", [["reference", "in", names], ["is_inventory", "=", True], ["state", "=", "done"]], fields=fields, order="id")
    assert [(m["reference"], m.get("name", m.get("inventory_name")), m["product_qty"]) for m in moves] == list(zip(names, names, [3.0, 2.5, 0.33]))
    [inventory] = {m["location_dest_id"][0] for m in moves[:1]} | {m["location_id"][0] for m in moves[1:]}
    assert odoo.x("stock.location", "read", [inventory], fields=["usage"])[0]["usage"] == "inventory"
    assert [(m["location_id"][0], m["location_dest_id"][0]) for m in moves] == [(loc, inventory), (inventory, loc), (inventory, loc)]
    assert all(m["picking_id"] is False for m in moves)
    dated = [datetime.strptime(m["date"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc) for m in moves]
    assert all(before - timedelta(seconds=5) <= d <= before + timedelta(minutes=5) for d in dated)  # applied now, not on `past`
    # the flow's own reading: signed by direction, in the product's unit, only moves dated up to `until`
    gateway = SimpleNamespace(client=odoo.client, stock_locations=odoo.x("stock.location", "search", [["id", "child_of", [loc]]]))
    assert dict(applied(gateway, names + ["3PL count never applied"])) == {names[0]: Decimal("-3.0"), names[1]: Decimal("2.5"), names[2]: Decimal("0.33")}
    assert dict(applied(gateway, names, until=before - timedelta(minutes=1))) == {}


def test_f06_one_inventory_name_over_two_quants_gives_two_moves_of_that_reference(odoo):
    """A shortfall spread over two quants (adjustments._spread, one write per quant with the same inventory_name),
    and a lot's quant: each write is a move of that reference; applied() adds them up."""
    box = odoo.product("BOX", tracking="lot", lots={"LOT-A": 5, "LOT-B": 4})
    quants = odoo.x("stock.quant", "search_read", [["product_id", "=", box["id"]], ["location_id", "=", odoo.stock_location]],
                    fields=["lot_id", "quantity"], order="id")
    name = f"3PL count R{odoo.tag} {box['default_code']}"
    ctx = {"inventory_mode": True, "inventory_name": name}
    for q, target in zip(quants, (0.0, 3.0)):  # 5 + 1 taken: the first quant to zero, then one from the second
        assert odoo.x("stock.quant", "write", [q["id"]], {"inventory_quantity_auto_apply": target}, context=ctx) is True
    moves = odoo.x("stock.move", "search_read", [["reference", "=", name], ["is_inventory", "=", True], ["state", "=", "done"]],
                   fields=["product_qty", "move_line_ids"], order="id")
    assert [m["product_qty"] for m in moves] == [5.0, 1.0]
    lots = [odoo.x("stock.move.line", "read", m["move_line_ids"], fields=["lot_id"])[0]["lot_id"][0] for m in moves]
    assert lots == [q["lot_id"][0] for q in quants]
    gateway = SimpleNamespace(client=odoo.client, stock_locations=[odoo.stock_location])
    assert dict(applied(gateway, [name])) == {name: Decimal("-6.0")}


def _client(url: str, odoo, *, timeout: float = 5) -> OdooClient:
    s = odoo.client.settings  # the fault proxy speaks XML-RPC and JSON-RPC (over JSON-2 the key is refused through it)
    protocol = "xmlrpc" if odoo.client.protocol == "json2" else s.protocol
    return OdooClient(OdooSettings(url=url, database=s.database, login=s.login, password=s.password, protocol=protocol, max_retries=3,
                                   timeout=timeout))


def test_a_write_whose_reply_is_lost_is_applied_once_and_not_sent_again(odoo):
    """odoo/client.py sends every request once (_SendOnce): Odoo applies a create whose reply is lost on the way
    back; the client reports an ambiguous transient error and does not send it again, even with retries left."""
    with FaultyOdoo(odoo.client.settings.url) as proxy:
        client = _client(proxy.url, odoo)
        assert client.uid == odoo.client.uid
        name = f"Contract once {odoo.tag}-{uuid.uuid4().hex[:6]}"
        proxy.fail("create", "lost_reply", model="res.partner")
        with pytest.raises(OdooTransientError) as lost:
            client.execute("res.partner", "create", {"name": name})
        assert getattr(lost.value, "ambiguous", False) is True
        assert proxy.calls("create") == ["lost_reply"]
        assert len(odoo.x("res.partner", "search", [["name", "=", name]])) == 1
        assert client.execute("res.partner", "search_count", [["name", "=", name]]) == 1  # the next call works


def test_the_server_closes_the_connection_after_every_answer(odoo):
    """Odoo 17 (Werkzeug, workers=0) answers every XML-RPC and JSON-RPC request with ``Connection: close``: each of
    our requests goes on a fresh connection, so none is sent on a keep-alive connection gone cold (the case
    _SendOnce's IDLE_REUSE guards against behind a proxy that keeps connections alive)."""
    url = urllib.parse.urlsplit(odoo.client.settings.url)
    for path, ctype, body in (("/xmlrpc/2/common", "text/xml", xmlrpc.client.dumps((), "version").encode()),
                              ("/jsonrpc", "application/json", json.dumps({"jsonrpc": "2.0", "method": "call", "id": 1,
                                                                           "params": {"service": "common", "method": "version", "args": []}}).encode())):
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
        try:
            conn.request("POST", path, body=body, headers={"Content-Type": ctype})
            response = conn.getresponse()
            payload = response.read()
            assert (response.status, response.version, response.getheader("Connection")) == (200, 11, "close"), path
            assert f"{odoo.major}.0".encode() in payload and response.will_close
        finally:
            conn.close()
    client = _client(odoo.client.settings.url, odoo)
    for _ in range(3):  # one connection per call, each works
        assert client.execute("res.partner", "search_count", [["id", "=", 1]]) == 1
    if client.settings.protocol == "xmlrpc":
        assert client._rpc._object("transport")._connection[1].sock is None  # closed after the answer


def test_f07_serials_ship_one_unit_each_through_the_posting_prepare_and_its_retry(odoo):
    """A serial-tracked product (issue 18: serials end to end): three serials of one unit each in 3PL/Stock, an order
    of two, the flow's own _prepare_pickings (and its retry) writes one line of one unit per shipped serial, and
    the validation takes exactly those two serials out."""
    odoo.ensure_email()
    serials = {"SN-1": 1, "SN-2": 1, "SN-3": 1}
    phone = odoo.product("PHONE", tracking="serial", lots=serials, cost=300.0)
    assert phone["tracking"] == "serial"
    lots = {l["name"].split("-" + odoo.tag)[0]: l["id"] for l in odoo.x("stock.lot", "search_read", [["product_id", "=", phone["id"]]], fields=["name"])}
    assert sorted(lots) == sorted(serials)
    picking = odoo.order([(phone["id"], 2)])
    [move] = odoo.moves(picking["id"], ["product_id", "product_uom", "move_line_ids", "state", "quantity"])
    uom = move["product_uom"][0]
    one, three = lots["SN-1"], lots["SN-3"]
    shipment = lambda: Shipment(picking={"id": picking["id"], "name": picking["name"]}, rows=[], move_qty={move["id"]: Decimal(2)},  # noqa: E731
                                lots={move["id"]: [(one, Decimal(1), uom), (three, Decimal(1), uom)]})
    _prepare_pickings(odoo.client, [shipment()])
    _prepare_pickings(odoo.client, [shipment()])  # the retry
    assert _lines(odoo, move["id"]) == [(one, 1.0, True), (three, 1.0, True)]
    assert odoo.x("stock.picking", "button_validate", [picking["id"]], context={"skip_sms": True}) is True
    assert _quants(odoo, phone["id"]) == {one: (0.0, 0.0), lots["SN-2"]: (1.0, 0.0), three: (0.0, 0.0)}


def test_a_serial_already_delivered_cannot_be_delivered_again(odoo):
    """Odoo refuses the whole validation of a delivery whose serial number already left (a serial holds at most one
    unit anywhere but in inventory locations): the flow reports Odoo's message on the rows (DISPATCH_POST_FAILED),
    nothing is posted twice. Seen on a real Odoo 17: "The serial number has already been assigned"."""
    odoo.ensure_email()
    phone = odoo.product("PHONE", tracking="serial", lots={"SN-1": 1, "SN-2": 1}, cost=300.0)
    [sn1] = odoo.x("stock.lot", "search", [["product_id", "=", phone["id"]], ["name", "=", f"SN-1-{odoo.tag}"]])
    for expect_refusal in (False, True):
        picking = odoo.order([(phone["id"], 1)])
        [move] = odoo.moves(picking["id"], ["product_uom", "move_line_ids"])
        shipment = Shipment(picking={"id": picking["id"], "name": picking["name"]}, rows=[], move_qty={move["id"]: Decimal(1)},
                            lots={move["id"]: [(sn1, Decimal(1), move["product_uom"][0])]})
        _prepare_pickings(odoo.client, [shipment])
        if not expect_refusal:
            assert odoo.x("stock.picking", "button_validate", [picking["id"]], context={"skip_sms": True}) is True
            continue
        with pytest.raises(OdooUserError, match=odoo.fact("serial_assigned")):
            odoo.x("stock.picking", "button_validate", [picking["id"]], context={"skip_sms": True})
        assert _state(odoo, "stock.picking", picking["id"]) != "done"  # nothing of it was applied
    assert _quants(odoo, phone["id"])[sn1] == (0.0, 1.0)  # gone from 3PL/Stock; the refused picking's line still reserves it
