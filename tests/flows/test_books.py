"""The month's books (issue 17): the valuation bridge of the partner's warehouse and the GL tie-out, on the
stand-in's stock valuation layers and journal items; a journal entry posted by hand on the stock valuation account
shows in the tie-out as that entry and blocks the close, for finance."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from tests.flows.conftest import ship_one
from threepl_bridge.flows.month_end import compute
from threepl_bridge.odoo.client import OdooClient, OdooSettings
from threepl_bridge.reports import write_month_end_report, write_quality_page

NOVEMBER = date(2026, 11, 1)
STOCK_VALUATION, STOCK_INTERIM_RECEIVED = 2, 3  # accounts 110100 and 110200 (contract demo_data: the categories' accounts)


def _layers(world, **domain) -> list[dict]:
    return world.x("stock.valuation.layer", "search_read", [], fields=["value", "stock_move_id", "account_move_id", "create_date"])


def test_the_bridge_walks_from_opening_to_closing_and_the_tie_out_balances(world, tmp_path):
    picking = ship_one(world)[0]
    report = compute(world.demo, world.odoo, world.ledger, NOVEMBER)
    bridge, tie = report.bridge, report.tie_out
    # every layer of the 3PL's stock is dated in November (seeded the day before the frozen clock, then the dispatch)
    dispatched = [l for l in bridge.lines if l.kind == "dispatches"]
    assert [(l.document, l.sku, l.quantity) for l in dispatched] == [(picking["name"], "FURN_7800", Decimal(-2))]
    assert dispatched[0].value < 0 and dispatched[0].entry.startswith("STJ/2026/11/")
    assert bridge.opening == 0 and bridge.total("adjustments") > 0
    assert bridge.closing == bridge.opening + sum(v for k, v in bridge.steps()[1:-1])
    threepl_layers = sum(Decimal(str(l["value"])) for l in _layers(world))
    assert bridge.closing == threepl_layers  # all the stand-in's valued stock is at the 3PL here
    assert tie.ties, (tie.gl_balance, tie.layers_value, tie.differences)
    assert tie.gl_balance == tie.layers_value == threepl_layers.quantize(Decimal("0.01"))
    assert tie.accounts == ["110100 Stock Valuation"] and tie.differences == []
    assert report.ready, report.verdict
    paths = write_month_end_report(report, tmp_path)
    assert sorted(p.name for p in paths) == ["month_end_2026-11.csv", "month_end_2026-11.html", "month_end_2026-11.xlsx",
                                             "valuation_bridge_2026-11.csv"]
    documents = (tmp_path / "demo3pl" / "valuation_bridge_2026-11.csv").read_text()
    assert f"Dispatches,2026-11-02,{picking['name']},FURN_7800,-2,Units," in documents
    # the dispatch file's data quality is kept with its exchange and shown in the month's files
    [(exchange, quality)] = report.files
    assert exchange.remote_name == "DISPATCH_1.csv" and quality["rows"] == 1 and quality["rows_failing"] == 0
    checks = {c["description"]: c for c in quality["checks"]}
    assert checks["order_ref values must never be null."]["success"] and checks["quantity values must be greater than 0.0."]["rows"] == 1
    assert "uom values must belong to this set: EA CS PAL." in checks or any("must belong to this set" in d for d in checks), sorted(checks)
    page = write_quality_page(world.ledger, exchange.id, tmp_path).read_text()
    assert "Every check passed (8)" in page and "order_ref values must never be null." in page


def test_a_journal_entry_posted_by_hand_on_the_stock_account_shows_in_the_tie_out_and_blocks_the_close(world, tmp_path):
    ship_one(world)
    admin = OdooClient(OdooSettings(url=world.odoo.settings.url, database="odoo3pl", login="admin", password="admin"))
    entry = admin.execute("account.move", "create", {"move_type": "entry", "journal_id": 8, "date": "2026-11-25", "ref": "stock write-up by hand",
                                                     "line_ids": [[0, 0, {"account_id": STOCK_VALUATION, "debit": 123.45, "name": "write-up"}],
                                                                  [0, 0, {"account_id": STOCK_INTERIM_RECEIVED, "credit": 123.45, "name": "write-up"}]]})
    admin.execute("account.move", "action_post", [entry])
    [posted] = admin.execute("account.move", "read", [entry], fields=["name", "state"])
    report = compute(world.demo, world.odoo, world.ledger, NOVEMBER)
    tie = report.tie_out
    assert tie.difference == Decimal("123.45")
    assert [(i.entry, i.date, i.reason, i.amount) for i in tie.differences] == [(posted["name"], "2026-11-25", "entry_without_layer", Decimal("123.45"))]
    assert "posted on the account by hand" in tie.differences[0].detail
    [blocker] = [b for b in report.blocking if posted["name"] in b]
    assert blocker.who == "finance" and "GL tie-out" in blocker
    assert not report.ready
    # an entry dated after the close is not in November's tie-out
    later = admin.execute("account.move", "create", {"move_type": "entry", "journal_id": 8, "date": "2026-12-02",
                                                     "line_ids": [[0, 0, {"account_id": STOCK_VALUATION, "debit": 5.0, "name": "x"}],
                                                                  [0, 0, {"account_id": STOCK_INTERIM_RECEIVED, "credit": 5.0, "name": "x"}]]})
    admin.execute("account.move", "action_post", [later])
    assert compute(world.demo, world.odoo, world.ledger, NOVEMBER).tie_out.difference == Decimal("123.45")
    html = write_month_end_report(report, tmp_path)[0].read_text()
    assert posted["name"] in html and "Entry without a layer" in html and "NOT READY" in html
