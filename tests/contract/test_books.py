"""What the month-end books read (issue 17), asked of the server: every field the valuation bridge and the GL
tie-out read exists with the type they expect, for the API user (Accounting / Read-only); and over RPC the books
of a real dispatch tie, while a journal entry posted by hand on the stock valuation account shows as that entry."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from threepl_bridge.flows.books import compute_books
from threepl_bridge.odoo.valuation import BOOK_MOVE_FIELDS, CATEGORY_FIELDS, ENTRY_FIELDS, LAYER_FIELDS, LINE_FIELDS, MOVE_19_FIELDS

TYPES = {"many2one": ("many2one",), "monetary": ("monetary", "float"), "float": ("float",), "datetime": ("datetime",), "date": ("date",),
         "char": ("char",), "selection": ("selection",), "boolean": ("boolean",), "one2many": ("one2many", "many2many")}


def _read(odoo) -> dict[str, dict[str, str]]:
    """model -> field -> the type our code expects, for everything the books read or filter on."""
    out = {
        "account.move": {**dict.fromkeys(ENTRY_FIELDS, "char"), "date": "date", "state": "selection"},
        "account.move.line": {"move_id": "many2one", "account_id": "many2one", "date": "date", "balance": "monetary", "name": "char",
                              "parent_state": "selection", "company_id": "many2one"},
        "product.category": {"property_valuation": "selection", "property_stock_valuation_account_id": "many2one"},
        "product.product": {"default_code": "char", "display_name": "char"},
        "stock.move": {"location_id": "many2one", "location_dest_id": "many2one", "is_inventory": "boolean", "picking_id": "many2one",
                       "reference": "char", "origin_returned_move_id": "many2one"},
    }
    assert set(out["account.move.line"]) >= set(LINE_FIELDS) and set(out["product.category"]) == set(CATEGORY_FIELDS)
    assert set(out["stock.move"]) == set(BOOK_MOVE_FIELDS)
    if odoo.dialect.has_valuation_layers:
        out["account.move"]["stock_move_id"] = "many2one"
        out["stock.valuation.layer"] = {"product_id": "many2one", "categ_id": "many2one", "quantity": "float", "value": "monetary",
                                        "stock_move_id": "many2one", "account_move_id": "many2one", "create_date": "datetime",
                                        "company_id": "many2one"}
        assert set(out["stock.valuation.layer"]) >= set(LAYER_FIELDS)
    else:
        out["account.move"]["stock_move_ids"] = "one2many"
        out["stock.move"].update({"product_id": "many2one", "product_qty": "float", "value": "monetary", "account_move_id": "many2one",
                                  "date": "datetime", "company_id": "many2one", "state": "selection"})
        out["stock.location"] = {"usage": "selection"}
        assert set(out["stock.move"]) >= set(MOVE_19_FIELDS)
    return out


def test_every_field_the_bridge_and_the_tie_out_read_exists_for_the_api_user(odoo):
    for model, wanted in _read(odoo).items():
        got = odoo.x(model, "fields_get", sorted(wanted), attributes=["type"])
        missing = sorted(set(wanted) - set(got))
        assert not missing, f"{model} lacks {missing}"
        for name, kind in wanted.items():
            assert got[name]["type"] in TYPES[kind], f"{model}.{name} is {got[name]['type']}, the books read it as {kind}"


def test_the_api_user_may_read_the_books_but_not_post_a_journal_entry(odoo):
    """Accounting / Read-only: the journal items read, an entry created is refused as a write (real Odoo 17)."""
    from threepl_bridge.odoo.errors import OdooAccessError

    assert isinstance(odoo.x("account.move.line", "search_read", [], fields=["balance"], limit=1), list)
    with pytest.raises(OdooAccessError, match=r"doesn't have 'write' access to:\n- Journal Entry \(account.move\)"):
        odoo.x("account.move", "create", {"move_type": "entry", "line_ids": []})


def _company(odoo) -> int:
    [user] = odoo.x("res.users", "read", [odoo.client.uid], fields=["company_id"])
    return user["company_id"][0]


def _locations(odoo) -> set[int]:
    return set(odoo.x("stock.location", "search", [["id", "child_of", [odoo.stock_location]]]))


def test_the_books_of_a_dispatch_tie_and_a_journal_entry_by_hand_shows_as_that_entry(odoo):
    today = date.today()
    first = today.replace(day=1)
    product = odoo.product("BOOKS", stock=5, cost=40.0)
    picking = odoo.order([(product["id"], 2)])
    [move] = odoo.moves(picking["id"])
    odoo.x("stock.move", "write", [move["id"]], {"quantity": 2, "picked": True})
    assert odoo.x("stock.picking", "button_validate", [picking["id"]], context={"skip_sms": True}) is True
    bridge, tie = compute_books(odoo.client, _company(odoo), _locations(odoo), first, today)
    mine = [l for l in bridge.lines if l.sku == product["default_code"]]
    assert sorted((l.kind, l.quantity) for l in mine) == [("adjustments", Decimal(5)), ("dispatches", Decimal(-2))]
    [out] = [l for l in mine if l.kind == "dispatches"]
    assert out.document == picking["name"] and out.value == Decimal("-80.00") and out.moment == today.isoformat()
    assert bridge.closing == bridge.opening + sum(v for _, v in bridge.steps()[1:-1])
    if not odoo.dialect.books_stock_moves:
        return  # 19: a delivery books no journal entry by default; the tie-out is for information there
    assert out.entry  # its journal entry, named
    assert tie.accounts and tie.gl_balance - tie.layers_value == sum((i.amount for i in tie.differences), Decimal(0))  # every difference listed
    if odoo.admin is None:
        pytest.skip("ODOO_ADMIN_USER/ODOO_ADMIN_PASSWORD not set: no journal entry by hand")
    [category] = odoo.x("product.product", "read", [product["id"]], fields=["categ_id"])
    [accounts] = odoo.x("product.category", "read", [category["categ_id"][0]],
                        fields=["property_stock_valuation_account_id", "property_stock_account_input_categ_id", "property_stock_journal"])
    def by_hand(debit: int, credit: int, ref: str) -> int:
        entry = odoo.admin.execute("account.move", "create", {
            "move_type": "entry", "journal_id": accounts["property_stock_journal"][0], "date": today.isoformat(), "ref": f"{ref} {odoo.tag}",
            "line_ids": [[0, 0, {"account_id": accounts[debit][0], "debit": 12.34, "name": ref}],
                         [0, 0, {"account_id": accounts[credit][0], "credit": 12.34, "name": ref}]]})
        assert odoo.admin.execute("account.move", "action_post", [entry]) is False  # Odoo 17's action_post answers False
        return entry

    valuation, interim = "property_stock_valuation_account_id", "property_stock_account_input_categ_id"
    from threepl_bridge.odoo.errors import OdooUserError

    with pytest.raises(OdooUserError, match=r"The move \(Draft Entry \(\* [0-9]+\)\) is not balanced"):  # refused at creation
        odoo.admin.execute("account.move", "create", {"move_type": "entry", "journal_id": accounts["property_stock_journal"][0],
                                                      "line_ids": [[0, 0, {"account_id": accounts[valuation][0], "debit": 1.0, "name": "x"}]]})
    entry = by_hand(valuation, interim, "contract write-up")
    try:
        [posted] = odoo.admin.execute("account.move", "read", [entry], fields=["name", "state"])
        assert posted["state"] == "posted"
        _, after = compute_books(odoo.client, _company(odoo), _locations(odoo), first, today)
        assert after.difference - tie.difference == Decimal("12.34")
        [item] = [i for i in after.differences if i.entry == posted["name"]]
        assert (item.reason, item.amount, item.date) == ("entry_without_layer", Decimal("12.34"), today.isoformat())
    finally:  # the server's books net as they were: the entry reversed by another
        by_hand(interim, valuation, "contract reversal")
    _, restored = compute_books(odoo.client, _company(odoo), _locations(odoo), first, today)
    assert restored.difference == tie.difference
