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


def test_a_person_resolves_one_with_a_note_and_it_opens_again_while_its_cause_is_seen(ledger_url, monkeypatch, capsys):
    monkeypatch.setenv("THREEPL_LEDGER_URL", ledger_url)
    ledger = Ledger.open(ledger_url)
    ids = _seed(ledger)
    assert main(["exceptions", "resolve", str(ids["held"]), "--note", "  "]) == 1
    assert "a note is required" in capsys.readouterr().out
    assert main(["exceptions", "resolve", str(ids["held"]), "--note", "zip added in Odoo", "--by", "ops.anna"]) == 0
    assert "resolved by ops.anna: zip added in Odoo" in capsys.readouterr().out
    assert main(["exceptions", "resolve", str(ids["held"]), "--note", "again"]) == 1
    assert "is not open" in capsys.readouterr().out
    assert main(["exceptions", "resolve", "999999", "--note", "x"]) == 1
    capsys.readouterr()
    assert main(["exceptions", "show", str(ids["held"]), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["status"], shown["resolved_by"], shown["resolution"]) == ("resolved", "ops.anna", "zip added in Odoo")
    assert main(["exceptions", "list", "--json"]) == 0
    assert ids["held"] not in [r["id"] for r in json.loads(capsys.readouterr().out)]

    # the next run still sees the address incomplete: the same exception is open again, its resolution gone
    again = ledger.raise_exception(partner="demo3pl", code=codes.ORDER_ADDRESS_INCOMPLETE, object_type="picking", object_ref="3PL/OUT/00006",
                                   message="3PL/OUT/00006: ship-to address lacks zip")
    assert again == ids["held"]
    (row,) = ledger.find_exceptions(exception_id=again)
    assert (row.status, row.resolution, row.resolved_by, row.resolved_at, row.occurrences) == ("open", None, None, None, 2)


def test_the_pipeline_resolves_with_the_reason_and_keeps_the_suggestion_shown(ledger_url, monkeypatch, capsys):
    monkeypatch.setenv("THREEPL_LEDGER_URL", ledger_url)
    ledger = Ledger.open(ledger_url)
    fix = json.dumps({"kind": "sku_typo", "value": "FURN_7800", "reason": "'FURN_78OO' is 2 edits from SKU FURN_7800"})
    sid = ledger.raise_exception(partner="demo3pl", code=codes.PRODUCT_BAD_BARCODE, object_type="product", object_ref="product:7",
                                 message="product 7 has no barcode", suggestion=fix)
    assert main(["exceptions", "list"]) == 0
    assert "?? suggested: FURN_7800 ('FURN_78OO' is 2 edits from SKU FURN_7800)" in capsys.readouterr().out
    assert ledger.resolve_exceptions(partner="demo3pl", object_type="product", object_ref="product:7", reason="the product passed") == 1
    assert main(["exceptions", "show", str(sid), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["resolved_by"], shown["resolution"], shown["suggestion"]["value"]) == ("threepl-bridge", "the product passed", "FURN_7800")


def test_a_quarantined_file_is_resolved_when_a_later_arrival_of_it_is_processed(ledger_url):
    ledger = Ledger.open(ledger_url)
    refs = {"DISPATCH_9.csv#3": "bad layout", "DISPATCH_9.csv#8": "bad again", "DISPATCH_90.csv#4": "other file", "DISPATCH_9_csv#5": "like-escape"}
    ids = {ref: ledger.raise_exception(partner="demo3pl", code=codes.DISPATCH_FILE_UNREADABLE, object_type="file", object_ref=ref, message=m)
           for ref, m in refs.items()}
    assert ledger.resolve_file_exceptions(partner="demo3pl", remote_name="DISPATCH_9.csv", processed_exchange_id=12) == 2
    still = {e.object_ref for e in ledger.find_exceptions(partner="demo3pl")}
    assert still == {"DISPATCH_90.csv#4", "DISPATCH_9_csv#5"}
    (done,) = ledger.find_exceptions(exception_id=ids["DISPATCH_9.csv#3"], status=None)
    assert done.resolution == "the file was read and processed again as exchange 12" and done.resolved_by == "threepl-bridge"
