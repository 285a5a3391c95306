"""3PL receipt confirmations -> validated Odoo receipts (contract F8), dated on the moment the goods arrived.

A receipt line names the incoming picking the ASN announced (``asn_ref``: its name), the SKU or barcode, the
quantity in the 3PL's unit, the lot or serial (created when new), its condition (good, damaged) and the receipt
moment. Rules, one code each, the first failing one decides the row: the picking exists (``RECEIPT_UNKNOWN_ASN``),
is a receipt of the partner's warehouses (``RECEIPT_NOT_OURS``), not cancelled, not done with nothing open (a
receipt of the rest goes into the open backorder); the SKU is expected on it; the unit converts; a tracked product
has its lot (serials: one unit each, once in the file); damaged goods have a location; the period is open. After
all rows: a move received beyond the partner's tolerance (``policy.over_receipt_pct``) is ``RECEIPT_OVER_TOLERANCE``
(Odoo would accept any surplus silently). A receipt with a failing row is held whole unless ``post_valid_part``.

Short receipts follow the backorder policy (create: the rest stays expected in a backorder; cancel: closed),
like dispatches. Damaged quantities go to ``policy.damaged_location`` (valued like the good ones: the company
owns them, the supplier claim is purchasing's). Posting: :mod:`threepl_bridge.flows.goods_in`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from threepl_bridge import codes
from threepl_bridge.codes import Problem
from threepl_bridge.flows import dispatch_checks
from threepl_bridge.flows.dispatch_checks import match_move, to_move_unit, validated_before
from threepl_bridge.flows.exchange import FileResult, Inbound, InboundKind, Processed, process_exchange
from threepl_bridge.flows.goods_in import Arrival, GoodsIn, Put, base_qty, duplicate_rows, hold_whole, line_fingerprint, location_named, row_json, row_outcomes
from threepl_bridge.flows.shipments import EPS
from threepl_bridge.formats.codec import format_decimal
from threepl_bridge.formats.reader import ParsedRow
from threepl_bridge.odoo.stock_queries import StockQueries
from threepl_bridge.specs.models import Partner

KIND = "receipts"
LEASE_WAIT = 300.0
POSTING = GoodsIn(KIND, codes.RECEIPT_POST_FAILED, "Received")
MOVE_EXTRA = ("location_id", "location_dest_id")
KEEP = ("asn_ref", "sku", "barcode", "lot", "quantity", "uom", "received_at", "condition", "expiry")


def fingerprint(partner: Partner, row: ParsedRow) -> str:
    return line_fingerprint(partner, KIND, row, ("asn_ref", "line_no", "sku", "lot", "condition", "quantity", "uom", "received_at"))


def row_data(row: ParsedRow) -> str:
    return row_json(row, KEEP)


@dataclass
class Line(dispatch_checks.Line):
    """One row under check (as a dispatch row), with the move line it gets."""

    put: Put | None = None


@dataclass
class Context:
    partner: Partner
    odoo: StockQueries
    pickings: dict[str, dict[str, Any]]
    target_of: dict[str, dict[str, Any]]
    in_types: set[int]
    moves_of: dict[int, list[dict[str, Any]]]
    products: dict[int, dict[str, Any]]
    lots: dict[tuple[int, str], int]
    lock_dates: dict[int, str | None]
    damaged: int | None
    in_flight: set[int]
    serials: dict[tuple[int, str], int] = field(default_factory=dict)


def _check(line: Line, ctx: Context) -> Problem | None:
    ref = line.v["asn_ref"]
    picking = line.picking = ctx.target_of.get(ref)
    if picking is None:
        return line.problem(codes.RECEIPT_UNKNOWN_ASN, "asn_ref", ref)
    if picking["picking_type_id"][0] not in ctx.in_types:
        return line.problem(codes.RECEIPT_NOT_OURS, "asn_ref", ref, partner=ctx.partner.code, kind=picking["picking_type_id"][1])
    if picking["state"] == "cancel":
        return line.problem(codes.RECEIPT_PICKING_CANCELLED, "asn_ref", ref)
    if picking["state"] == "done":
        return line.problem(codes.RECEIPT_CONFLICT, "asn_ref", ref)
    moves = ctx.moves_of.get(picking["id"], [])
    line.move = match_move(line.v, moves, ctx.products)
    if line.move is None:
        return line.problem(codes.RECEIPT_SKU_NOT_ON_ASN, "sku", line.v.get("sku") or line.v.get("barcode"), picking=picking["name"])
    product = line.product = ctx.products[line.move["product_id"][0]]
    line.qty = to_move_unit(ctx.partner, line.v, line.move, lambda: ctx.odoo.units, KIND)
    if line.qty is None:
        return line.problem(codes.RECEIPT_UOM_NOT_CONVERTIBLE, "uom", line.v.get("uom") or "?", qty=line.v["quantity"],
                            move_uom=line.move["product_uom"][1], sku=product["default_code"])
    base = base_qty(line.qty, line.move, product, lambda: ctx.odoo.units)
    lot = line.v.get("lot")
    tracking = product.get("tracking")
    if tracking in ("lot", "serial") and not lot:
        return line.problem(codes.RECEIPT_LOT_MISSING, "lot", None, sku=product["default_code"], tracking=tracking)
    if tracking == "serial":
        if base != 1:
            return line.problem(codes.RECEIPT_SERIAL_QTY, "quantity", line.v["quantity"], sku=product["default_code"], lot=lot, units=f"{base.normalize():f}")
        first = ctx.serials.setdefault((product["id"], lot), line.row.number)
        if first != line.row.number:
            return line.problem(codes.RECEIPT_SERIAL_DUPLICATE, "lot", lot, sku=product["default_code"], first=first)
    dest = line.move["location_dest_id"][0]
    if line.v.get("condition") == "damaged":
        if ctx.damaged is None:
            name = ctx.partner.spec.policy.damaged_location
            why = (f"damaged goods go to policy.damaged_location, and Odoo has no location named {name!r}" if name else
                   f"damaged goods need a location: set policy.damaged_location in {ctx.partner.source}")
            return line.problem(codes.RECEIPT_LOCATION_MISSING, "condition", "damaged", why=why)
        dest = ctx.damaged
    lot_id = ctx.lots.get((product["id"], lot)) if lot and tracking in ("lot", "serial") else None
    line.put = Put(qty=base, uom_id=product["uom_id"][0], dest=dest, lot_id=lot_id,
                   lot_name=lot if lot and tracking in ("lot", "serial") and lot_id is None else None)
    day = line.v["received_at"].astimezone(ctx.partner.spec.company_tz).date()
    lock = ctx.lock_dates.get(picking["company_id"][0]) if picking.get("company_id") else None
    if lock and day.isoformat() <= lock:
        return line.problem(codes.RECEIPT_LOCKED_PERIOD, "received_at", line.v["received_at"], day=day, lock=lock)
    return None


def _prefetch(partner: Partner, odoo: StockQueries, work: Inbound, rows: list[ParsedRow]) -> Context:
    pickings = odoo.pickings_named(r.values["asn_ref"] for r in rows)
    open_backorders = odoo.open_backorders([p["id"] for p in pickings.values() if p["state"] == "done"])
    settled = validated_before(partner, odoo, work.ledger, pickings, work.exchange.id, POSTING.prefix)
    target_of = {ref: settled.get(ref) or open_backorders.get(p["id"], p) for ref, p in pickings.items()}
    moves_of = odoo.moves_of((p["id"] for p in target_of.values()), MOVE_EXTRA)
    products = odoo.products({m["product_id"][0] for ms in moves_of.values() for m in ms}, ["default_code", "barcode", "tracking", "uom_id"])
    tracked = [pid for pid, p in products.items() if p.get("tracking") in ("lot", "serial")]
    damaged = any(r.values.get("condition") == "damaged" for r in rows)
    return Context(partner=partner, odoo=odoo, pickings=pickings, target_of=target_of, in_types=odoo.in_picking_types, moves_of=moves_of,
                   products=products, lots=odoo.lots((r.values["lot"] for r in rows if r.values.get("lot")), tracked),
                   lock_dates=odoo.lock_dates(p["company_id"][0] for p in target_of.values() if p.get("company_id")),
                   damaged=location_named(odoo, partner.spec.policy.damaged_location) if damaged else None,
                   in_flight={p["id"] for p in settled.values()})


def check_rows(work: Inbound, odoo: StockQueries) -> tuple[dict[int, str], dict[int, Arrival]]:
    """Duplicates (row -> why) and the arrivals to post by picking id; problems go on ``work``."""
    partner, rows = work.partner, work.valid_rows()
    duplicates = duplicate_rows(work, rows, fingerprint)
    fresh = [r for r in rows if r.number not in duplicates]
    if not fresh:
        return duplicates, {}
    ctx = _prefetch(partner, odoo, work, fresh)
    arrivals: dict[int, Arrival] = {}
    accepted: list[Line] = []
    for r in fresh:
        line = Line(row=r)
        target = ctx.target_of.get(r.values["asn_ref"])
        if target is not None and target["id"] in ctx.in_flight:  # validated by an earlier attempt on this file
            arrival = arrivals.setdefault(target["id"], Arrival(picking=target, rows=[]))
            arrival.rows.append(r)
            arrival.add_moment(partner, r.values["received_at"])
            continue
        problem = _check(line, ctx)
        if problem is not None:
            work.problems.append(problem)
        else:
            accepted.append(line)
    over = _over_received(accepted, partner)
    work.problems += over
    over_rows = {p.row for p in over}
    for line in accepted:
        if line.row.number in over_rows:
            continue
        assert line.picking is not None and line.move is not None and line.qty is not None and line.put is not None
        a = arrivals.setdefault(line.picking["id"], Arrival(picking=line.picking, rows=[]))
        a.rows.append(line.row)
        a.move_qty[line.move["id"]] = a.move_qty.get(line.move["id"], Decimal(0)) + line.qty
        a.puts.setdefault(line.move["id"], []).append(line.put)
        a.add_moment(partner, line.v["received_at"])
    for a in arrivals.values():
        if a.picking["id"] not in ctx.in_flight:
            a.moves = {m["id"]: m for m in ctx.moves_of.get(a.picking["id"], [])}
    return duplicates, arrivals


def _over_received(accepted: list[Line], partner: Partner) -> list[Problem]:
    pct = partner.spec.policy.over_receipt_pct
    received: dict[int, Decimal] = defaultdict(Decimal)
    for line in accepted:
        assert line.move is not None and line.qty is not None
        received[line.move["id"]] += line.qty
    out = []
    for line in accepted:
        assert line.move is not None
        expected = Decimal(str(line.move["product_uom_qty"]))
        limit = expected * (1 + pct / 100)
        if received[line.move["id"]] > limit + EPS:
            out.append(line.problem(codes.RECEIPT_OVER_TOLERANCE, "quantity", line.v["quantity"], received=format_decimal(received[line.move["id"]]),
                                    product=line.move["product_id"][1], picking=line.picking["name"] if line.picking else "?",
                                    open=format_decimal(expected), pct=format_decimal(pct), limit=format_decimal(limit)))
    return out


def process(work: Inbound) -> Processed:
    partner, ledger, exchange = work.partner, work.ledger, work.exchange
    odoo = StockQueries(work.client, partner)
    refs = sorted({str(r.values["asn_ref"]) for r in work.valid_rows() if r.values.get("asn_ref")})
    work.held.enter_context(ledger.leases([f"picking:{partner.code}:{ref}" for ref in refs], wait=LEASE_WAIT))
    duplicates, arrivals = check_rows(work, odoo)
    keep = hold_whole(partner, arrivals, work.problems, work.rows, lambda r: r.values.get("asn_ref"), codes.RECEIPT_ASN_HELD)
    posted_rows, issues, names = POSTING.post(partner, work.client, ledger, keep, exchange.id, exchange.remote_name)
    work.problems += issues
    outcomes = row_outcomes(work, duplicates, posted_rows, fingerprint, row_data)
    return Processed(outcomes=outcomes, result={"pickings_posted": names})


RECEIPTS = InboundKind(
    name=KIND, unreadable=codes.RECEIPT_FILE_UNREADABLE, value_unreadable=codes.RECEIPT_FIELD_INVALID, process=process,
    row_data=row_data, settled=lambda work: {"pickings_posted": []}, replay_processed=True,
)


def process_receipt_file(*, partner: Partner, client: Any, ledger: Any, transport: Any, exchange_id: int, now: Any, run_id: str | None = None
                         ) -> FileResult:
    return process_exchange(RECEIPTS, partner, exchange_id, transport=transport, ledger=ledger, client=client, now=now, run_id=run_id)
