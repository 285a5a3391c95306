"""``python -m threepl_bridge exceptions list|show``: the operator's view of the open exceptions, on both backends."""

from __future__ import annotations

import json
from datetime import timedelta

from threepl_bridge import codes
from threepl_bridge.__main__ import main
from threepl_bridge.ledger.models import utcnow
from threepl_bridge.ledger.repo import Ledger


def _seed(ledger: Ledger) -> dict[str, int]:
    exchange = ledger.register_inbound(partner="demo3pl", kind="dispatches", folder="/from_3pl/dispatch", name="DISPATCH_7.csv",
                                       sha256="c" * 64, size=10)
    old = utcnow() - timedelta(hours=50)
    held = ledger.raise_exception(partner="demo3pl", code=codes.ORDER_ADDRESS_INCOMPLETE, object_type="picking", object_ref="3PL/OUT/00006",
                                  message="3PL/OUT/00006: ship-to address lacks zip", at=old)
    sku = ledger.raise_exception(partner="demo3pl", code=codes.DISPATCH_SKU_NOT_ON_PICKING, object_type="row", object_ref="DISPATCH_7.csv:4",
                                 message="DISPATCH_7.csv row 4: SKU FURN_78OO is unknown", exchange_id=exchange.exchange_id)
    other = ledger.raise_exception(partner="semi3pl", code=codes.ORDER_ADDRESS_INCOMPLETE, object_type="picking", object_ref="WH2/OUT/1",
                                   message="WH2/OUT/1: ship-to address lacks zip")
    return {"held": held, "sku": sku, "other": other, "exchange": exchange.exchange_id}


def test_list_shows_the_open_exceptions_oldest_first_with_action_age_and_file(ledger_url, monkeypatch, capsys):
    monkeypatch.setenv("THREEPL_LEDGER_URL", ledger_url)
    ids = _seed(Ledger.open(ledger_url))
    assert main(["exceptions", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in rows] == [ids["held"], ids["sku"], ids["other"]]
    held, sku = rows[0], rows[1]
    assert held["action"] == codes.ORDER_ADDRESS_INCOMPLETE.action and held["title"] == codes.ORDER_ADDRESS_INCOMPLETE.title
    assert 49.9 <= held["age_hours"] <= 50.5 and held["file"] is None
    assert sku["file"] == {"exchange_id": ids["exchange"], "name": "DISPATCH_7.csv", "folder": "/from_3pl/dispatch", "kind": "dispatches",
                           "moved_to": None}
    assert main(["exceptions", "list", "--json", "--partner", "demo3pl", "--older-than-hours", "24"]) == 0
    assert [r["id"] for r in json.loads(capsys.readouterr().out)] == [ids["held"]]
    assert main(["exceptions", "list", "--json", "--code", "DISPATCH_SKU_NOT_ON_PICKING"]) == 0
    assert [r["id"] for r in json.loads(capsys.readouterr().out)] == [ids["sku"]]
    assert main(["exceptions", "list"]) == 0
    table = capsys.readouterr().out
    assert table.startswith("3 exception(s): DISPATCH_SKU_NOT_ON_PICKING 1, ORDER_ADDRESS_INCOMPLETE 2")
    assert "[DISPATCH_7.csv]" in table and f"-> {codes.DISPATCH_SKU_NOT_ON_PICKING.action}" in table


def test_show_names_the_file_and_resolved_ones_leave_the_list(ledger_url, monkeypatch, capsys):
    monkeypatch.setenv("THREEPL_LEDGER_URL", ledger_url)
    ledger = Ledger.open(ledger_url)
    ids = _seed(ledger)
    assert main(["exceptions", "show", str(ids["sku"])]) == 0
    text = capsys.readouterr().out
    assert "DISPATCH_SKU_NOT_ON_PICKING" in text and f"/from_3pl/dispatch/DISPATCH_7.csv (dispatches, exchange {ids['exchange']})" in text
    assert main(["exceptions", "show", "999999"]) == 1
    capsys.readouterr()
    for partner, ref in (("demo3pl", "3PL/OUT/00006"), ("semi3pl", "WH2/OUT/1")):
        ledger.resolve_exceptions(partner=partner, object_type="picking", object_ref=ref)
    ledger.resolve_exceptions(partner="demo3pl", object_type="row", object_ref="DISPATCH_7.csv:4")
    assert main(["exceptions", "list"]) == 0
    assert capsys.readouterr().out.strip() == "nothing needs you: no open exceptions"
    assert main(["exceptions", "list", "--all", "--json"]) == 0
    assert {r["status"] for r in json.loads(capsys.readouterr().out)} == {"resolved"}
    assert main(["exceptions", "show", str(ids["held"]), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["resolved_at"] is not None
