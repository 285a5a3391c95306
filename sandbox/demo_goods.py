"""The demo's goods in and goods back (sandbox): a purchase order the 3PL receives (a short line with damaged units,
a surplus, a new lot), an announced and an unannounced customer return (restock, scrap), and the warehouse's own
damage adjustments (one within tolerance, one for finance to approve). Set up once per demo folder, acted on once
by the simulated 3PL, summed up from the ledger and Odoo."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

PO_LINES = [("FURN_8855", 20, 95.0), ("FURN_7800", 10, 300.0), ("FURN_5555", 10, 72.0)]  # (SKU, quantity, price)
VENDOR = "Wood Corner"  # Odoo's demo vendor (the stand-in); on a real server the demo's own, by ref
RMA_OF = "DEMO-2"  # customer service announces the return of one drawer of this order (6 shipped)
UNANNOUNCED_OF = "DEMO-1"  # a desk of this order comes back broken, unannounced


def setup(client: Any, site: Any, warehouse_code: str, codes: dict[str, str]) -> dict[str, Any]:
    """The quarantine location (as an operator creates it, once) and the purchase order to receive (once)."""
    name = f"{warehouse_code}/Quarantine"
    found = client.execute("stock.location", "search", [["complete_name", "=", name]], limit=1)
    if not found:
        client.execute("stock.location", "create", {"name": "Quarantine", "location_id": site.warehouse["view_location_id"][0], "usage": "internal"})
    ref = site.ref("DEMO-PO-1")
    po = client.execute("purchase.order", "search", [["partner_ref", "=", ref], ["picking_type_id", "=", site.warehouse["in_type_id"][0]]], limit=1)
    if not po:
        vendor = _vendor(client, site)
        lines = []
        for sku, qty, price in PO_LINES:
            [pid] = client.execute("product.product", "search", [["default_code", "=", codes[sku]]], limit=1)
            lines.append([0, 0, {"product_id": pid, "product_qty": qty, "price_unit": price}])
        po = [client.execute("purchase.order", "create", {"partner_id": vendor, "picking_type_id": site.warehouse["in_type_id"][0],
                                                          "partner_ref": ref, "order_line": lines})]
        client.execute("purchase.order", "button_confirm", po)
    [picking] = client.execute("stock.picking", "search_read", [["purchase_id", "=", po[0]], ["backorder_id", "=", False]], fields=["name"])
    return {"asn": picking["name"], "po": po[0]}


def _vendor(client: Any, site: Any) -> int:
    if not site.real:
        [vendor] = client.execute("res.partner", "search", [["name", "=", VENDOR]], limit=1)
        return int(vendor)
    found = client.execute("res.partner", "search", [["ref", "=", "DEMO3PL-VENDOR"]], limit=1)
    return found[0] if found else int(client.execute("res.partner", "create", {"name": "Wood Corner (3PL demo vendor)", "ref": "DEMO3PL-VENDOR"}))


def announce_return(client: Any, delivery: dict[str, Any] | None) -> str | None:
    """Customer service creates a return of one unit of a done delivery in Odoo (an RMA), once."""
    if not delivery or delivery["state"] != "done":
        return None
    found = client.execute("stock.picking", "search_read", [["return_id", "=", delivery["id"]]], fields=["name"], order="id", limit=1)
    if found:
        return str(found[0]["name"])
    ctx = {"active_id": delivery["id"], "active_ids": [delivery["id"]], "active_model": "stock.picking"}
    wizard = client.execute("stock.return.picking", "create", {}, context=ctx)
    [w] = client.execute("stock.return.picking", "read", [wizard], fields=["product_return_moves"], context=ctx)
    client.execute("stock.return.picking.line", "write", w["product_return_moves"], {"quantity": 1, "to_refund": True})
    action = client.execute("stock.return.picking", client.dialect.create_returns_method, [wizard], context=ctx)
    [rma] = client.execute("stock.picking", "read", [action["res_id"]], fields=["name"])
    return str(rma["name"])


def three_pl_goods(tpl: Any, goods: dict[str, Any], deliveries: dict[str, dict[str, Any]], rma: str | None, now: datetime, local: Any,
                   codes: dict[str, str]) -> None:
    """What the warehouse writes: the receipt, the returns, its own adjustments (each file once)."""
    stamp = now.strftime("%Y%m%d")
    if goods["asn"] not in tpl.announced():  # the warehouse receives only what an ASN announced
        raise RuntimeError(f"the 3PL found no ASN for {goods['asn']} in its inbox")
    tpl.receive(f"RECEIPT_{stamp}_001.csv", goods["asn"], [
        (1, codes["FURN_8855"], 12, "", "good"), (1, codes["FURN_8855"], 2, "", "damaged"),   # short: 14 of 20, 2 of them damaged
        (2, codes["FURN_7800"], 11, "", "good"),                                               # over: 11 of 10 (within 10%)
        (3, codes["FURN_5555"], 10, f"RCV-{stamp}", "good"),                                   # a new lot
    ], local(now - timedelta(hours=3)))
    rows = []
    if rma:
        rows.append((rma, "", codes["FURN_8855"], 1, "restock", "wrong colour"))
    if deliveries.get(UNANNOUNCED_OF, {}).get("state") == "done":
        rows.append(("", deliveries[UNANNOUNCED_OF]["name"], codes["FURN_7800"], 1, "scrap", "arrived broken"))
    if rows:
        tpl.take_back(f"RETURN_{stamp}_001.csv", rows, local(now - timedelta(minutes=150)))
    tpl.adjust(f"ADJUST_{stamp}_001.csv", [(codes["E-COM11"], -1, "DMG", "dropped by a forklift"),   # 120.50: within tolerance
                                           (codes["FURN_6666"], -2, "DMG", "water damage")],        # 574.00: finance approves
               local(now - timedelta(hours=2)))


def summary(client: Any, ledger: Any, partner: str, goods: dict[str, Any]) -> tuple[list[str], bool]:
    """The receipts, returns and adjustments the pipeline posted (or holds), from the ledger and Odoo."""
    from sqlalchemy import select

    from threepl_bridge.ledger.models import Exchange

    with ledger.session() as s:
        exchanges = {kind: [e.id for e in s.scalars(select(Exchange).filter_by(partner=partner, kind=kind, direction="inbound"))]
                     for kind in ("receipts", "returns", "adjustments")}
    rows = {kind: [o for e in ids for o in ledger.row_outcomes(e)] for kind, ids in exchanges.items()}
    released = ledger.released_pickings(partner, kind="asn")
    out = [f"Receipts announced to the 3PL (ASNs; a backorder stays under its receipt's): {len(released)} "
           f"({', '.join(sorted(r.picking_name for r in released.values()))})"]
    pickings = client.execute("stock.picking", "search_read", [["purchase_id", "=", goods["po"]]], fields=["name", "state"], order="id")
    lines = client.execute("stock.move.line", "search_read", [["picking_id", "in", [p["id"] for p in pickings]], ["state", "=", "done"]],
                           fields=["product_id", "quantity", "lot_id", "location_dest_id"])
    received = Counter(o.outcome for o in rows["receipts"])
    out.append(f"Receipts: {received['posted']} line(s) posted into {', '.join(p['name'] + ' ' + p['state'] for p in pickings)}"
               + (f"; {received['exception']} exception(s)" if received["exception"] else ""))
    out += [f"   {l['product_id'][1]}: {l['quantity']:g} into {l['location_dest_id'][1]}{' lot ' + l['lot_id'][1] if l['lot_id'] else ''}"
            for l in sorted(lines, key=lambda l: (l["product_id"][1], l["location_dest_id"][1]))]
    by_disposition = Counter(o.data and json.loads(o.data).get("disposition") for o in rows["returns"] if o.outcome == "posted")
    unannounced = sum(1 for o in rows["returns"] if o.outcome == "posted" and o.data and not json.loads(o.data).get("return_ref"))
    out.append("Returns posted by disposition: " + ", ".join(f"{k} {v}" for k, v in sorted(by_disposition.items()))
               + f" ({unannounced} unannounced, made through Odoo's return wizard)")
    recons = [r for r in ledger.reconciliations(partner) if r.exchange_id in exchanges["adjustments"]]
    adjusted = [l for r in recons for l in ledger.reconciliation_lines(r.id)]
    out.append("3PL adjustments: " + ", ".join(f"{l.sku} {l.variance_qty.normalize():+f} "
                                               f"{'posted' if l.posting_id else 'waits for approval' if l.approval == 'pending' else l.approval}"
                                               for l in adjusted))
    damaged = any("Quarantine" in l["location_dest_id"][1] for l in lines)
    ok = (any(r.picking_name == goods["asn"] for r in released.values()) and received["posted"] >= 4 and len(pickings) == 2 and damaged and {"restock", "scrap"} <= set(by_disposition) and unannounced >= 1
          and any(l.posting_id for l in adjusted) and any(l.approval == "pending" for l in adjusted))
    return out, ok
