"""The Odoo calls issue 14 changed to cost per file instead of per picking, through our client: the same assertions on
the stand-in and on a real Odoo 17 (see conftest.py).

Captured on a real 17.0 server: ``sandbox/odoo_standin/contract/flows/R14_*.json``."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest

from threepl_bridge.odoo.chatter import comments_of, post_notes
from threepl_bridge.odoo.client import OdooClient
from threepl_bridge.odoo.errors import OdooError
from threepl_bridge.odoo.stock_queries import StockQueries


def test_f11_message_post_takes_one_record_per_call(odoo):
    """Why the notes of a file are not one message_post: mail.thread.message_post ensures one record."""
    odoo.ensure_email()
    product = odoo.product("NOTE1", stock=5)
    pickings = [odoo.order([(product["id"], 1)])["id"] for _ in range(2)]
    with pytest.raises(OdooError, match=r"Expected singleton: stock\.picking\("):
        odoo.x("stock.picking", "message_post", pickings, body="x", message_type="comment", subtype_xmlid="mail.mt_note")


def test_f11_many_notes_in_one_create_from_a_user_without_email_each_found_again(odoo):
    """post_notes (the release and dispatch notes): mail.message.create with many values in one call; unlike
    message_post it does not need the sender's email; each note is found on its own record by the retry's lookup."""
    odoo.ensure_email()
    product = odoo.product("NOTE2", stock=5)
    pickings = [odoo.order([(product["id"], 1)])["id"] for _ in range(3)]
    _, no_email = odoo.user_without_email()
    texts = {pid: f"Released to 3PL <Demo> & co, picking {pid}." for pid in pickings}
    assert sorted(post_notes(no_email, "stock.picking", texts, look_first=False)) == sorted(pickings)
    assert no_email.calls["mail.message.create"] == 1  # one create for the three notes
    assert comments_of(no_email, "stock.picking", pickings) == {pid: {text} for pid, text in texts.items()}
    assert post_notes(no_email, "stock.picking", texts) == []  # found: never written twice


def test_f04_lock_dates_of_the_pickings_company_in_one_read(odoo):
    """The dispatch checks read the lock dates of the pickings' company (res.company, period and all-users dates)
    in one read, and refuse a day on or before the later of the two."""
    found = StockQueries(odoo.client, None).lock_dates([1])  # type: ignore[arg-type]
    assert set(found) == {1} and (found[1] is None or len(found[1]) == 10)


def test_f02_a_reserved_move_shipped_in_full_needs_only_picked(odoo):
    """_prepare_pickings writes only picked=True on a move reserved exactly as shipped: its lines are picked with it
    (stock.move.picked's inverse) and the validation ships the reserved quantity."""
    odoo.ensure_email()
    product = odoo.product("PICK", stock=10)
    picking = odoo.order([(product["id"], 3)])
    [move] = odoo.moves(picking["id"])
    assert (move["state"], move["quantity"], move["picked"]) == ("assigned", 3.0, False)
    odoo.x("stock.move", "write", [move["id"]], {"picked": True})
    lines = odoo.x("stock.move.line", "read", move["move_line_ids"], fields=["quantity", "picked"])
    assert [(l["quantity"], l["picked"]) for l in lines] == [(3.0, True)]
    assert odoo.x("stock.picking", "button_validate", [picking["id"]], context={"skip_sms": True, "skip_backorder": True}) is True
    [done] = odoo.moves(picking["id"])
    assert (done["state"], done["quantity"]) == ("done", 3.0)


def test_f04_dates_written_grouped_by_value_on_done_records(odoo):
    """Back-dating with write (one value for many records) on a done picking, its moves and their lines."""
    odoo.ensure_email()
    product = odoo.product("DATE", stock=10)
    pickings = [odoo.order([(product["id"], 1)]) for _ in range(2)]
    ids = [p["id"] for p in pickings]
    odoo.x("stock.picking", "button_validate", ids, context={"skip_sms": True, "skip_backorder": True})
    stamp = "2026-11-02 10:00:00"
    assert odoo.client.set_values("stock.picking", "date_done", {pid: stamp for pid in ids}) == 1
    moves = odoo.client.search_read_in("stock.move", "picking_id", ids, ["picking_id", "move_line_ids"], domain=[["state", "=", "done"]])
    assert odoo.client.set_values("stock.move", "date", {m["id"]: stamp for m in moves}) == 1
    assert odoo.client.set_values("stock.move.line", "date", {lid: stamp for m in moves for lid in m["move_line_ids"]}) == 1
    assert {p["date_done"] for p in odoo.x("stock.picking", "read", ids, fields=["date_done"])} == {stamp}
    assert {l["date"] for l in odoo.x("stock.move.line", "search_read", [["picking_id", "in", ids]], fields=["date"])} == {stamp}
    distinct = {pid: f"2026-11-0{i + 3} 0{i}:00:00" for i, pid in enumerate(ids)}
    one_value = OdooClient(replace(odoo.client.settings, distinct_writes=1))  # more distinct values than that: one load
    assert one_value.set_values("stock.picking", "date_done", distinct) == 1
    assert one_value.calls - Counter({"common.version": 1}) == {"common.authenticate": 1, "stock.picking.load": 1}  # (+ auto's version)
    assert {p["id"]: p["date_done"] for p in odoo.x("stock.picking", "read", ids, fields=["date_done"])} == distinct
