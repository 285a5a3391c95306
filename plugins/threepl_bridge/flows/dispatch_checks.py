"""Business checks of dispatch rows against Odoo and the ledger: small rules, one code each, in a declared order.

Everything a rule needs is fetched once per file into a :class:`Context` (pickings, backorders, moves, products,
lots, lock dates, what was released; units only when a row's unit is not its move's); a rule only looks at one row
and the context. The first rule that
finds a problem decides the row's exception; a row that passes every rule is accepted with its picking, move,
quantity in the move's unit and lot. Over-shipment is checked after all rows (it sums the rows of one move), and
an order with any failing row is held whole unless the partner's policy posts the valid part.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from threepl_bridge import codes
from threepl_bridge.codes import Problem
from threepl_bridge.flows.shipments import EPS, POSTING_PREFIX, Shipment, fingerprint
from threepl_bridge.formats.codec import format_decimal
from threepl_bridge.formats.reader import ParsedRow
from threepl_bridge.flows import suggestions
from threepl_bridge.ledger.repo import Ledger
from threepl_bridge.ledger.states import ReleaseState
from threepl_bridge.odoo.stock_queries import PICKING_FIELDS, StockQueries, Unit
from threepl_bridge.specs.models import Partner

KIND = "dispatches"


@dataclass
class Line:
    """One row under check; the rules fill in what they resolve."""

    row: ParsedRow
    picking: dict[str, Any] | None = None
    move: dict[str, Any] | None = None
    product: dict[str, Any] | None = None
    qty: Decimal | None = None
    lot: tuple[int, Decimal, int] | None = None

    @property
    def v(self) -> dict[str, Any]:
        return self.row.values

    def problem(self, code: codes.Code, field_name: str, value: Any, **params: Any) -> Problem:
        return code(row=self.row.number, field=field_name, value=value, **params)


@dataclass
class Context:
    """What the rules know about Odoo and the ledger, fetched once per file."""

    partner: Partner
    pickings: dict[str, dict[str, Any]]  # by name, as the 3PL references them
    target_of: dict[str, dict[str, Any]]  # reference -> the picking to post (the open backorder of a done one)
    released: set[int]  # released to this partner: only its warehouses' delivery pickings ever are (orders flow)
    moves_of: dict[int, list[dict[str, Any]]]
    products: dict[int, dict[str, Any]]
    lots: dict[tuple[int, str], int]
    lock_dates: dict[int, str | None]  # by company
    in_flight: set[int]  # pickings an earlier attempt on this file validated: the posting record settles them
    odoo: StockQueries
    open_refs: list[str] = dataclasses.field(default_factory=list)  # pickings released to this 3PL, not dispatched yet
    serials: dict[tuple[int, str], int] = dataclasses.field(default_factory=dict)  # (product, serial) -> its first row

    @property
    def units(self) -> dict[int, Unit]:
        """Odoo's units, read on first use: a file whose rows are all in their moves' units never asks."""
        return self.odoo.units


Rule = Callable[[Line, Context], Problem | None]


def unknown_order(line: Line, ctx: Context) -> Problem | None:
    line.picking = ctx.target_of.get(line.v["order_ref"])
    if line.picking:
        return None
    return suggestions.order_ref(line.problem(codes.DISPATCH_UNKNOWN_ORDER, "order_ref", line.v["order_ref"]), str(line.v["order_ref"]), ctx.open_refs)


def not_released(line: Line, ctx: Context) -> Problem | None:
    ref = line.v["order_ref"]
    assert line.picking is not None
    if ctx.pickings[ref]["id"] in ctx.released:
        return None
    return suggestions.other_operation(line.problem(codes.DISPATCH_NOT_RELEASED, "order_ref", ref, partner=ctx.partner.code), ctx.pickings[ref],
                                       ctx.partner.code)


def cancelled(line: Line, ctx: Context) -> Problem | None:
    assert line.picking is not None
    return line.problem(codes.DISPATCH_PICKING_CANCELLED, "order_ref", line.v["order_ref"]) if line.picking["state"] == "cancel" else None


def already_done(line: Line, ctx: Context) -> Problem | None:
    assert line.picking is not None
    return line.problem(codes.DISPATCH_CONFLICT, "order_ref", line.v["order_ref"]) if line.picking["state"] == "done" else None


def on_picking(line: Line, ctx: Context) -> Problem | None:
    assert line.picking is not None
    line.move = match_move(line.v, ctx.moves_of.get(line.picking["id"], []), ctx.products)
    if line.move is None:
        problem = line.problem(codes.DISPATCH_SKU_NOT_ON_PICKING, "sku", line.v.get("sku") or line.v.get("barcode"), picking=line.picking["name"])
        return suggestions.product_on_picking(problem, line.v, [ctx.products[m["product_id"][0]] for m in ctx.moves_of.get(line.picking["id"], [])])
    line.product = ctx.products[line.move["product_id"][0]]
    return None


def convertible(line: Line, ctx: Context) -> Problem | None:
    assert line.move is not None and line.product is not None
    line.qty = to_move_unit(ctx.partner, line.v, line.move, lambda: ctx.units)
    if line.qty is not None:
        return None
    return line.problem(codes.DISPATCH_UOM_NOT_CONVERTIBLE, "uom", line.v.get("uom") or "?", qty=line.v["quantity"],
                        move_uom=line.move["product_uom"][1], sku=line.product["default_code"])


def lot_known(line: Line, ctx: Context) -> Problem | None:
    product, move = line.product, line.move
    assert product is not None and move is not None and line.qty is not None
    if product.get("tracking") not in ("lot", "serial"):
        return None
    if not line.v.get("lot"):
        return line.problem(codes.DISPATCH_LOT_MISSING, "lot", None, sku=product["default_code"])
    lot_id = ctx.lots.get((product["id"], line.v["lot"]))
    if lot_id is None:
        return line.problem(codes.DISPATCH_LOT_UNKNOWN, "lot", line.v["lot"], sku=product["default_code"])
    if move["product_uom"][0] == product["uom_id"][0]:
        base = line.qty
    else:
        base = line.qty * Decimal(str(ctx.units[move["product_uom"][0]].ratio)) / Decimal(str(ctx.units[product["uom_id"][0]].ratio))
    if product.get("tracking") == "serial":  # one unit per serial, each serial once in the file
        if base != 1:
            return line.problem(codes.DISPATCH_SERIAL_QTY, "quantity", line.v.get("quantity"), sku=product["default_code"], lot=line.v["lot"],
                                units=f"{base.normalize():f}")
        first = ctx.serials.setdefault((product["id"], line.v["lot"]), line.row.number)
        if first != line.row.number:
            return line.problem(codes.DISPATCH_SERIAL_DUPLICATE, "lot", line.v["lot"], sku=product["default_code"], first=first)
    line.lot = (lot_id, base, product["uom_id"][0])
    return None


def tracking_given(line: Line, ctx: Context) -> Problem | None:
    assert line.picking is not None
    carrier = line.v.get("carrier") or (line.picking["carrier_id"][1] if line.picking.get("carrier_id") else None)
    if carrier in ctx.partner.spec.policy.carriers_requiring_tracking and not line.v.get("tracking_ref"):
        return line.problem(codes.DISPATCH_TRACKING_MISSING, "tracking_ref", None, carrier=carrier)
    return None


def open_period(line: Line, ctx: Context) -> Problem | None:
    assert line.picking is not None
    day = line.v["shipped_at"].astimezone(ctx.partner.spec.company_tz).date()
    lock = ctx.lock_dates.get(line.picking["company_id"][0]) if line.picking.get("company_id") else None
    if lock and day.isoformat() <= lock:
        return line.problem(codes.DISPATCH_LOCKED_PERIOD, "shipped_at", line.v["shipped_at"], day=day, lock=lock)
    return None


RULES: tuple[Rule, ...] = (not_released, cancelled, already_done, on_picking, convertible, lot_known, tracking_given, open_period)


# ------------------------------------------------------------------------------------------------ checking


def prefetch(partner: Partner, odoo: StockQueries, ledger: Ledger, rows: list[ParsedRow], exchange_id: int) -> Context:
    pickings = odoo.pickings_named(r.values["order_ref"] for r in rows)
    released = set(ledger.released_pickings(partner.code, [p["id"] for p in pickings.values()]))
    # a 3PL ships the rest of an order under the same reference: follow the backorder chain to the open picking
    open_backorders = odoo.open_backorders([p["id"] for p in pickings.values() if p["state"] == "done"])
    settled = validated_before(partner, odoo, ledger, pickings, exchange_id)
    target_of: dict[str, dict[str, Any]] = {}
    in_flight: set[int] = set()
    for ref, picking in pickings.items():
        if ref in settled:
            in_flight.add(settled[ref]["id"])
            target_of[ref] = settled[ref]
        else:
            target_of[ref] = open_backorders.get(picking["id"], picking)
    moves_of = odoo.moves_of(p["id"] for p in target_of.values())
    products = odoo.products({m["product_id"][0] for ms in moves_of.values() for m in ms}, ["default_code", "barcode", "tracking", "uom_id"])
    tracked = [pid for pid, p in products.items() if p.get("tracking") in ("lot", "serial")]
    return Context(partner=partner, pickings=pickings, target_of=target_of, released=released, moves_of=moves_of, products=products,
                   lots=odoo.lots((r.values["lot"] for r in rows if r.values.get("lot")), tracked),
                   lock_dates=odoo.lock_dates(p["company_id"][0] for p in target_of.values() if p.get("company_id")),
                   in_flight=in_flight, odoo=odoo,
                   open_refs=sorted(r.picking_name for r in ledger.released_pickings(partner.code, states=[ReleaseState.RELEASED]).values())
                   if set(r.values["order_ref"] for r in rows) - set(pickings) else [])


def validated_before(partner: Partner, odoo: StockQueries, ledger: Ledger, pickings: dict[str, dict[str, Any]], exchange_id: int,
                     prefix: str = POSTING_PREFIX) -> dict[str, dict[str, Any]]:
    """reference -> the picking an earlier attempt on this file validated: its posting is done, or in intent and
    Odoo says done (the reply was lost, or the attempt died before the ledger commit). A posting in intent that Odoo
    did not apply is not here: its picking is checked and posted again in full like a fresh one."""
    started = ledger.exchange_postings(partner.code, exchange_id, prefix=prefix)
    known = {p["id"]: p for p in odoo.client.read("stock.picking", sorted(started), PICKING_FIELDS)} if started else {}
    named = {p["id"]: ref for ref, p in pickings.items()}
    out: dict[str, dict[str, Any]] = {}
    for picking in [p for pid, p in known.items() if started[pid] == "done" or p["state"] == "done"]:
        at: dict[str, Any] | None = picking  # the posted picking may be a backorder of the one the file names
        while at is not None and at["id"] not in named and at.get("backorder_id"):
            parent = at["backorder_id"][0]
            known.update({p["id"]: p for p in ([] if parent in known else odoo.client.read("stock.picking", [parent], PICKING_FIELDS))})
            at = known.get(parent)
        if at is not None and at["id"] in named:
            out[named[at["id"]]] = picking
    return out


def check_rows(partner: Partner, odoo: StockQueries, ledger: Ledger, rows: list[ParsedRow], exchange_id: int
               ) -> tuple[dict[int, str], list[Problem], dict[int, Shipment]]:
    """Duplicates (already posted lines: row -> why), problems, and the shipments to post by picking id."""
    problems: list[Problem] = []
    duplicates: dict[int, str] = {}
    if not rows:
        return duplicates, problems, {}
    posted_before = ledger.posted_fingerprints([fingerprint(partner, r) for r in rows], exclude_exchange=exchange_id)
    fresh = []
    for r in rows:
        previous = posted_before.get(fingerprint(partner, r))
        if previous:
            duplicates[r.number] = f"already posted from {previous}"
        else:
            fresh.append(r)
    if not fresh:
        return duplicates, problems, {}
    ctx = prefetch(partner, odoo, ledger, fresh, exchange_id)
    shipments: dict[int, Shipment] = {}
    accepted: list[Line] = []
    for r in fresh:
        line = Line(row=r)
        problem = unknown_order(line, ctx)
        if problem is None and line.picking is not None and line.picking["id"] in ctx.in_flight:
            shipment = shipments.setdefault(line.picking["id"], Shipment(picking=line.picking, rows=[]))
            shipment.rows.append(r)
            shipment.add_moment(partner, r.values["shipped_at"])
            if r.values.get("tracking_ref") and r.values["tracking_ref"] not in shipment.tracking:
                shipment.tracking.append(r.values["tracking_ref"])
            continue
        for rule in RULES if problem is None else ():
            problem = rule(line, ctx)
            if problem is not None:
                break
        if problem is not None:
            problems.append(problem)
        else:
            accepted.append(line)
    problems += _over_shipped(accepted, ctx)
    over = {p.row for p in problems}
    for line in accepted:
        if line.row.number in over:
            continue
        assert line.picking is not None and line.move is not None and line.qty is not None
        shipment = shipments.setdefault(line.picking["id"], Shipment(picking=line.picking, rows=[]))
        shipment.rows.append(line.row)
        shipment.move_qty[line.move["id"]] = shipment.move_qty.get(line.move["id"], Decimal(0)) + line.qty
        if line.lot is not None:
            shipment.lots.setdefault(line.move["id"], []).append(line.lot)
        if line.v.get("tracking_ref") and line.v["tracking_ref"] not in shipment.tracking:
            shipment.tracking.append(line.v["tracking_ref"])
        shipment.add_moment(partner, line.v["shipped_at"])
    for shipment in shipments.values():
        if shipment.picking["id"] in ctx.in_flight:
            continue  # validated by an earlier attempt: its moves as they are now say nothing of what was shipped
        for m in ctx.moves_of.get(shipment.picking["id"], []):
            shipment.move_qty.setdefault(m["id"], Decimal(0))
            shipment.moves[m["id"]] = m
    return duplicates, problems, shipments


def _over_shipped(accepted: list[Line], ctx: Context) -> list[Problem]:
    """More shipped for a move (all rows of the file together) than is open on it: Odoo would accept it silently."""
    shipped: dict[int, Decimal] = defaultdict(Decimal)
    moves: dict[int, dict[str, Any]] = {}
    for line in accepted:
        assert line.move is not None and line.qty is not None
        shipped[line.move["id"]] += line.qty
        moves[line.move["id"]] = line.move
    over = {mid for mid, total in shipped.items() if total > Decimal(str(moves[mid]["product_uom_qty"])) + EPS}
    return [suggestions.case_or_unit(line.problem(
        codes.DISPATCH_OVER_SHIPMENT, "quantity", line.v["quantity"], shipped=format_decimal(shipped[line.move["id"]]), product=line.move["product_id"][1],
        picking=line.picking["name"], open=format_decimal(Decimal(str(line.move["product_uom_qty"])))),  # type: ignore[index]
        ctx.partner, shipped[line.move["id"]], Decimal(str(line.move["product_uom_qty"])), str(line.move["product_uom"][1]), line.v["quantity"],
        line.v.get("uom"))
        for line in accepted if line.move is not None and line.move["id"] in over]


def hold_orders(partner: Partner, shipments: dict[int, Shipment], problems: list[Problem], rows: list[ParsedRow]) -> list[Shipment]:
    """An order with a failing row is held whole (its valid rows become DISPATCH_ORDER_HELD) unless the
    partner posts the valid part."""
    failing_refs: dict[str, list[int]] = defaultdict(list)
    ref_of = {r.number: r.values.get("order_ref") for r in rows}
    for p in problems:
        if p.row is not None and ref_of.get(p.row):
            failing_refs[ref_of[p.row]].append(p.row)  # type: ignore[index]
    keep = []
    for shipment in shipments.values():
        refs = {r.values["order_ref"] for r in shipment.rows}
        bad = sorted({n for ref in refs for n in failing_refs.get(ref, [])})
        if bad and not partner.spec.policy.post_valid_part:
            problems.extend(codes.DISPATCH_ORDER_HELD(row=r.number, field="order_ref", value=r.values["order_ref"], failed=bad) for r in shipment.rows)
            continue
        keep.append(shipment)
    return keep


def match_move(values: dict[str, Any], moves: list[dict[str, Any]], products: dict[int, dict[str, Any]]) -> dict[str, Any] | None:
    for m in moves:
        if m["state"] in ("done", "cancel"):
            continue
        product = products[m["product_id"][0]]
        if values.get("sku") and product.get("default_code") == values["sku"]:
            return m
        if not values.get("sku") and values.get("barcode") and product.get("barcode") == values["barcode"]:
            return m
    return None


def to_move_unit(partner: Partner, values: dict[str, Any], move: dict[str, Any], units_of: Callable[[], dict[int, Unit]],
                 kind: str = KIND) -> Decimal | None:
    """The row's quantity in the move's unit, or None when the units are not convertible. Odoo's units are asked
    for (``units_of``) only when the row's unit is not the move's own."""
    move_uom_name = move["product_uom"][1]
    code = values.get("uom") or partner.default_uom(kind)
    if not code:
        mapped = partner.spec.uom_by_odoo(move_uom_name)
        code = mapped.code if mapped else None
    mapping = partner.spec.uom_by_code(code) if code else None
    if mapping is None:
        return None
    if mapping.odoo_uom == move_uom_name:
        return Decimal(values["quantity"]).quantize(Decimal("0.0001"))
    units = units_of()
    move_uom = units[move["product_uom"][0]]
    source = next((u for u in units.values() if u.name == mapping.odoo_uom), None)
    if source is None or source.category != move_uom.category:
        return None
    qty = Decimal(values["quantity"]) * Decimal(str(source.ratio)) / Decimal(str(move_uom.ratio))
    return qty.quantize(Decimal("0.0001"))
