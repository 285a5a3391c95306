"""Products and orders to the 3PL, against the Odoo stand-in and a real SFTP server, in two layouts."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest

from tests.flows.conftest import FIXTURES, RUN_AT
from threepl_bridge.flows import orders as orders_flow
from threepl_bridge.flows.outbound import deliver_pending
from threepl_bridge.flows.products import product_problems, product_row
from threepl_bridge.ledger.states import State
from threepl_bridge.odoo.client import OdooClient

EXPECTED = FIXTURES / "expected"
CASE_UOM = 27  # "Case of 12" in the stand-in


def add_case_product(world) -> int:
    return world.x("product.product", "create", {
        "name": "Paper Towels Case", "default_code": "PT-CASE", "barcode": "4006381333931", "detailed_type": "product",
        "weight": 6.5, "volume": 0.04,
    })


def stock(world, sku: str, qty: float) -> None:
    [pid] = world.x("product.product", "search", [["default_code", "=", sku]])
    world.x("stock.quant", "create", {"product_id": pid, "location_id": 35, "inventory_quantity_auto_apply": qty}, context={"inventory_mode": True})


@pytest.mark.parametrize("partner_attr", ["demo", "semi"])
def test_products_and_orders_reach_the_sftp_folder_byte_for_byte(world, partner_attr):
    partner = getattr(world, partner_attr)
    add_case_product(world)
    stock(world, "PT-CASE", 120)
    prepared = world.run_products(partner)
    assert (prepared["to_send"], prepared["held"]) == (30, 0)
    [(products_name, products_bytes)] = world.files(partner, "products").items()
    assert products_bytes == (EXPECTED / f"{partner.code}_products.txt").read_bytes()
    world.sell([("FURN_7800", 2), ("E-COM11", 1)], ref="PO-1")
    world.sell([("PT-CASE", 3)], uom=CASE_UOM, ref="PO-2")
    result = world.run_orders(partner)
    assert (result["released"], result["held"]) == (2, 0)
    files = world.files(partner, "orders")
    expected_names = {"demo3pl": 1, "semi3pl": 2}[partner.code]  # one file per run vs one per order
    assert len(files) == expected_names
    produced = b"".join(files[n] for n in sorted(files))
    assert produced == (EXPECTED / f"{partner.code}_orders.txt").read_bytes()
    if partner.code == "demo3pl":
        assert products_name == "ITEMS_20261120093000_001.csv"
        assert sorted(files)[0].startswith("ORDERS_20261120093000_")


def test_running_twice_sends_nothing_new(world):
    world.run_products(world.demo)
    world.sell([("FURN_7800", 1)])
    world.run_orders(world.demo)
    before = (world.files(world.demo, "products"), world.files(world.demo, "orders"))
    again_products = world.run_products(world.demo)
    again_orders = world.run_orders(world.demo)
    assert again_products["exchange_id"] is None and again_products["to_send"] == 0
    assert again_orders["exchange_ids"] == [] and again_orders["released"] == 0
    assert (world.files(world.demo, "products"), world.files(world.demo, "orders")) == before


def test_only_changed_products_go_out_and_the_watermark_moves_after_upload(world):
    world.run_products(world.demo)
    [pid] = world.x("product.product", "search", [["default_code", "=", "FURN_8855"]])
    world.x("product.product", "write", [pid], {"weight": 2.5})
    prepared = world.run_products(world.demo)
    assert prepared["to_send"] == 1
    newest = max(world.files(world.demo, "products").items())[1].decode()
    assert newest.splitlines()[1:] == ["FURN_8855,,Drawer,EA,2.5,,none"]
    assert world.ledger.watermark("demo3pl", "products.product") == ("2026-11-20 09:00:00", pid)
    quiet = world.run_products(world.demo)  # only the watermark's own second is read again, and nothing is sent
    assert (quiet["scanned"], quiet["to_send"], quiet["unchanged"]) == (1, 0, 1)
    full = world.run_products(world.demo, full_resend=True)
    assert full["to_send"] == 29


def test_watermark_stays_when_the_upload_fails(world, monkeypatch):
    from threepl_bridge.flows import products as products_flow

    prepared = products_flow.prepare_products(partner=world.demo, client=world.odoo, ledger=world.ledger, now=RUN_AT)
    with pytest.raises(RuntimeError, match="not on the SFTP server yet"):
        products_flow.finalize_products(partner=world.demo, ledger=world.ledger, prepared=prepared.as_dict())
    assert world.ledger.watermark("demo3pl", "products.product") is None


def test_product_preflight_failures_are_exceptions_and_are_not_sent(world):
    make = lambda **v: world.x("product.product", "create", {"detailed_type": "product", **v})  # noqa: E731
    no_sku = make(name="Nameless thing")
    make(name="Twin A", default_code="TWIN")
    make(name="Twin B", default_code="TWIN")
    bad_ean = make(name="Bad EAN", default_code="BAD-EAN", barcode="4006381333932")
    kilo = make(name="Bulk flour", default_code="FLOUR", uom_id=12, uom_po_id=12)
    prepared = world.run_products(world.semi)
    euro = make(name="Price tag 5€", default_code="EURO")
    long_name = make(name="X" * 60, default_code="LONG")
    prepared = world.run_products(world.semi)
    sent = b"".join(world.files(world.semi, "products").values()).decode("iso-8859-1")
    for sku in ("TWIN", "BAD-EAN", "FLOUR", "EURO", "LONG", "Nameless"):
        assert sku not in sent
    codes = world.open_codes(world.semi)
    assert codes[f"product:{no_sku}"] == {"PRODUCT_MISSING_SKU"}
    assert Counter(c for refs in codes.values() for c in refs)["PRODUCT_DUPLICATE_SKU"] == 2
    assert codes[f"product:{bad_ean}"] == {"PRODUCT_BAD_BARCODE"}
    assert codes[f"product:{kilo}"] == {"PRODUCT_UOM_NOT_MAPPED"}
    assert codes[f"product:{euro}"] == {"PRODUCT_ENCODING"}
    assert codes[f"product:{long_name}"] == {"PRODUCT_FIELD_INVALID"}
    [enc] = [e for e in world.ledger.open_exceptions("semi3pl") if e.code == "PRODUCT_ENCODING"]
    assert "'€' cannot be written in iso-8859-1" in enc.message
    assert prepared["held"] == 7  # both twins, and one each for the five other reasons
    # fixing a product in Odoo resolves its exception and sends it on the next run
    world.x("product.product", "write", [bad_ean], {"barcode": "4006381333931"})
    world.run_products(world.semi)
    assert f"product:{bad_ean}" not in world.open_codes(world.semi)
    assert "BAD-EAN" in b"".join(world.files(world.semi, "products").values()).decode("iso-8859-1")


def test_duplicate_barcodes_from_outside_odoo_are_caught():
    """Odoo refuses duplicate barcodes itself (contract), so this check is exercised directly."""
    from pathlib import Path

    from threepl_bridge.specs.loader import load_partner

    partner = load_partner(Path(__file__).resolve().parents[2] / "sftp_formats" / "partners" / "demo3pl.yaml")
    product = {"id": 1, "name": "A", "default_code": "A", "barcode": "96385074", "uom_id": [1, "Units"], "tracking": "none"}
    problems = product_problems(partner, product, product_row(partner, product), Counter({"A": 1}), Counter({"96385074": 2}))
    assert [p.code for p in problems] == ["PRODUCT_DUPLICATE_BARCODE"]


def test_orders_that_cannot_be_fulfilled_are_held_with_every_reason(world):
    world.run_products(world.demo)
    new = world.x("product.product", "create", {"name": "Brand new", "default_code": "NEW-1", "detailed_type": "product"})
    stock(world, "NEW-1", 10)
    stock(world, "FURN_8855", 100)
    no_zip = world.x("res.partner", "create", {"name": "No Zip Ltd", "street": "1 Road", "city": "Town", "country_id": 233})
    held_new = world.sell([("NEW-1", 1)])
    held_case = world.sell([("FURN_8855", 1.5)], uom=CASE_UOM)
    held_addr = world.sell([("FURN_7800", 1)], partner_id=no_zip)
    fine = world.sell([("FURN_7800", 1)])
    result = world.run_orders(world.demo)
    assert (result["released"], result["held"]) == (1, 3)
    codes = world.open_codes(world.demo)
    assert codes[held_new["name"]] == {"ORDER_PRODUCT_NOT_AT_3PL"}
    assert codes[held_case["name"]] == {"ORDER_UOM_MISMATCH"}
    assert codes[held_addr["name"]] == {"ORDER_ADDRESS_INCOMPLETE"}
    [msg] = [e.message for e in world.ledger.open_exceptions("demo3pl") if e.code == "ORDER_UOM_MISMATCH"]
    assert "1.5 Case of 12 is not a whole number of CS12" in msg
    sent = b"".join(world.files(world.demo, "orders").values()).decode()
    assert fine["name"] in sent and held_new["name"] not in sent and held_case["name"] not in sent
    # fixed later: the product goes out, then the held order follows on the next run
    world.x("res.partner", "write", [no_zip], {"zip": "12345"})
    world.run_products(world.demo)
    again = world.run_orders(world.demo)
    assert again["released"] == 2
    assert set(world.open_codes(world.demo)) == {held_case["name"]}
    del new


def test_chatter_note_after_release_and_never_twice(world):
    world.run_products(world.demo)
    picking = world.sell([("FURN_7800", 1)])
    world.run_orders(world.demo)
    world.run_orders(world.demo)
    notes = world.x("mail.message", "search_read", [["model", "=", "stock.picking"], ["res_id", "=", picking["id"]]], fields=["body"])
    assert len(notes) == 1 and "Released to 3PL Demo 3PL" in notes[0]["body"] and "ORDERS_20261120093000_" in notes[0]["body"]


def test_release_notes_need_no_sender_email(world):
    """message_post refuses a sender without an email (F3/F11); mail.message.create, which the notes use, does not
    (seen on a real 17.0 server, contract R14): the release is noted all the same."""
    world.x("res.users", "write", [8], {"email": False})
    world.run_products(world.demo)
    picking = world.sell([("FURN_7800", 1)])
    result = world.run_orders(world.demo)
    assert result["released"] == 1
    assert world.ledger.released_pickings("demo3pl")[picking["id"]].state == "released"
    notes = world.x("mail.message", "search_read", [["model", "=", "stock.picking"], ["res_id", "=", picking["id"]]], fields=["body"])
    assert [n["body"][:20] for n in notes] == ["<p>Released to 3PL D"]
    assert world.ledger.released_pickings("demo3pl")[picking["id"]].noted_at is not None


def test_a_refused_note_never_fails_the_release_and_is_not_marked(world):
    from tests.faults import FaultyOdoo

    world.run_products(world.demo)
    picking = world.sell([("FURN_7800", 1)])
    direct = world.odoo
    with FaultyOdoo(direct.settings.url) as proxy:
        proxy.fail("create", "access", model="mail.message")
        world.odoo = OdooClient(replace(direct.settings, url=proxy.url))
        try:
            result = world.run_orders(world.demo)
        finally:
            world.odoo = direct
        assert proxy.calls("create") == ["access"]
    assert result["released"] == 1
    released = world.ledger.released_pickings("demo3pl")[picking["id"]]
    assert (released.state, released.noted_at) == ("released", None)


def test_crash_after_upload_before_ledger_commit_does_not_release_twice(world):
    world.run_products(world.demo)
    world.sell([("FURN_7800", 1)])
    prepared = orders_flow.prepare_orders(partner=world.demo, client=world.odoo, ledger=world.ledger, now=RUN_AT)

    def crash(*args, **kwargs):
        raise SystemExit("worker killed after the upload, before the ledger commit")

    with pytest.MonkeyPatch.context() as patch, pytest.raises(SystemExit):
        patch.setattr(type(world.ledger), "mark_sent", crash)
        deliver_pending(world.ledger, world.transport(world.demo), world.demo, "orders")
    assert len(world.files(world.demo, "orders")) == 1  # the file did reach the server
    [exchange_id] = prepared.exchange_ids
    assert world.ledger.exchange(exchange_id).state == State.OUTPUT_PENDING
    world.sell([("FURN_7800", 2)])
    result = world.run_orders(world.demo)  # the retry/next run
    assert world.ledger.exchange(exchange_id).state == State.OUTPUT_SENT
    assert [e.note for e in world.ledger.events(exchange_id)][-1].startswith("found on the server")
    files = world.files(world.demo, "orders")
    assert len(files) == 2 and result["released"] == 1  # only the new order; the first was not sent again
    assert sum(body.count(b"3PL/OUT/00001") for body in files.values()) == 1


def test_cancelled_or_changed_after_release(world):
    world.run_products(world.demo)
    first, second = world.sell([("FURN_7800", 1)]), world.sell([("E-COM11", 2)])
    world.run_orders(world.demo)
    world.x("stock.picking", "action_cancel", [first["id"]])
    [move] = world.x("stock.move", "search_read", [["picking_id", "=", second["id"]]], fields=["id"])
    world.x("stock.move", "write", [move["id"]], {"product_uom_qty": 3})
    result = world.run_orders(world.demo)
    assert result["watch"] == {"watched": 2, "cancelled": 1, "changed": 1}
    cancel_files = world.files(world.demo, "cancellations")
    [body] = [b for n, b in cancel_files.items() if n.startswith("CANCEL_")]
    assert body.decode().splitlines() == ["order_ref,reason,cancelled_at", f"{first['name']},cancelled in Odoo,2026-11-20 01:30:00"]
    assert world.open_codes(world.demo) == {second["name"]: {"ORDER_CHANGED_AFTER_RELEASE"}}
    assert world.run_orders(world.demo)["watch"]["cancelled"] == 0  # the cancellation goes out once


def test_cancelled_after_release_without_a_cancellation_file_is_an_exception(world):
    world.run_products(world.semi)
    picking = world.sell([("FURN_7800", 1)])
    world.run_orders(world.semi)
    world.x("stock.picking", "action_cancel", [picking["id"]])
    world.run_orders(world.semi)
    assert world.open_codes(world.semi) == {picking["name"]: {"ORDER_CANCELLED_AFTER_RELEASE"}}


def propagate_uom(world) -> None:
    """The system parameter stock.propagate_uom = '1': delivery moves keep the sale line's unit (an admin setting)."""
    admin = world.env.authenticate("admin", "admin")
    world.env.execute_kw(admin, "admin", "ir.config_parameter", "set_param", ["stock.propagate_uom", "1"], {})


def test_order_in_a_unit_the_partner_has_no_code_for_is_held(world):
    propagate_uom(world)  # the move stays in Dozens, the only unit Odoo gives for the line
    world.run_products(world.semi)
    picking = world.sell([("FURN_7800", 2)], uom=2)  # Dozens: semi3pl only knows EA and CS
    result = world.run_orders(world.semi)
    assert (result["released"], result["held"]) == (0, 1)
    assert world.open_codes(world.semi) == {picking["name"]: {"ORDER_UOM_NOT_MAPPED"}}
    assert world.files(world.semi, "orders") == {}


def test_a_default_odoo_moves_cases_in_units_and_the_3pl_still_gets_the_cases(world):
    """Odoo 17 without stock.propagate_uom moves 2 cases sold as 24 Units: the 3PL is sent the unit it was sold in
    when the partner has a code for it, else the move's own unit (2 dozens -> 24 EA for a partner without DZ)."""
    world.run_products(world.demo)
    world.run_products(world.semi)
    case = world.sell([("FURN_8855", 2)], uom=CASE_UOM)
    [move] = world.x("stock.move", "search_read", [["picking_id", "=", case["id"]]], fields=["product_uom", "product_uom_qty"])
    assert (move["product_uom"][1], move["product_uom_qty"]) == ("Units", 24.0)  # as a default Odoo 17 does
    world.run_orders(world.demo)
    [demo_file] = world.files(world.demo, "orders").values()
    assert f"{case['name']},1,FURN_8855" in demo_file.decode() and ",2,CS12," in demo_file.decode()
    dozens = world.sell([("FURN_7800", 2)], uom=2)
    assert world.run_orders(world.semi)["released"] == 2
    semi_rows = b"".join(world.files(world.semi, "orders").values()).decode("iso-8859-1")
    assert any(dozens["name"] in r and ";24;EA;" in r for r in semi_rows.splitlines())


def _partner(world, *, orders_layout=None, **changes):
    """demo3pl with spec changes (dotted keys such as "documents.orders.name_timezone") and another orders layout."""
    from threepl_bridge.specs.models import Partner

    data = world.demo.spec.model_dump()
    for key, value in changes.items():
        node = data
        *path, last = key.split("__")
        for part in path:
            node = node[part]
        node[last] = value
    layouts = dict(world.demo.layouts)
    if orders_layout is not None:
        layouts["demo3pl_orders"] = orders_layout
    return Partner(spec=type(world.demo.spec).model_validate(data), layouts=layouts, source=world.demo.source)


def test_an_order_line_without_sku_is_reported_once(world):
    world.run_products(world.demo)
    world.x("product.product", "create", {"name": "No code", "detailed_type": "product"})
    [pid] = world.x("product.product", "search", [["name", "=", "No code"]])
    world.x("stock.quant", "create", {"product_id": pid, "location_id": 35, "inventory_quantity_auto_apply": 5}, context={"inventory_mode": True})
    so = world.x("sale.order", "create", {"partner_id": 10, "warehouse_id": 3, "order_line": [[0, 0, {"product_id": pid, "product_uom_qty": 1}]]})
    world.x("sale.order", "action_confirm", [so])
    [picking] = world.x("stock.picking", "search_read", [["sale_id", "=", so]], fields=["name"])
    world.run_orders(world.demo)
    held = [e for e in world.ledger.open_exceptions("demo3pl") if e.object_ref == picking["name"]]
    assert [e.code for e in held] == ["ORDER_MISSING_SKU"]


def test_orders_without_a_position_column_and_with_the_customers_number(world):
    from threepl_bridge.specs.models import LayoutField

    layout = world.demo.layouts["demo3pl_orders"]
    fields = tuple(f for f in layout.fields if f.name != "line_no") + (LayoutField(name="customer_number", column="customer_no"),)
    partner = _partner(world, orders_layout=layout.model_copy(update={"fields": fields}))
    world.x("res.partner", "write", [10], {"ref": "C-0042"})
    contact = world.x("res.partner", "create", {"name": "Anna at Gemini", "parent_id": 11, "street": "2 Road", "city": "Town",
                                                "zip": "12345", "country_id": 233})
    world.x("res.partner", "write", [11], {"ref": "C-0077"})
    world.run_products(partner)
    company = world.sell([("FURN_7800", 1)])
    person = world.sell([("FURN_7800", 1)], partner_id=contact)
    assert world.run_orders(partner)["released"] == 2
    [text] = [b.decode() for b in world.files(partner, "orders").values()]
    header, *rows = text.splitlines()
    assert "customer_no" in header and "line" not in header.split(",")
    assert any(company["name"] in r and "C-0042" in r for r in rows)
    assert any(person["name"] in r and "C-0077" in r for r in rows)  # a contact without a number: its company's


@pytest.mark.parametrize("selection", [{"categories": ["All / Saleable / Office Furniture"]},
                                       {"domain": [["default_code", "=like", "FURN_%"], ["default_code", "!=", "FURN_9999"]]}])
def test_a_partner_receives_only_the_products_it_stocks_and_other_orders_are_held(world, selection):
    partner = _partner(world, products=selection)
    stock(world, "FURN_9999", 5)
    sent = world.run_products(partner)
    items = b"".join(world.files(partner, "products").values()).decode()
    assert "FURN_7800" in items and "FURN_9999" not in items and sent["to_send"] > 0
    other = world.sell([("FURN_9999", 1)])
    fine = world.sell([("FURN_7800", 1)])
    assert world.run_orders(partner)["released"] == 1
    assert world.open_codes(partner)[other["name"]] == {"ORDER_PRODUCT_NOT_STOCKED"}
    assert fine["name"] not in world.open_codes(partner)


def test_an_unknown_category_in_the_selection_is_a_set_up_error(world):
    from threepl_bridge.odoo.warehouses import PartnerSetupError

    with pytest.raises(PartnerSetupError, match=r"no product category \['All / Nope'\]"):
        world.run_products(_partner(world, products={"categories": ["All / Nope"]}))


def test_file_name_stamps_use_the_documents_time_zone(world):
    partner = _partner(world, documents__products__name_timezone="Europe/Berlin")
    world.run_products(partner)
    assert [n[:20] for n in world.files(partner, "products")] == ["ITEMS_20261120103000"]  # 09:30 UTC = 10:30 in Berlin


def test_the_stand_in_counts_every_call_as_odoo_receives_it_chatter_included(world):
    world.run_products(world.demo)
    pickings = [world.sell([("FURN_7800", 1)], ref=f"PO-{i}") for i in range(3)]
    world.run_orders(world.demo)
    assert world.env.calls == world.odoo.calls  # server side = what our client sent, one by one
    assert world.env.calls["mail.message.create"] == 1 and len(pickings) == 3  # the notes of a file in one call
    assert world.env.calls["stock.picking.message_post"] == 0


def test_a_product_changed_while_the_scan_runs_is_sent_in_the_next_run(world, monkeypatch):
    """The scan reads pages by id. A product changed after its page was read is invisible to this scan, while a
    product on a later page changed even later is seen: the watermark must not move past the first change."""
    from dataclasses import replace
    from datetime import timedelta

    world.run_products(world.demo)  # the partner has the whole catalogue
    [low, high] = world.x("product.product", "search", [["default_code", "in", ["FURN_0269", "FURN_8855"]]], order="id")
    [between] = world.x("product.product", "search", [["id", ">", low], ["id", "<", high], ["detailed_type", "=", "product"]], limit=1)
    [other] = world.x("product.product", "search", [["default_code", "=", "FURN_9999"]])
    start = world.env.frozen_now = world.env.frozen_now + timedelta(minutes=10)
    world.x("product.product", "write", [between], {"barcode": "4006381333924"})  # a variant's own field
    world.x("product.product", "write", [other], {"weight": 3.0})  # a template's field
    world.run_products(world.demo)  # both watermarks are now at `start`: the next scans read from there on
    original = world.odoo.execute

    def execute(model, method, *args, **kwargs):  # noqa: ANN001, ANN202 - Odoo changes between the scan's pages
        if model == "product.product" and method == "search_read" and any(c[0] == "write_date" for c in args[0] if isinstance(c, list)):
            if world.env.frozen_now == start:  # the scan has started (its signpost is `start`): two users edit
                world.env.frozen_now = start + timedelta(seconds=1)
                original("product.product", "write", [low], {"barcode": "4006381333931"})
                world.env.frozen_now = start + timedelta(seconds=2)
                original("product.product", "write", [high], {"weight": 7.5})
        return original(model, method, *args, **kwargs)

    monkeypatch.setattr(world.odoo, "execute", execute)
    monkeypatch.setattr(world.odoo, "settings", replace(world.odoo.settings, page_size=1))  # one product per page
    world.run_products(world.demo)
    assert world.env.frozen_now == start + timedelta(seconds=2)  # the edits happened during the scan
    monkeypatch.setattr(world.odoo, "execute", original)
    world.env.frozen_now = start + timedelta(minutes=5)
    world.run_products(world.demo)
    sent = "".join(data.decode() for data in world.files(world.demo, "products").values())
    assert "FURN_0269,4006381333931," in sent and "FURN_8855,,Drawer,EA,7.5,,none" in sent
