"""3PL return receipts -> validated Odoo returns (contract F9), valued back at the delivery's cost, dated on the
return moment, each unit where the 3PL's disposition put it.

A line names an announced return picking (``return_ref``: a return created in Odoo, posted into as it is) or,
without one, the done delivery the goods came back from (``order_ref``): the return is then created through
Odoo's wizard (``stock.return.picking.create`` with the delivery as ``active_id``, its lines set to the returned
quantities - 0 for the others -, ``create_returns``), once: a write-ahead record ``return-create:{delivery}:{file}``
keeps the new picking's id, and a retry whose reply was lost finds the open return of that delivery instead of
making a second one. The disposition decides the destination: ``restock`` the return's own (the stock location),
``quarantine`` the partner's ``damaged_location``, ``scrap`` its ``scrap_location`` (a virtual location: Odoo
values nothing back for a scrapped unit). More returned than was delivered, less what came back before (or more
than an announced return expects) is ``RETURN_MORE_THAN_DELIVERED``. Posting: :mod:`threepl_bridge.flows.goods_in`.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from threepl_bridge import codes
from threepl_bridge.codes import Problem
from threepl_bridge.flows.dispatch_checks import match_move, to_move_unit
from threepl_bridge.flows.exchange import Inbound, InboundKind, Processed
from threepl_bridge.flows.goods_in import Arrival, GoodsIn, Put, base_qty, duplicate_rows, hold_whole, line_fingerprint, location_named, row_json, row_outcomes
from threepl_bridge.flows.shipments import EPS
from threepl_bridge.formats.codec import format_decimal
from threepl_bridge.formats.reader import ParsedRow
from threepl_bridge.odoo.errors import OdooError
from threepl_bridge.odoo.stock_queries import PICKING_FIELDS, StockQueries

KIND = "returns"
POSTING = GoodsIn("return", codes.RETURN_POST_FAILED, "Returned")
CREATE = "return-create:"
MOVE_EXTRA = ("location_id", "location_dest_id", "origin_returned_move_id")
KEEP = ("return_ref", "order_ref", "sku", "barcode", "lot", "quantity", "uom", "returned_at", "disposition", "reason")
FIELDS = [*PICKING_FIELDS, "return_id", "date_done"]


def fingerprint(partner: Any, row: ParsedRow) -> str:
    return line_fingerprint(partner, KIND, row, ("return_ref", "order_ref", "line_no", "sku", "lot", "disposition", "quantity", "uom", "returned_at"))


def row_data(row: ParsedRow) -> str:
    return row_json(row, KEEP)


def _ref(row: ParsedRow) -> str | None:
    return row.values.get("return_ref") or row.values.get("order_ref")


class _Resolve:
    """What the rows name, read once per file: announced returns, deliveries and the returns made of them."""

    def __init__(self, work: Inbound, odoo: StockQueries, rows: list[ParsedRow]) -> None:
        self.work, self.odoo, self.partner = work, odoo, work.partner
        self.pickings = odoo.client.search_read_in("stock.picking", "name", sorted({_ref(r) for r in rows if _ref(r)}), FIELDS)
        self.named = {p["name"]: p for p in self.pickings}
        self.created: dict[int, int] = {}  # delivery id -> the return made of it by this file (an earlier attempt)
        for delivery in [p for p in self.pickings if p["state"] == "done" and not p.get("return_id")]:
            ret = self._made(delivery["id"])
            if ret:
                self.created[delivery["id"]] = ret
        extra = odoo.client.read("stock.picking", sorted(set(self.created.values())), FIELDS) if self.created else []
        self.by_id = {p["id"]: p for p in [*self.pickings, *extra]}
        validated = work.ledger.exchange_postings(self.partner.code, work.exchange.id, prefix=POSTING.prefix)
        self.in_flight = {pid for pid in validated if self.by_id.get(pid, {}).get("state") == "done"}  # validated by an earlier attempt
        targets = [p["id"] for p in self.by_id.values()]
        self.moves_of = odoo.moves_of(targets, MOVE_EXTRA)
        self.products = odoo.products({m["product_id"][0] for ms in self.moves_of.values() for m in ms}, ["default_code", "barcode", "tracking", "uom_id"])
        delivered = [m["id"] for ms in self.moves_of.values() for m in ms if m["state"] == "done"]
        self.returned: dict[int, Decimal] = defaultdict(Decimal)  # delivery move -> quantity in returns (not cancelled)
        for m in odoo.client.search_read_in("stock.move", "origin_returned_move_id", delivered, ["origin_returned_move_id", "product_uom_qty", "state"]) if delivered else []:
            if m["state"] != "cancel":
                self.returned[m["origin_returned_move_id"][0]] += Decimal(str(m["product_uom_qty"]))
        dispositions = {r.values.get("disposition") for r in rows}
        policy = self.partner.spec.policy
        self.dest = {"quarantine": location_named(odoo, policy.damaged_location) if "quarantine" in dispositions else None,
                     "scrap": location_named(odoo, policy.scrap_location) if "scrap" in dispositions else None}
        self.lots = odoo.lots((r.values["lot"] for r in rows if r.values.get("lot")), [pid for pid, p in self.products.items() if p.get("tracking") != "none"])
        self.locks = odoo.lock_dates(p["company_id"][0] for p in self.by_id.values() if p.get("company_id"))

    def _made(self, delivery_id: int) -> int | None:
        record = self.work.ledger.posting_of(self.partner.code, f"{CREATE}{delivery_id}:{self.work.exchange.id}")
        if record is None or record[0] == "failed":
            return None
        if record[0] == "done" and record[1] and record[1] != delivery_id:
            return int(record[1])
        found = self.odoo.client.execute("stock.picking", "search", [["return_id", "=", delivery_id], ["state", "not in", ["done", "cancel"]]],
                                         order="id desc", limit=1)  # the reply of an earlier create was lost
        return found[0] if found else None


def _check(row: ParsedRow, rs: _Resolve, wanted: dict[int, Decimal]) -> tuple[Problem | None, dict[str, Any] | None, dict[str, Any] | None, Put | None]:
    """(problem, target picking, its move, the line to write); the target is a delivery when its return is to make."""
    v, p = row.values, rs.partner

    def problem(code: codes.Code, field: str, value: Any, **params: Any) -> tuple[Problem, None, None, None]:
        return code(row=row.number, field=field, value=value, **params), None, None, None

    ref = _ref(row)
    if not ref:
        return problem(codes.RETURN_NO_REFERENCE, "return_ref", None)
    picking = rs.named.get(ref)
    if picking is None:
        return problem(codes.RETURN_UNKNOWN_REFERENCE, "return_ref" if v.get("return_ref") else "order_ref", ref, partner=p.code)
    ptype = picking["picking_type_id"][0]
    if v.get("return_ref") or picking.get("return_id"):
        if ptype not in rs.odoo.in_picking_types or not picking.get("return_id"):
            return problem(codes.RETURN_NOT_RETURNABLE, "return_ref", ref, why="is not a return picking of the partner's warehouses")
    elif ptype not in rs.odoo.out_picking_types:
        return problem(codes.RETURN_NOT_RETURNABLE, "order_ref", ref, why="is not a delivery of the partner's warehouses")
    elif picking["state"] != "done":
        return problem(codes.RETURN_NOT_RETURNABLE, "order_ref", ref, why=f"is not delivered yet (state {picking['state']})")
    else:
        picking = rs.by_id.get(rs.created.get(picking["id"], 0), picking)  # its return, when this file made it
    if picking["id"] in rs.in_flight:  # validated by an earlier attempt on this file: the posting record settles it
        return None, picking, None, None
    if picking.get("return_id") and picking["state"] in ("done", "cancel"):
        return problem(codes.RETURN_NOT_RETURNABLE, "return_ref", ref, why=f"is {picking['state']} in Odoo: nothing of it is open")
    moves = rs.moves_of.get(picking["id"], [])
    to_make = not picking.get("return_id")
    move = match_move(v, moves if not to_make else [{**m, "state": "assigned"} for m in moves if m["state"] == "done"], rs.products)
    if move is None:
        return problem(codes.RETURN_SKU_NOT_DELIVERED, "sku", v.get("sku") or v.get("barcode"), picking=picking["name"])
    product = rs.products[move["product_id"][0]]
    qty = to_move_unit(p, v, move, lambda: rs.odoo.units, KIND)
    if qty is None:
        return problem(codes.RETURN_UOM_NOT_CONVERTIBLE, "uom", v.get("uom") or "?", qty=v["quantity"], move_uom=move["product_uom"][1], sku=product["default_code"])
    wanted[move["id"]] += qty
    room = (Decimal(str(move["quantity"])) - rs.returned[move["id"]]) if to_make else Decimal(str(move["product_uom_qty"]))
    if wanted[move["id"]] > room + EPS:
        return problem(codes.RETURN_MORE_THAN_DELIVERED, "quantity", v["quantity"], returned=format_decimal(wanted[move["id"]]),
                       product=move["product_id"][1], picking=picking["name"], open=format_decimal(max(room, Decimal(0))))
    tracking = product.get("tracking")
    if tracking in ("lot", "serial") and not v.get("lot"):
        return problem(codes.RETURN_LOT_MISSING, "lot", None, sku=product["default_code"], tracking=tracking)
    disposition = v["disposition"]
    dest = rs.dest.get(disposition) if disposition != "restock" else -1
    if dest is None:
        name = p.spec.policy.damaged_location if disposition == "quarantine" else p.spec.policy.scrap_location
        return problem(codes.RETURN_LOCATION_MISSING, "disposition", disposition,
                       why=f"{disposition}: Odoo has no location named {name!r}" if name else f"{disposition}: set policy.damaged_location in {p.source}")
    day = v["returned_at"].astimezone(p.spec.company_tz).date()
    lock = rs.locks.get(picking["company_id"][0]) if picking.get("company_id") else None
    if lock and day.isoformat() <= lock:
        return problem(codes.RETURN_LOCKED_PERIOD, "returned_at", v["returned_at"], day=day, lock=lock)
    lot = v.get("lot") if tracking in ("lot", "serial") else None
    lot_id = rs.lots.get((product["id"], lot)) if lot else None
    put = Put(qty=base_qty(qty, move, product, lambda: rs.odoo.units), uom_id=product["uom_id"][0], dest=dest, lot_id=lot_id,
              lot_name=lot if lot and lot_id is None else None)
    return None, picking, move, put


def _make_return(work: Inbound, delivery: dict[str, Any], qty: dict[int, Decimal]) -> int:
    """Create the return of a done delivery for the given delivery moves' quantities (F9), write-ahead."""
    client, ledger, code = work.client, work.ledger, work.partner.code
    key = f"{CREATE}{delivery['id']}:{work.exchange.id}"
    ledger.start_postings(code, [(key, "stock.return.picking.create_returns", delivery["id"])], exchange_id=work.exchange.id)
    ctx = {"active_id": delivery["id"], "active_ids": [delivery["id"]], "active_model": "stock.picking"}
    wizard = client.execute("stock.return.picking", "create", {}, context=ctx)
    [w] = client.execute("stock.return.picking", "read", [wizard], fields=["product_return_moves"], context=ctx)
    lines = client.execute("stock.return.picking.line", "read", w["product_return_moves"], fields=["move_id"])
    client.write_many("stock.return.picking.line", {l["id"]: {"quantity": float(qty.get(l["move_id"][0], 0)), "to_refund": True} for l in lines})
    action = client.execute("stock.return.picking", client.dialect.create_returns_method, [wizard], context=ctx)  # an act_window on the return
    ledger.complete_postings(code, [(key, action["res_id"])])
    return int(action["res_id"])


def process(work: Inbound) -> Processed:
    partner, ledger, exchange = work.partner, work.ledger, work.exchange
    odoo = StockQueries(work.client, partner)
    rows = work.valid_rows()
    work.held.enter_context(ledger.leases([f"picking:{partner.code}:{ref}" for ref in sorted({_ref(r) or "" for r in rows})], wait=300.0))
    duplicates = duplicate_rows(work, rows, fingerprint)
    fresh = [r for r in rows if r.number not in duplicates]
    rs = _Resolve(work, odoo, fresh) if fresh else None
    arrivals: dict[int, Arrival] = {}
    to_make: dict[int, list[tuple[ParsedRow, dict[str, Any], Put]]] = defaultdict(list)  # delivery -> its lines
    wanted: dict[int, Decimal] = defaultdict(Decimal)
    for r in fresh:
        assert rs is not None
        problem, target, move, put = _check(r, rs, wanted)
        if problem is not None:
            work.problems.append(problem)
        elif move is None:  # in flight
            arrival = arrivals.setdefault(target["id"], Arrival(picking=target, rows=[]))  # type: ignore[index]
            arrival.rows.append(r)
            arrival.add_moment(partner, r.values["returned_at"])
        elif target.get("return_id"):  # type: ignore[union-attr]
            _add(partner, arrivals, target, r, move, put, rs)  # type: ignore[arg-type]
        else:
            to_make[target["id"]].append((r, move, put))  # type: ignore[index]
    failing = {p.row for p in work.problems if p.row is not None}
    by_row = {r.number: r for r in work.rows}
    for delivery_id, lines in sorted(to_make.items()):
        assert rs is not None
        delivery = rs.by_id[delivery_id]
        bad = sorted(n for n in failing if _ref(by_row[n]) == delivery["name"])
        if bad and not partner.spec.policy.post_valid_part:  # held whole, like an announced return (hold_whole)
            work.problems += [codes.RETURN_HELD(row=r.number, value=_ref(r), failed=bad) for r, _, _ in lines]
            continue
        qty: dict[int, Decimal] = defaultdict(Decimal)
        for r, move, put in lines:
            qty[move["id"]] += to_move_unit(partner, r.values, move, lambda: odoo.units, KIND) or Decimal(0)
        try:
            ret_id = _make_return(work, delivery, qty)
        except OdooError as exc:
            if exc.retryable:
                raise
            ledger.fail_posting(partner.code, f"{CREATE}{delivery_id}:{exchange.id}", error=str(exc))
            work.problems += [codes.RETURN_POST_FAILED(row=r.number, picking=f"of {delivery['name']}", odoo_message=exc.odoo_message) for r, _, _ in lines]
            continue
        [ret] = work.client.read("stock.picking", [ret_id], FIELDS)
        rs.moves_of.update(odoo.moves_of([ret_id], MOVE_EXTRA))
        by_origin = {m["origin_returned_move_id"][0]: m for m in rs.moves_of[ret_id] if m.get("origin_returned_move_id")}
        for r, move, put in lines:
            _add(partner, arrivals, ret, r, by_origin[move["id"]], put, rs)
    keep = hold_whole(partner, arrivals, work.problems, work.rows, _ref, codes.RETURN_HELD)
    posted, issues, names = POSTING.post(partner, work.client, ledger, keep, exchange.id, exchange.remote_name)
    work.problems += issues
    outcomes = row_outcomes(work, duplicates, posted, fingerprint, row_data)
    return Processed(outcomes=outcomes, result={"pickings_posted": names})


def _add(partner: Any, arrivals: dict[int, Arrival], picking: dict[str, Any], row: ParsedRow, move: dict[str, Any], put: Put, rs: _Resolve) -> None:
    a = arrivals.setdefault(picking["id"], Arrival(picking=picking, rows=[], moves={m["id"]: m for m in rs.moves_of.get(picking["id"], [])}))
    a.rows.append(row)
    if put.dest == -1:  # restock: the return's own destination
        put = Put(qty=put.qty, uom_id=put.uom_id, dest=move["location_dest_id"][0], lot_id=put.lot_id, lot_name=put.lot_name)
    a.puts.setdefault(move["id"], []).append(put)
    a.move_qty[move["id"]] = a.move_qty.get(move["id"], Decimal(0)) + to_move_unit(partner, row.values, move, lambda: rs.odoo.units, KIND)  # type: ignore[operator]
    a.add_moment(partner, row.values["returned_at"])


RETURNS = InboundKind(
    name=KIND, unreadable=codes.RETURN_FILE_UNREADABLE, value_unreadable=codes.RETURN_FIELD_INVALID, process=process,
    row_data=row_data, settled=lambda work: {"pickings_posted": []}, replay_processed=True,
)
