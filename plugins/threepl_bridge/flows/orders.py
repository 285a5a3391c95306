"""Odoo outgoing pickings -> the 3PL: only orders the 3PL can fulfil; every order held back says why.

``prepare_orders`` finds the ready pickings of the partner's warehouses not yet released to it, checks each
(products already at the 3PL, quantities whole in the 3PL's unit, complete ship-to address, layout rules), and
stages the releasable ones in one file per run (or one per order). Staging commits the release in the ledger
before the upload, so no picking is ever put in two files. ``watch_released`` then reports pickings cancelled or
changed in Odoo after release (a cancellation file when the partner has one, an exception otherwise).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from threepl_bridge import codes
from threepl_bridge.codes import Problem
from threepl_bridge.flows.outbound import stage_file
from threepl_bridge.formats.codec import check_row, encode, format_decimal
from threepl_bridge.ledger.repo import Ledger
from threepl_bridge.odoo.chatter import post_notes
from threepl_bridge.odoo.client import OdooClient
from threepl_bridge.odoo.errors import OdooError
from threepl_bridge.odoo.products import stocked_among
from threepl_bridge.odoo.warehouses import out_picking_types
from threepl_bridge.specs.models import Partner

log = logging.getLogger(__name__)

PICKING_FIELDS = ["name", "state", "partner_id", "sale_id", "carrier_id", "scheduled_date", "date_deadline", "origin", "picking_type_id"]
MOVE_FIELDS = ["picking_id", "product_id", "product_uom_qty", "product_uom", "state", "sale_line_id"]
ADDRESS_FIELDS = ["name", "street", "street2", "city", "zip", "state_id", "country_code", "phone", "email"]
ORDER_CODES = (codes.ORDER_PRODUCT_NOT_AT_3PL, codes.ORDER_PRODUCT_NOT_STOCKED, codes.ORDER_MISSING_SKU, codes.ORDER_UOM_NOT_MAPPED,
               codes.ORDER_UOM_MISMATCH, codes.ORDER_ADDRESS_INCOMPLETE, codes.ORDER_ENCODING, codes.ORDER_FIELD_INVALID)
REQUIRED_ADDRESS = (("name", "name"), ("street", "street"), ("city", "city"), ("zip", "zip"), ("country_code", "country code"))


@dataclass
class OrdersPrepared:
    exchange_ids: list[int]
    candidates: int
    released: int
    held: int
    problems: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def picking_ref(name: str) -> str:
    return name


def lines_hash(moves: list[dict[str, Any]]) -> str:
    key = sorted((m["product_id"][0], float(m["product_uom_qty"]), m["product_uom"][0]) for m in moves if m["state"] != "cancel")
    return hashlib.sha256(json.dumps(key).encode()).hexdigest()


def _m2o_ids(records: list[dict[str, Any]], fname: str) -> list[int]:
    return sorted({r[fname][0] for r in records if r.get(fname)})


def _requested_date(picking: dict[str, Any], partner: Partner) -> str | None:
    stamp = picking.get("date_deadline") or picking.get("scheduled_date")
    if not stamp:
        return None
    utc = datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc)
    return utc.astimezone(partner.spec.tz).date().isoformat()


def prepare_orders(*, partner: Partner, client: OdooClient, ledger: Ledger, now: datetime, run_id: str | None = None) -> OrdersPrepared:
    doc = partner.document("orders")
    if doc is None:
        raise LookupError(f"partner {partner.code} has no orders document")
    layout = partner.layout_for("orders")
    states = ["assigned", "confirmed"] if partner.spec.policy.release_confirmed else ["assigned"]
    types = out_picking_types(client, partner)
    pickings = list(client.search_read_all("stock.picking", [["picking_type_id", "in", types], ["state", "in", states]], PICKING_FIELDS))
    released = ledger.released_pickings(partner.code, [p["id"] for p in pickings])
    pickings = [p for p in pickings if p["id"] not in released]
    if not pickings:
        return OrdersPrepared(exchange_ids=[], candidates=0, released=0, held=0)
    moves = client.search_read_in("stock.move", "picking_id", [p["id"] for p in pickings], MOVE_FIELDS, domain=[["state", "!=", "cancel"]])
    products = client.read_by_id("product.product", _m2o_ids(moves, "product_id"), ["default_code", "barcode", "name"])
    addresses = client.read_by_id("res.partner", _m2o_ids(pickings, "partner_id"), ADDRESS_FIELDS)
    orders = client.read_by_id("sale.order", _m2o_ids(pickings, "sale_id"), ["name", "client_order_ref", "partner_id"])
    numbers = _customer_numbers(client, pickings, orders) if layout.field("customer_number") else {}
    stocked = stocked_among(client, partner, _m2o_ids(moves, "product_id"))
    units = order_units(client, partner, moves)
    carriers = client.read_by_id("delivery.carrier", _m2o_ids(pickings, "carrier_id"), ["name"])
    at_3pl = set(ledger.product_versions(partner.code, sent_only=True))
    moves_of: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for m in sorted(moves, key=lambda m: m["id"]):
        moves_of[m["picking_id"][0]].append(m)

    ready: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
    problems_seen: Counter = Counter()
    held = 0
    for picking in sorted(pickings, key=lambda p: p["name"]):
        rows, problems = _order_rows(partner, picking, moves_of[picking["id"]], products, addresses, orders, carriers, at_3pl,
                                     stocked, numbers, units)
        uom_reported = any(p.code in (codes.ORDER_UOM_NOT_MAPPED, codes.ORDER_UOM_MISMATCH) for p in problems)
        for row in rows:
            for p in check_row(layout, row):
                if p.code == codes.FIELD_REQUIRED and p.field.startswith("ship_"):
                    continue  # reported once as ORDER_ADDRESS_INCOMPLETE
                if p.code == codes.FIELD_REQUIRED and p.field == "sku":
                    continue  # reported as ORDER_MISSING_SKU
                if uom_reported and p.field in ("quantity", "uom"):
                    continue  # reported as ORDER_UOM_*
                code = codes.ORDER_ENCODING if p.code == codes.ENCODING_UNSUPPORTED else codes.ORDER_FIELD_INVALID
                problems.append(code(field=p.field, where=f"{picking['name']} line {row['line_no']}", detail=p.message))
        ref = picking_ref(picking["name"])
        if problems:
            held += 1
            for problem in dict.fromkeys(problems):
                problems_seen[problem.code] += 1
                ledger.raise_exception(partner=partner.code, code=problem.code, object_type="picking", object_ref=ref, message=problem.message)
            ledger.resolve_exceptions(partner=partner.code, object_type="picking", object_ref=ref, codes=list(ORDER_CODES), keep=[p.code for p in problems],
                                      reason="the order no longer has this problem")
            continue
        ledger.resolve_exceptions(partner=partner.code, object_type="picking", object_ref=ref, codes=list(ORDER_CODES),
                                  reason="the order passed every check and is released")
        ready.append((picking, rows))

    exchange_ids = []
    groups = [ready] if doc.split == "run" else [[item] for item in ready]
    for seq, group in enumerate(g for g in groups if g):
        data = encode(layout, [row for _, rows in group for row in rows])
        exchange_ids.append(stage_file(
            ledger, partner=partner.code, kind="orders", folder=doc.folder, template=doc.name_template or "", when=now,
            data=data, run_id=run_id, first_seq=seq + 1, name_tz=doc.name_timezone,
            pickings=[{"picking_id": p["id"], "picking_name": p["name"], "content_hash": lines_hash(moves_of[p["id"]])} for p, _ in group],
        ))
    log.info("%s orders: %d candidates, %d released in %d file(s), %d held", partner.code, len(pickings), len(ready), len(exchange_ids), held)
    return OrdersPrepared(exchange_ids=exchange_ids, candidates=len(pickings), released=len(ready), held=held, problems=dict(problems_seen))


def _order_rows(
    partner: Partner, picking: dict[str, Any], moves: list[dict[str, Any]], products: dict[int, dict[str, Any]],
    addresses: dict[int, dict[str, Any]], orders: dict[int, dict[str, Any]], carriers: dict[int, dict[str, Any]], at_3pl: set[int],
    stocked: set[int] | None = None, numbers: dict[int, str] | None = None, units: dict[int, tuple[str, Decimal]] | None = None,
) -> tuple[list[dict[str, Any]], list[Problem]]:
    name = picking["name"]
    problems: list[Problem] = []
    address = addresses.get(picking["partner_id"][0], {}) if picking.get("partner_id") else {}
    missing = [label for key, label in REQUIRED_ADDRESS if not address.get(key)]
    if missing:
        problems.append(codes.ORDER_ADDRESS_INCOMPLETE(field="ship_name", picking=name, missing=", ".join(missing)))
    order = orders.get(picking["sale_id"][0], {}) if picking.get("sale_id") else {}
    carrier = carriers.get(picking["carrier_id"][0], {}) if picking.get("carrier_id") else {}
    if not moves:
        problems.append(codes.ORDER_FIELD_INVALID(where=name, detail="no open lines"))
    rows = []
    for line_no, move in enumerate(moves, start=1):
        product = products[move["product_id"][0]]
        sku = product.get("default_code")
        where = f"{name} line {line_no} ({sku or product['name']})"
        if not sku:
            problems.append(codes.ORDER_MISSING_SKU(field="sku", where=where))
        elif stocked is not None and product["id"] not in stocked:
            problems.append(codes.ORDER_PRODUCT_NOT_STOCKED(field="sku", value=sku, where=where, partner=partner.code, sku=sku, source=partner.source))
        elif product["id"] not in at_3pl:
            problems.append(codes.ORDER_PRODUCT_NOT_AT_3PL(field="sku", value=sku, where=where, sku=sku))
        uom_name, qty = (units or {}).get(move["id"]) or (move["product_uom"][1], Decimal(str(move["product_uom_qty"])))
        uom = partner.spec.uom_by_odoo(uom_name)
        if uom is None:
            problems.append(codes.ORDER_UOM_NOT_MAPPED(field="uom", value=uom_name, where=where, uom=uom_name, source=partner.source))
        elif qty != qty.to_integral_value():
            problems.append(codes.ORDER_UOM_MISMATCH(field="quantity", value=qty, where=where, qty=format_decimal(qty), uom=uom_name, unit=uom.code))
        rows.append({
            "order_ref": name, "line_no": line_no, "sku": sku or None, "barcode": product.get("barcode") or None,
            "quantity": qty if uom is None or qty != qty.to_integral_value() else int(qty), "uom": uom.code if uom else None,
            "sale_order": order.get("name") or picking.get("origin") or None, "customer_ref": order.get("client_order_ref") or None,
            "customer_number": (numbers or {}).get(picking["id"]),
            "ship_name": address.get("name") or None, "ship_street": address.get("street") or None,
            "ship_street2": address.get("street2") or None, "ship_city": address.get("city") or None,
            "ship_zip": address.get("zip") or None, "ship_state": (address.get("state_id") or [None, None])[1],
            "ship_country": address.get("country_code") or None, "ship_phone": address.get("phone") or None,
            "ship_email": address.get("email") or None, "carrier": carrier.get("name") or None, "carrier_service": None,
            "requested_date": _requested_date(picking, partner),
        })
    return rows, problems


def order_units(client: OdooClient, partner: Partner, moves: list[dict[str, Any]]) -> dict[int, tuple[str, Decimal]]:
    """move id -> (unit name, quantity) in which the line goes to the 3PL: the unit it was sold in.

    A default Odoo 17 (system parameter ``stock.propagate_uom`` not '1') moves 2 cases sold as 24 Units; the 3PL is
    sent 2 CS12 when the partner has a code for the sale line's unit (1.5 cases stay 1.5 and are held), else the
    move's own unit and quantity."""
    line_ids = sorted({m["sale_line_id"][0] for m in moves if m.get("sale_line_id")})
    if not line_ids:
        return {}
    dialect = client.dialect
    unit = dialect.order_line_uom
    lines = client.read_by_id("sale.order.line", line_ids, [unit])
    differs = [m for m in moves if m.get("sale_line_id") and (lines.get(m["sale_line_id"][0]) or {}).get(unit)
               and lines[m["sale_line_id"][0]][unit][0] != m["product_uom"][0]]
    if not differs:
        return {}
    uom_ids = sorted({m["product_uom"][0] for m in differs} | {lines[m["sale_line_id"][0]][unit][0] for m in differs})
    ratios = {u["id"]: Decimal(str(dialect.unit_ratio(u))) for u in client.read_by_id("uom.uom", uom_ids, dialect.unit_fields).values()}
    out: dict[int, tuple[str, Decimal]] = {}
    for m in differs:
        sold = lines[m["sale_line_id"][0]][unit]
        if partner.spec.uom_by_odoo(sold[1]) is None:
            continue  # no code for the sale unit: the move's unit is sent (or reported as not mapped)
        # ratio = reference units in one unit: qty_in_sold = qty_in_move * ratio(move) / ratio(sold)
        qty = Decimal(str(m["product_uom_qty"])) * ratios[m["product_uom"][0]] / ratios[sold[0]]
        qty = qty.quantize(Decimal("0.0001"))
        out[m["id"]] = (sold[1], qty.to_integral_value() if qty == qty.to_integral_value() else qty.normalize())
    return out


def _customer_numbers(client: OdooClient, pickings: list[dict[str, Any]], orders: dict[int, dict[str, Any]]) -> dict[int, str]:
    """picking id -> the customer's number in Odoo: the ``ref`` of the ordering customer (the sale order's partner,
    else the picking's), or of its company when the contact has none."""
    customer_of = {}
    for p in pickings:
        order = orders.get(p["sale_id"][0], {}) if p.get("sale_id") else {}
        partner = order.get("partner_id") or p.get("partner_id")
        if partner:
            customer_of[p["id"]] = partner[0]
    customers = client.read_by_id("res.partner", sorted(set(customer_of.values())), ["ref", "commercial_partner_id"])
    company_of = {pid: c["commercial_partner_id"][0] for pid, c in customers.items() if not c.get("ref") and c.get("commercial_partner_id")}
    refs = {pid: c.get("ref") for pid, c in customers.items()}
    refs.update({pid: c.get("ref") for pid, c in client.read_by_id("res.partner", sorted(set(company_of.values()) - set(refs)), ["ref"]).items()})
    numbers = {picking_id: refs.get(customer) or refs.get(company_of.get(customer, 0)) for picking_id, customer in customer_of.items()}
    return {picking_id: number for picking_id, number in numbers.items() if number}


def note_released(*, partner: Partner, client: OdooClient, ledger: Ledger, exchange_id: int) -> int:
    """A chatter note on every picking of a sent file, once, in one lookup and one create per ``create_batch``
    pickings (never a call per picking): a note already in Odoo (a lost reply) is only marked; a transient failure
    raises for the task's retry (the lookup finds what was written); a refusal is logged and the notes skipped."""
    exchange = ledger.exchange(exchange_id)
    unnoted = [p for p in ledger.released_pickings_of(exchange_id) if p.noted_at is None]
    if not unnoted:
        return 0
    body = (f"Released to 3PL {partner.spec.name} ({partner.code}) in file {exchange.remote_name} "
            f"at {exchange.updated_at:%Y-%m-%d %H:%M} UTC.")
    try:
        posted = post_notes(client, "stock.picking", {p.picking_id: body for p in unnoted})
    except OdooError as exc:
        if exc.retryable:
            raise
        log.warning("chatter notes on %d pickings of %s skipped: %s", len(unnoted), exchange.remote_name, exc)
        return 0
    ledger.mark_noted_many(partner.code, [p.picking_id for p in unnoted])
    return len(posted)


def watch_released(*, partner: Partner, client: OdooClient, ledger: Ledger, now: datetime, run_id: str | None = None) -> dict[str, int]:
    """Released pickings cancelled or changed in Odoo: a cancellation file when the partner has one, else an
    exception; done pickings stop being watched."""
    watched = ledger.released_pickings(partner.code, states=["released"])
    if not watched:
        return {"watched": 0, "cancelled": 0, "changed": 0}
    current = client.read_by_id("stock.picking", list(watched), ["name", "state"])
    moves = client.search_read_in("stock.move", "picking_id", list(watched), MOVE_FIELDS)
    moves_of: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for m in moves:
        moves_of[m["picking_id"][0]].append(m)
    cancelled, changed = [], 0
    for pid, released in sorted(watched.items()):
        picking = current.get(pid)
        state = picking["state"] if picking else "cancel"
        if state == "done":
            ledger.set_released_state(partner.code, pid, "done")
        elif state == "cancel":
            cancelled.append(released)
        elif not released.content_hash:  # released by an older version without a hash: today's lines are the baseline
            ledger.set_released_hash(partner.code, pid, lines_hash(moves_of[pid]))
        elif lines_hash(moves_of[pid]) != released.content_hash:
            changed += 1
            problem = codes.ORDER_CHANGED_AFTER_RELEASE(picking=released.picking_name, exchange=released.exchange_id)
            ledger.raise_exception(partner=partner.code, code=problem.code, object_type="picking", object_ref=released.picking_name, message=problem.message)
    doc = partner.document("cancellations")
    if cancelled and doc is not None:
        rows = [{"order_ref": r.picking_name, "reason": "cancelled in Odoo", "cancelled_at": now.astimezone(partner.spec.tz).replace(tzinfo=None)} for r in cancelled]
        data = encode(partner.layout_for("cancellations"), rows)
        stage_file(ledger, partner=partner.code, kind="cancellations", folder=doc.folder, template=doc.name_template or "",
                   when=now, data=data, run_id=run_id, name_tz=doc.name_timezone, picking_states={r.picking_id: "cancel_sent" for r in cancelled})
    else:
        for r in cancelled:
            problem = codes.ORDER_CANCELLED_AFTER_RELEASE(picking=r.picking_name, exchange=r.exchange_id)
            ledger.raise_exception(partner=partner.code, code=problem.code, object_type="picking", object_ref=r.picking_name, message=problem.message)
            ledger.set_released_state(partner.code, r.picking_id, "cancelled")
    return {"watched": len(watched), "cancelled": len(cancelled), "changed": changed}
