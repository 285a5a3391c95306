"""F10: the error shapes of Odoo's external API, as our client types them, on both protocols."""

from __future__ import annotations

import pytest

from threepl_bridge.odoo.client import OdooClient, OdooSettings
from threepl_bridge.odoo.errors import (
    OdooError,
    OdooAccessError,
    OdooAuthError,
    OdooMissingError,
    OdooProgrammingError,
    OdooUserError,
    OdooValidationError,
)


def other_client(odoo, **changes) -> OdooClient:
    s = odoo.client.settings
    values = {f: getattr(s, f) for f in ("url", "database", "login", "password", "protocol")}
    return OdooClient(OdooSettings(**{**values, **changes}, max_retries=1))


def test_wrong_password_is_an_auth_error_without_the_secret(odoo):
    client = other_client(odoo, password="not-the-key-S3CRET")
    with pytest.raises(OdooAuthError) as info:
        client.execute("res.partner", "search_count", [])
    assert "S3CRET" not in str(info.value) and "authentication failed" in str(info.value)


def test_execute_kw_with_a_wrong_secret_gives_access_denied(odoo):
    client = odoo.client
    uid = client.uid
    bad = other_client(odoo, password="wrong")
    bad._uid = uid  # skip authenticate: execute_kw itself must refuse
    with pytest.raises(OdooAuthError, match="API key was refused" if client.protocol == "json2" else "Access Denied"):
        bad.execute("res.partner", "search_count", [])  # (JSON-2 has no uid: the key is refused)


def test_wrong_database_is_an_auth_error(odoo):
    with pytest.raises(OdooAuthError, match='database "nope" does not exist'):
        other_client(odoo, database="nope").execute("res.partner", "search_count", [])


def test_missing_records(odoo):
    assert odoo.x("stock.picking", "read", [99999999], fields=["name"]) == []
    assert odoo.x("stock.picking", "search_read", [["id", "=", 99999999]], fields=["name"]) == []
    with pytest.raises(OdooMissingError, match=r"Record does not exist or has been deleted.\n\(Record: stock.picking\(99999999,\), User: \d+\)"):
        odoo.x("stock.picking", "write", [99999999], {"note": "x"})
    with pytest.raises(OdooMissingError):
        odoo.x("stock.picking", "button_validate", [99999999])


def test_private_unknown_method_and_unknown_model(odoo):
    with pytest.raises(OdooAccessError, match=odoo.fact("private_method")):
        odoo.x("stock.picking", "_action_done", [1])
    with pytest.raises(OdooProgrammingError, match=odoo.fact("unknown_method")):
        odoo.x("stock.picking", "do_something_nonexistent", [1])
    if odoo.client.protocol == "json2":  # an unknown model is an HTTP 404 there
        with pytest.raises(OdooProgrammingError, match="the model 'stock.nonexistent' does not exist"):
            odoo.x("stock.nonexistent", "search", [])
    else:
        with pytest.raises(OdooUserError, match="Object stock.nonexistent doesn't exist"):
            odoo.x("stock.nonexistent", "search", [])


def test_unknown_fields_and_bad_values(odoo):
    with pytest.raises(OdooProgrammingError, match=odoo.fact("invalid_read_field")):
        odoo.x("stock.picking", "search_read", [], fields=["x_no_such_field"], limit=1)
    with pytest.raises(OdooProgrammingError, match=odoo.fact("invalid_leaf")):
        odoo.x("stock.picking", "search", [["x_no_such_field", "=", 1]])
    with pytest.raises(OdooProgrammingError, match=odoo.fact("invalid_create_field")):
        odoo.x("res.partner", "create", {"name": "Err test", "x_no_such_field": 1})
    picking = odoo.order([(odoo.product("P", stock=1)["id"], 1)])  # the test's own: the writes below may land
    with pytest.raises(OdooProgrammingError, match="ValueError: Wrong value for stock.picking.move_type: 'bogus'"):
        odoo.x("stock.picking", "write", [picking["id"]], {"move_type": "bogus"})
    if odoo.fact("many2one_text_is_empty"):  # 19, every protocol: a text that is no id empties the many2one
        assert odoo.x("stock.picking", "write", [picking["id"]], {"partner_id": "abc"}) is True
        assert odoo.x("stock.picking", "read", [picking["id"]], fields=["partner_id"])[0]["partner_id"] is False
    else:
        with pytest.raises(OdooError):  # a many2one that is no id: a database error
            odoo.x("stock.picking", "write", [picking["id"]], {"partner_id": "abc"})


def test_missing_required_field_is_a_validation_error(odoo):
    with pytest.raises(OdooValidationError, match=odoo.fact("required_field")) as info:
        odoo.x("stock.picking", "create", {"location_id": odoo.stock_location})
    assert odoo.fact("required_model") in str(info.value)


def test_business_errors(odoo):
    product = odoo.product("P", stock=5)
    picking = odoo.order([(product["id"], 2)])
    [move] = odoo.moves(picking["id"])
    odoo.x("stock.move", "write", [move["id"]], {"quantity": 0})
    with pytest.raises(OdooUserError, match=odoo.fact("nothing_reserved")):
        odoo.x("stock.picking", "button_validate", [picking["id"]], context={"skip_sms": True})
    so = picking["sale_id"][0]
    with pytest.raises(OdooUserError, match=odoo.fact("order_not_confirmable")):
        odoo.x("sale.order", "action_confirm", [so])
    box = odoo.product("BOX", tracking="lot", lots={"LOT-A": 1})
    [lot] = odoo.x("stock.lot", "search_read", [["product_id", "=", box["id"]]], fields=["name"])
    with pytest.raises(OdooValidationError, match=odoo.fact("lot_unique")):
        odoo.client.load_create("stock.lot", [{"name": lot["name"], "product_id": box["id"], "company_id": 1}])
    odoo.product("BC1", barcode=f"BC-{odoo.tag}")
    with pytest.raises(OdooValidationError, match=f'Barcode "BC-{odoo.tag}" already assigned'):
        odoo.x("product.product", "create", {"name": "Dup barcode", "barcode": f"BC-{odoo.tag}"})


def test_access_error_on_company_write(odoo):
    with pytest.raises(OdooAccessError, match=r"You are not allowed to modify 'Companies' \(res.company\) records."):
        odoo.x("res.company", "write", [1], {"name": "hacked"})


def test_methods_returning_none_succeed_but_others_must_not_return_none(odoo):
    product = odoo.product("P", stock=3)
    picking = odoo.order([(product["id"], 1)])
    assert odoo.x("stock.picking", "do_unreserve", [picking["id"]]) is None
    [move] = odoo.moves(picking["id"])
    assert move["move_line_ids"] == [] and move["quantity"] == 0.0
