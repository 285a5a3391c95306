"""Odoo incoming pickings -> advance shipping notices (ASNs) for the 3PL: what it should expect, held back with a
reason when it could not receive against it.

``prepare_asns`` finds the ready incoming pickings of the partner's warehouses not announced yet - purchase
receipts, and where the partner's policy says so inter-warehouse transfers (``asn_transfers``) and customer returns
created in Odoo (``asn_returns``: the RMA notice) -, checks each (every product has a SKU and is at the 3PL, a
barcode where the layout requires one, the quantity whole in a unit the partner has a code for, the layout's
rules) and stages the announceable ones in one file per run (or one per receipt). Staging commits the release in
the ledger before the upload, so no receipt is announced twice. ``watch_asns`` then follows the announced ones:
done (stop watching), cancelled or changed in Odoo - sent again with ``action`` cancel or change when the
partner's ASN layout carries that field, else an exception for a person to tell the 3PL.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from threepl_bridge import codes
from threepl_bridge.codes import Problem
from threepl_bridge.flows.orders import lines_hash
from threepl_bridge.flows.outbound import stage_file
from threepl_bridge.formats.codec import check_row, encode, format_decimal
from threepl_bridge.ledger.repo import Ledger
from threepl_bridge.odoo.client import OdooClient
from threepl_bridge.odoo.stock_queries import StockQueries
from threepl_bridge.specs.models import Partner

log = logging.getLogger(__name__)

KIND = "asn"
PICKING_FIELDS = ["name", "state", "partner_id", "purchase_id", "return_id", "origin", "scheduled_date", "picking_type_id", "location_id"]
MOVE_FIELDS = ["picking_id", "product_id", "product_uom_qty", "product_uom", "state", "move_line_ids"]
HOLD_CODES = (codes.ASN_MISSING_SKU, codes.ASN_PRODUCT_NOT_AT_3PL, codes.ASN_MISSING_BARCODE, codes.ASN_UOM_NOT_MAPPED, codes.ASN_UOM_MISMATCH,
              codes.ASN_FIELD_INVALID)


def _announced_as(partner: Partner, picking: dict[str, Any], usage: dict[int, str]) -> str | None:
    """What the 3PL is told to expect: a purchase receipt, a customer return (policy), a transfer (policy), or None."""
    policy = partner.spec.policy
    if picking.get("purchase_id"):
        return "purchase"
    if picking.get("return_id"):
        return "return" if policy.asn_returns else None
    if policy.asn_transfers and usage.get(picking["location_id"][0]) in ("internal", "transit"):
        return "transfer"
    return None


def _expected(picking: dict[str, Any], partner: Partner) -> str | None:
    stamp = picking.get("scheduled_date")
    if not stamp:
        return None
    return datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc).astimezone(partner.spec.tz).date().isoformat()


class _Reads:
    """What the rows of a set of pickings need from Odoo, read once."""

    def __init__(self, client: OdooClient, partner: Partner, ledger: Ledger, pickings: list[dict[str, Any]]) -> None:
        ids = [p["id"] for p in pickings]
        self.moves = client.search_read_in("stock.move", "picking_id", ids, MOVE_FIELDS) if ids else []
        product_ids = sorted({m["product_id"][0] for m in self.moves})
        self.products = client.read_by_id("product.product", product_ids, ["default_code", "barcode", "name"])
        lines = client.search_read_in("stock.move.line", "move_id", [m["id"] for m in self.moves], ["move_id", "lot_id", "lot_name", "quantity"]) if self.moves else []
        self.lots: dict[int, list[tuple[str, float]]] = {}
        for l in lines:
            name = (l["lot_id"][1] if l.get("lot_id") else None) or l.get("lot_name")
            if name:
                self.lots.setdefault(l["move_id"][0], []).append((name, l["quantity"]))
        self.partners = client.read_by_id("res.partner", sorted({p["partner_id"][0] for p in pickings if p.get("partner_id")}), ["name"])
        self.orders = client.read_by_id("purchase.order", sorted({p["purchase_id"][0] for p in pickings if p.get("purchase_id")}), ["name"])
        self.at_3pl = set(ledger.product_versions(partner.code, sent_only=True))

    def moves_of(self, picking_id: int, *, cancelled: bool = False) -> list[dict[str, Any]]:
        return sorted((m for m in self.moves if m["picking_id"][0] == picking_id and (cancelled or m["state"] != "cancel")), key=lambda m: m["id"])


def asn_rows(partner: Partner, picking: dict[str, Any], kind: str, reads: _Reads, action: str = "new") -> tuple[list[dict[str, Any]], list[Problem]]:
    """The ASN lines of one picking (one per expected lot where Odoo knows them) and why it cannot be announced."""
    layout = partner.layout_for(KIND)
    name, rows, problems = picking["name"], [], []
    for line_no, move in enumerate(reads.moves_of(picking["id"], cancelled=action == "cancel"), start=1):
        product = reads.products[move["product_id"][0]]
        sku = product.get("default_code")
        where = f"{name} line {line_no} ({sku or product['name']})"
        if not sku:
            problems.append(codes.ASN_MISSING_SKU(field="sku", where=where))
        elif product["id"] not in reads.at_3pl and action == "new":
            problems.append(codes.ASN_PRODUCT_NOT_AT_3PL(field="sku", value=sku, where=where, sku=sku))
        uom_name, qty = move["product_uom"][1], Decimal(str(move["product_uom_qty"]))
        uom = partner.spec.uom_by_odoo(uom_name)
        if uom is None:
            problems.append(codes.ASN_UOM_NOT_MAPPED(field="uom", value=uom_name, where=where, uom=uom_name, source=partner.source))
        elif qty != qty.to_integral_value():
            problems.append(codes.ASN_UOM_MISMATCH(field="quantity", value=qty, where=where, qty=format_decimal(qty), uom=uom_name, unit=uom.code))
        base = {"asn_ref": name, "line_no": line_no, "sku": sku or None, "barcode": product.get("barcode") or None, "uom": uom.code if uom else None,
                "expected_date": _expected(picking, partner), "supplier": (reads.partners.get(picking["partner_id"][0]) or {}).get("name")
                if picking.get("partner_id") else None,
                "purchase_order": (reads.orders.get(picking["purchase_id"][0]) or {}).get("name") if picking.get("purchase_id") else picking.get("origin"),
                "action": action, "kind": kind}
        lots = reads.lots.get(move["id"]) if action != "cancel" else None
        for lot, lot_qty in lots or [(None, float(qty))]:
            amount = Decimal(str(lot_qty)) if lots else qty
            rows.append({**base, "lot": lot, "quantity": int(amount) if amount == amount.to_integral_value() else amount})
    for row in rows:
        for p in check_row(layout, row):
            if p.code == codes.FIELD_REQUIRED and p.field == "barcode":
                problems.append(codes.ASN_MISSING_BARCODE(field="barcode", where=f"{name} line {row['line_no']}", sku=row["sku"]))
            elif not (p.code == codes.FIELD_REQUIRED and p.field in ("sku", "uom")):  # reported as ASN_MISSING_SKU / ASN_UOM_*
                problems.append(codes.ASN_FIELD_INVALID(field=p.field, where=f"{name} line {row['line_no']}", detail=p.message))
    return rows, list(dict.fromkeys(problems))


def prepare_asns(*, partner: Partner, client: OdooClient, ledger: Ledger, now: datetime, run_id: str | None = None) -> dict[str, Any]:
    doc = partner.document(KIND)
    if doc is None:
        raise LookupError(f"partner {partner.code} has no {KIND} document")
    states = ["assigned", "confirmed"] if partner.spec.policy.release_confirmed else ["assigned"]
    types = sorted(StockQueries(client, partner).in_picking_types)
    found = list(client.search_read_all("stock.picking", [["picking_type_id", "in", types], ["state", "in", states]], PICKING_FIELDS))
    released = ledger.released_pickings(partner.code, [p["id"] for p in found], kind=None)
    found = [p for p in found if p["id"] not in released]
    usage = {l["id"]: l["usage"] for l in client.read("stock.location", sorted({p["location_id"][0] for p in found}), ["usage"])} if found else {}
    kinds = {p["id"]: _announced_as(partner, p, usage) for p in found}
    pickings = [p for p in sorted(found, key=lambda p: p["name"]) if kinds[p["id"]]]
    if not pickings:
        return {"exchange_ids": [], "candidates": 0, "released": 0, "held": 0}
    reads = _Reads(client, partner, ledger, pickings)
    ready, held = [], 0
    for picking in pickings:
        rows, problems = asn_rows(partner, picking, kinds[picking["id"]] or "", reads)  # type: ignore[arg-type]
        keep = [p.code for p in problems]
        for problem in problems:
            ledger.raise_exception(partner=partner.code, code=problem.code, object_type="picking", object_ref=picking["name"], message=problem.message)
        ledger.resolve_exceptions(partner=partner.code, object_type="picking", object_ref=picking["name"], codes=list(HOLD_CODES), keep=keep,
                                  reason="the receipt no longer has this problem" if keep else "the receipt passed every check and is announced")
        if problems:
            held += 1
        else:
            ready.append((picking, rows))
    groups = [ready] if doc.split == "run" else [[item] for item in ready]
    exchange_ids = [stage_file(ledger, partner=partner.code, kind=KIND, folder=doc.folder, template=doc.name_template or "", when=now,
                               data=encode(partner.layout_for(KIND), [r for _, rows in group for r in rows]), run_id=run_id, first_seq=seq + 1,
                               name_tz=doc.name_timezone,
                               pickings=[{"picking_id": p["id"], "picking_name": p["name"], "content_hash": lines_hash(reads.moves_of(p["id"]))}
                                         for p, _ in group])
                    for seq, group in enumerate(g for g in groups if g)]
    log.info("%s ASNs: %d candidates, %d announced in %d file(s), %d held", partner.code, len(pickings), len(ready), len(exchange_ids), held)
    return {"exchange_ids": exchange_ids, "candidates": len(pickings), "released": len(ready), "held": held}


def watch_asns(*, partner: Partner, client: OdooClient, ledger: Ledger, now: datetime, run_id: str | None = None) -> dict[str, int]:
    """Announced receipts done (no longer watched), cancelled or changed in Odoo (sent again, or an exception)."""
    watched = ledger.released_pickings(partner.code, states=["released"], kind=KIND)
    if not watched:
        return {"watched": 0, "cancelled": 0, "changed": 0}
    current = client.read_by_id("stock.picking", list(watched), PICKING_FIELDS)
    reads = _Reads(client, partner, ledger, list(current.values()))
    with_action = partner.layout_for(KIND).field("action") is not None
    done = [pid for pid, p in current.items() if p["state"] == "done"]
    if done:
        ledger.set_released_states(partner.code, done, "done")
    cancelled = [r for pid, r in watched.items() if (current.get(pid) or {"state": "cancel"})["state"] == "cancel"]
    changed = [r for pid, r in watched.items() if pid in current and current[pid]["state"] not in ("done", "cancel")
               and r.content_hash and lines_hash(reads.moves_of(pid)) != r.content_hash]
    if with_action and (cancelled or changed):
        rows = [row for r in cancelled if r.picking_id in current for row in asn_rows(partner, current[r.picking_id], "", reads, "cancel")[0]]
        rows += [row for r in changed for row in asn_rows(partner, current[r.picking_id], "", reads, "change")[0]]
        doc = partner.document(KIND)
        assert doc is not None
        stage_file(ledger, partner=partner.code, kind=KIND, folder=doc.folder, template=doc.name_template or "", when=now,
                   data=encode(partner.layout_for(KIND), rows), run_id=run_id, name_tz=doc.name_timezone,
                   picking_states={r.picking_id: "cancel_sent" for r in cancelled})
        for r in changed:
            ledger.set_released_hash(partner.code, r.picking_id, lines_hash(reads.moves_of(r.picking_id)))
    else:
        for r in cancelled:
            problem = codes.ASN_CANCELLED_AFTER_RELEASE(picking=r.picking_name, exchange=r.exchange_id)
            ledger.raise_exception(partner=partner.code, code=problem.code, object_type="picking", object_ref=r.picking_name, message=problem.message)
            ledger.set_released_state(partner.code, r.picking_id, "cancelled")
        for r in changed:
            problem = codes.ASN_CHANGED_AFTER_RELEASE(picking=r.picking_name, exchange=r.exchange_id)
            ledger.raise_exception(partner=partner.code, code=problem.code, object_type="picking", object_ref=r.picking_name, message=problem.message)
    return {"watched": len(watched), "cancelled": len(cancelled), "changed": len(changed)}
