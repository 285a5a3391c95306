"""3PL dispatch confirmations -> validated Odoo deliveries, dated on the day the goods left.

One call of :func:`process_dispatch_file` takes one received file (an exchange record) through:

1. parse per the partner's layout (an unreadable file goes to the error folder with the reason);
2. the Great Expectations suite ``expectations/dispatches.json`` (per-row results);
3. business checks against Odoo and the ledger (unknown order, not released, cancelled, already done -
   duplicate or conflict -, SKU not on the picking, unit not convertible, over-shipment, lot missing/unknown,
   tracking number missing, locked accounting period);
4. posting (contract F2-F5, F7): exact quantities and ``picked`` on every move (0 on lines not shipped), lots on
   move lines, tracking references, ``skip_sms``, backorder policy, ``force_period_date`` = the dispatch date in
   the company's calendar; pickings validated in batches, a failing batch split until the bad picking is
   isolated; a write-ahead posting record per picking so a retry after a crash never validates twice;
5. row outcomes (posted / duplicate / exception) that add up to the rows in the file, then the file moves to
   archive/ - only after the ledger commit.

An order with any failing row is held whole unless the partner's policy ``post_valid_part`` says otherwise.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

from threepl_bridge.formats.reader import ParsedRow, UnreadableFile, read_rows
from threepl_bridge.formats.codec import format_decimal
from threepl_bridge.ledger.repo import Ledger
from threepl_bridge.ledger.states import Outcome, State
from threepl_bridge.odoo.client import OdooClient
from threepl_bridge.odoo.errors import OdooError
from threepl_bridge.odoo.warehouses import out_picking_types
from threepl_bridge.specs.models import Partner
from threepl_bridge.transport.sftp import SftpTransport, remote_path

log = logging.getLogger(__name__)

KIND = "dispatches"
PICKING_FIELDS = ["name", "state", "picking_type_id", "carrier_id", "batch_id", "backorder_id", "company_id"]
MOVE_FIELDS = ["picking_id", "product_id", "product_uom_qty", "quantity", "product_uom", "state", "move_line_ids"]
PARSE_CODE = "DISPATCH_FIELD_INVALID"
EPS = Decimal("0.0001")


@dataclass
class Issue:
    row: int
    code: str
    message: str
    field: str = ""


@dataclass
class Shipment:
    """The valid rows of one picking, resolved against Odoo."""

    picking: dict[str, Any]
    rows: list[ParsedRow]
    move_qty: dict[int, Decimal] = field(default_factory=dict)  # move id -> shipped quantity in the move's unit
    lots: dict[int, list[tuple[int, Decimal, int]]] = field(default_factory=dict)  # move id -> [(lot, qty, product uom)]
    tracking: list[str] = field(default_factory=list)
    shipped_at: datetime | None = None

    @property
    def accounting_date(self) -> date:
        assert self.shipped_at is not None
        return self.shipped_at.date()


@dataclass
class DispatchResult:
    exchange_id: int
    state: str
    rows: int = 0
    posted: int = 0
    duplicate: int = 0
    exception: int = 0
    pickings_posted: list[str] = field(default_factory=list)
    error: str | None = None
    moved_to: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def fingerprint(partner: Partner, row: ParsedRow) -> str:
    """The identity of one shipped line: the same shipment in any later file has the same fingerprint."""
    v = row.values
    key = [v.get("order_ref"), v.get("sku"), v.get("lot") or "", v.get("parcel") or "", str(v.get("quantity")),
           v.get("uom") or "", v["shipped_at"].isoformat() if v.get("shipped_at") else ""]
    return f"{partner.code}:" + hashlib.sha256(json.dumps(key).encode()).hexdigest()[:40]


def row_data(row: ParsedRow) -> str:
    """The row's canonical values as JSON (kept with its outcome: reconciliations and month-end read them)."""
    keep = ("order_ref", "sku", "barcode", "lot", "quantity", "uom", "shipped_at", "parcel", "tracking_ref")
    return json.dumps({k: (v.isoformat() if isinstance(v, datetime) else str(v) if isinstance(v, Decimal) else v)
                       for k, v in row.values.items() if k in keep and v is not None}, sort_keys=True)


# ------------------------------------------------------------------------------------------- entry


def process_dispatch_file(
    *, partner: Partner, client: OdooClient, ledger: Ledger, transport: SftpTransport, exchange_id: int,
    now: datetime, run_id: str | None = None,
) -> DispatchResult:
    exchange = ledger.exchange(exchange_id)
    doc = partner.document(KIND)
    assert doc is not None
    path = remote_path(exchange.remote_folder, exchange.remote_name)
    companions = (doc.complete.marker_suffix,) if doc.complete.rule == "marker" else ()
    result = DispatchResult(exchange_id=exchange_id, state=exchange.state)
    if exchange.state in (State.INPUT_PROCESSED, State.INPUT_DUPLICATE, State.INPUT_ERROR):
        result.moved_to = _move_if_present(transport, path, partner, exchange.state, companions)
        return _with_counts(ledger, result)

    downloaded = transport.read_bytes(path)
    if downloaded.sha256 != exchange.sha256:
        raise RuntimeError(f"{path} changed after it was received (sha256 {exchange.sha256[:12]} -> {downloaded.sha256[:12]}); "
                           "it will be received again as a new file")
    layout = partner.layout_for(KIND)
    try:
        rows = read_rows(layout, downloaded.data, partner.spec.tz)
    except UnreadableFile as exc:
        reason = f"{exchange.remote_name}: {exc}"
        ledger.transition(exchange_id, State.INPUT_ERROR, error=reason, run_id=run_id)
        ledger.raise_exception(partner=partner.code, code="DISPATCH_FILE_UNREADABLE", object_type="file",
                               object_ref=f"{exchange.remote_name}#{exchange_id}", message=reason, exchange_id=exchange_id)
        result.moved_to = transport.move_unique(path, partner.spec.sftp.error_folder, companions=companions)
        result.state, result.error = State.INPUT_ERROR, reason
        log.error("%s: unreadable, moved to %s: %s", exchange.remote_name, result.moved_to, reason)
        return result

    issues = validate(partner, rows, now)
    ledger.transition(exchange_id, State.INPUT_VALIDATED, run_id=run_id)
    valid = [r for r in rows if r.number not in {i.row for i in issues}]
    duplicates, issues_odoo, shipments = check_against_odoo(partner, client, ledger, valid, exchange_id)
    issues += issues_odoo
    shipments = hold_orders(partner, shipments, issues, rows)
    posted_rows, post_issues, posted_names = post(partner, client, ledger, shipments, exchange_id, exchange.remote_name, run_id)
    issues += post_issues

    by_number = {r.number: r for r in rows}
    outcomes = [{"row_number": i.row, "outcome": Outcome.EXCEPTION, "code": i.code, "field": i.field,
                 "message": f"{exchange.remote_name} row {i.row}: {i.message}", "data": row_data(by_number[i.row])} for i in issues]
    outcomes += [{"row_number": n, "outcome": Outcome.DUPLICATE, "record_key": fingerprint(partner, by_number[n]), "message": why,
                  "data": row_data(by_number[n])} for n, why in duplicates.items()]
    outcomes += [{"row_number": n, "outcome": Outcome.POSTED, "record_key": fingerprint(partner, by_number[n]), "odoo_ref": ref,
                  "data": row_data(by_number[n])} for n, ref in posted_rows.items()]
    ledger.record_rows(exchange_id, outcomes)
    counts = ledger.close_counts(exchange_id, rows_total=len(rows))
    ledger.transition(exchange_id, State.INPUT_PROCESSED, note=f"posted {counts['posted']}, duplicate {counts['duplicate']}, exception {counts['exception']}", run_id=run_id)
    result.moved_to = transport.move_unique(path, partner.spec.sftp.archive_folder, companions=companions)
    result.state, result.pickings_posted = State.INPUT_PROCESSED, posted_names
    log.info("%s: %d rows: %s; archived as %s", exchange.remote_name, len(rows), counts, result.moved_to)
    return _with_counts(ledger, result)


def _with_counts(ledger: Ledger, result: DispatchResult) -> DispatchResult:
    ex = ledger.exchange(result.exchange_id)
    result.rows, result.posted, result.duplicate, result.exception = ex.rows_total, ex.rows_posted, ex.rows_duplicate, ex.rows_exception
    result.error = ex.error
    return result


def _move_if_present(transport: SftpTransport, path: str, partner: Partner, state: str, companions: tuple[str, ...]) -> str | None:
    """A file whose exchange is settled but is still in the inbox (the task died before the move): move it now."""
    if transport.stat(path) is None:
        return None
    target = partner.spec.sftp.error_folder if state == State.INPUT_ERROR else partner.spec.sftp.archive_folder
    return transport.move_unique(path, target, companions=companions)


# -------------------------------------------------------------------------------------- validation


def validate(partner: Partner, rows: list[ParsedRow], now: datetime) -> list[Issue]:
    from threepl_bridge.quality import validate_rows

    issues = [Issue(row=r.number, code=PARSE_CODE, field=p.field, message=p.message) for r in rows for p in r.problems]
    found, _ = validate_rows(KIND, rows, parameters={"uom_codes": [u.code for u in partner.spec.uom], "now": now})
    issues += [Issue(row=i.row, code=i.code, field=i.field, message=i.message) for i in found]
    return issues


def check_against_odoo(
    partner: Partner, client: OdooClient, ledger: Ledger, rows: list[ParsedRow], exchange_id: int
) -> tuple[dict[int, str], list[Issue], dict[int, Shipment]]:
    """Duplicates (already posted lines), business-check issues, and shipments per picking id."""
    issues: list[Issue] = []
    duplicates: dict[int, str] = {}
    if not rows:
        return duplicates, issues, {}
    posted_before = ledger.posted_fingerprints([fingerprint(partner, r) for r in rows])
    fresh = []
    for r in rows:
        previous = posted_before.get(fingerprint(partner, r))
        if previous:
            duplicates[r.number] = f"already posted from {previous}"
        else:
            fresh.append(r)
    refs = sorted({r.values["order_ref"] for r in fresh})
    pickings = {p["name"]: p for p in client.search_read_all("stock.picking", [["name", "in", refs]], PICKING_FIELDS)} if refs else {}
    released = ledger.released_pickings(partner.code, [p["id"] for p in pickings.values()])
    # a 3PL ships the rest of an order under the same reference: follow the backorder chain to the open picking
    open_backorders = _open_backorders(client, [p["id"] for p in pickings.values() if p["state"] == "done"])
    types = set(out_picking_types(client, partner))
    target_of: dict[str, dict[str, Any]] = {}
    in_flight: set[int] = set()  # posted by an earlier attempt on this same file that died before the ledger commit
    for ref, picking in pickings.items():
        if ledger.posting_state(partner.code, f"dispatch:{picking['id']}:{exchange_id}") in ("intent", "done"):
            in_flight.add(picking["id"])
            target_of[ref] = picking
        else:
            target_of[ref] = open_backorders.get(picking["id"], picking)
    targets = {p["id"]: p for p in target_of.values()}
    moves = list(client.search_read_all("stock.move", [["picking_id", "in", sorted(targets)]], MOVE_FIELDS)) if targets else []
    products = client.read_by_id("product.product", sorted({m["product_id"][0] for m in moves}), ["default_code", "barcode", "tracking", "uom_id"])
    uoms = _uoms(client)
    lots = _lots(client, fresh, products)
    lock = _lock_date(client)
    carriers_need_ref = set(partner.spec.policy.carriers_requiring_tracking)
    moves_of: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for m in moves:
        moves_of[m["picking_id"][0]].append(m)

    accepted: list[tuple[ParsedRow, dict[str, Any], dict[str, Any], Decimal, tuple[int, Decimal, int] | None]] = []
    shipments: dict[int, Shipment] = {}
    for r in fresh:
        v = r.values
        ref = v["order_ref"]
        picking = target_of.get(ref)
        if picking is None:
            issues.append(Issue(row=r.number, code="DISPATCH_UNKNOWN_ORDER", field="order_ref", message=f"no Odoo picking named {ref!r}"))
            continue
        if picking["id"] in in_flight:  # checked by the earlier attempt; post() settles it from the posting record
            shipment = shipments.setdefault(picking["id"], Shipment(picking=picking, rows=[]))
            shipment.rows.append(r)
            moment = v["shipped_at"].astimezone(partner.spec.company_tz)
            shipment.shipped_at = max(shipment.shipped_at or moment, moment)
            continue
        original = pickings[ref]
        if original["id"] not in released or picking["picking_type_id"][0] not in types:
            issues.append(Issue(row=r.number, code="DISPATCH_NOT_RELEASED", field="order_ref", message=f"{ref} was never released to {partner.code}"))
            continue
        if picking["state"] == "cancel":
            issues.append(Issue(row=r.number, code="DISPATCH_PICKING_CANCELLED", field="order_ref", message=f"{ref} is cancelled in Odoo"))
            continue
        if picking["state"] == "done":
            issues.append(Issue(row=r.number, code="DISPATCH_CONFLICT", field="order_ref",
                                message=f"{ref} is already done in Odoo and this line differs from what was posted"))
            continue
        move = _match_move(v, moves_of[picking["id"]], products)
        if move is None:
            issues.append(Issue(row=r.number, code="DISPATCH_SKU_NOT_ON_PICKING", field="sku",
                                message=f"{v.get('sku') or v.get('barcode')} is not on {picking['name']}"))
            continue
        product = products[move["product_id"][0]]
        qty = _to_move_unit(partner, v, move, uoms)
        if qty is None:
            issues.append(Issue(row=r.number, code="DISPATCH_UOM_NOT_CONVERTIBLE", field="uom",
                                message=f"{v['quantity']} {v.get('uom') or '?'} cannot be expressed in {move['product_uom'][1]} for {product['default_code']}"))
            continue
        lot = None
        if product.get("tracking") in ("lot", "serial"):
            if not v.get("lot"):
                issues.append(Issue(row=r.number, code="DISPATCH_LOT_MISSING", field="lot", message=f"{product['default_code']} is tracked by lot: the line needs one"))
                continue
            lot_id = lots.get((product["id"], v["lot"]))
            if lot_id is None:
                issues.append(Issue(row=r.number, code="DISPATCH_LOT_UNKNOWN", field="lot", message=f"lot {v['lot']!r} of {product['default_code']} is unknown in Odoo"))
                continue
            base = qty * Decimal(str(uoms[move["product_uom"][0]]["ratio"])) / Decimal(str(uoms[product["uom_id"][0]]["ratio"]))
            lot = (lot_id, base, product["uom_id"][0])
        carrier = v.get("carrier") or (picking["carrier_id"][1] if picking.get("carrier_id") else None)
        if carrier in carriers_need_ref and not v.get("tracking_ref"):
            issues.append(Issue(row=r.number, code="DISPATCH_TRACKING_MISSING", field="tracking_ref", message=f"carrier {carrier} requires a tracking number"))
            continue
        accounting = v["shipped_at"].astimezone(partner.spec.company_tz).date()
        if lock and accounting.isoformat() <= lock:
            issues.append(Issue(row=r.number, code="DISPATCH_LOCKED_PERIOD", field="shipped_at",
                                message=f"shipped on {accounting} but the books are locked until {lock}; reopen the period or post manually"))
            continue
        accepted.append((r, picking, move, qty, lot))

    shipped: dict[int, Decimal] = defaultdict(Decimal)
    for _, _, move, qty, _ in accepted:
        shipped[move["id"]] += qty
    over = {mid for mid, total in shipped.items() if total > Decimal(str(next(m for m in moves if m["id"] == mid)["product_uom_qty"])) + EPS}
    for r, picking, move, qty, lot in accepted:
        if move["id"] in over:
            issues.append(Issue(row=r.number, code="DISPATCH_OVER_SHIPMENT", field="quantity",
                                message=f"{format_decimal(shipped[move['id']])} shipped for {move['product_id'][1]} on {picking['name']}, "
                                        f"only {format_decimal(Decimal(str(move['product_uom_qty'])))} open"))
            continue
        v = r.values
        shipment = shipments.setdefault(picking["id"], Shipment(picking=picking, rows=[]))
        shipment.rows.append(r)
        shipment.move_qty[move["id"]] = shipment.move_qty.get(move["id"], Decimal(0)) + qty
        if lot is not None:
            shipment.lots.setdefault(move["id"], []).append(lot)
        if v.get("tracking_ref") and v["tracking_ref"] not in shipment.tracking:
            shipment.tracking.append(v["tracking_ref"])
        moment = v["shipped_at"].astimezone(partner.spec.company_tz)
        shipment.shipped_at = max(shipment.shipped_at or moment, moment)
    for shipment in shipments.values():
        for m in moves_of[shipment.picking["id"]]:
            shipment.move_qty.setdefault(m["id"], Decimal(0))
    return duplicates, issues, shipments


def hold_orders(partner: Partner, shipments: dict[int, Shipment], issues: list[Issue], rows: list[ParsedRow]) -> list[Shipment]:
    """An order with a failing row is held whole (its valid rows become DISPATCH_ORDER_HELD) unless the
    partner posts the valid part."""
    failing_refs: dict[str, list[int]] = defaultdict(list)
    ref_of = {r.number: r.values.get("order_ref") for r in rows}
    for i in issues:
        if ref_of.get(i.row):
            failing_refs[ref_of[i.row]].append(i.row)
    keep = []
    for shipment in shipments.values():
        refs = {r.values["order_ref"] for r in shipment.rows}
        bad = sorted({n for ref in refs for n in failing_refs.get(ref, [])})
        if bad and not partner.spec.policy.post_valid_part:
            for r in shipment.rows:
                issues.append(Issue(row=r.number, code="DISPATCH_ORDER_HELD", field="order_ref",
                                    message=f"order {r.values['order_ref']} held whole: row(s) {bad} failed"))
            continue
        keep.append(shipment)
    return keep


# ------------------------------------------------------------------------------------------ posting


def post(
    partner: Partner, client: OdooClient, ledger: Ledger, shipments: list[Shipment], exchange_id: int, file_name: str,
    run_id: str | None,
) -> tuple[dict[int, str], list[Issue], list[str]]:
    """Validate the shipments in Odoo; returns {row: odoo ref} posted, issues for pickings Odoo refused, names."""
    posted: dict[int, str] = {}
    issues: list[Issue] = []
    if not shipments:
        return posted, issues, []
    todo: list[Shipment] = []
    recovered: list[Shipment] = []
    for s in shipments:
        key = f"dispatch:{s.picking['id']}:{exchange_id}"
        state = ledger.posting_state(partner.code, key)
        if state == "done":
            posted.update({r.number: f"stock.picking,{s.picking['id']}" for r in s.rows})
            continue
        if state == "intent" and _is_done(client, s.picking["id"]):  # validated by an attempt that died before the ledger commit
            ledger.complete_posting(partner.code, key, odoo_id=s.picking["id"])
            posted.update({r.number: f"stock.picking,{s.picking['id']}" for r in s.rows})
            recovered.append(s)
            continue
        todo.append(s)
    _prepare_pickings(client, todo)
    by_date: dict[date, list[Shipment]] = defaultdict(list)
    for s in todo:
        by_date[s.accounting_date].append(s)
    size = client.settings.validate_batch
    chunks = [group[start : start + size] for _, group in sorted(by_date.items()) for start in range(0, len(group), size)]
    for n, chunk in enumerate(chunks):
        if n:  # a backorder created by an earlier call can auto-batch with a picking of this one (F05b): detach again
            client.execute("stock.picking", "write", [s.picking["id"] for s in chunk], {"batch_id": False})
        _validate(partner, client, ledger, chunk, chunk[0].accounting_date, exchange_id, posted, issues)
    done = [s for s in todo if all(r.number in posted for r in s.rows)]
    _after_validation(partner, client, ledger, done + recovered, file_name)
    done += recovered
    return posted, issues, sorted(s.picking["name"] for s in done)


def _prepare_pickings(client: OdooClient, shipments: list[Shipment]) -> None:
    """Write exactly what shipped (contract F2/F2b/F7): quantity and picked on every shipped move, 0 on the
    others, lots on move lines, tracking references; detach auto-batches (F5 gotcha)."""
    if not shipments:
        return
    batched = [s.picking["id"] for s in shipments if s.picking.get("batch_id")]
    if batched:
        client.execute("stock.picking", "write", batched, {"batch_id": False})
    with_lots = [s for s in shipments if s.lots]
    if with_lots:
        client.execute("stock.picking", "do_unreserve", [s.picking["id"] for s in with_lots])
    updates: dict[int, dict[str, Any]] = {}
    new_lines: list[dict[str, Any]] = []
    moves = client.read_by_id("stock.move", [mid for s in with_lots for mid in s.lots], ["product_id", "location_id", "location_dest_id"]) if with_lots else {}
    for s in shipments:
        for move_id, qty in s.move_qty.items():
            if move_id in s.lots:
                m = moves[move_id]
                for lot_id, base, uom_id in s.lots[move_id]:
                    new_lines.append({"move_id": move_id, "picking_id": s.picking["id"], "product_id": m["product_id"][0], "product_uom_id": uom_id,
                                      "location_id": m["location_id"][0], "location_dest_id": m["location_dest_id"][0],
                                      "lot_id": lot_id, "quantity": float(base), "picked": True})
            elif qty > 0:
                updates[move_id] = {"quantity": float(qty), "picked": True}
            else:
                updates[move_id] = {"quantity": 0}
    if updates:
        client.write_many("stock.move", updates)
    if new_lines:
        client.create_many("stock.move.line", new_lines)
    refs = [[s.picking["id"], ", ".join(s.tracking)] for s in shipments if s.tracking]
    if refs:
        client.execute("stock.picking", "load", [".id", "carrier_tracking_ref"], refs)


def _validate(partner: Partner, client: OdooClient, ledger: Ledger, group: list[Shipment], when: date, exchange_id: int,
              posted: dict[int, str], issues: list[Issue]) -> None:
    ids = [s.picking["id"] for s in group]
    keys = {s.picking["id"]: f"dispatch:{s.picking['id']}:{exchange_id}" for s in group}
    ledger.start_postings(partner.code, [(keys[pid], "stock.picking.button_validate", pid) for pid in ids], exchange_id=exchange_id)
    context: dict[str, Any] = {"skip_sms": True, "skip_backorder": True, "force_period_date": when.isoformat()}
    if partner.spec.policy.backorder == "cancel":
        context["picking_ids_not_to_backorder"] = ids
    try:
        client.call_button("stock.picking", "button_validate", ids, context=context)
    except OdooError as exc:
        if exc.retryable and getattr(exc, "ambiguous", False):
            raise  # unknown outcome: the task retries and the postings' intent records settle it
        if len(group) > 1:  # isolate the failing picking: the others still post
            middle = len(group) // 2
            for half in (group[:middle], group[middle:]):
                _validate(partner, client, ledger, half, when, exchange_id, posted, issues)
            return
        [s] = group
        ledger.fail_posting(partner.code, keys[s.picking["id"]], error=str(exc))
        for r in s.rows:
            issues.append(Issue(row=r.number, code="DISPATCH_POST_FAILED", message=f"Odoo refused to validate {s.picking['name']}: {exc.odoo_message}"))
        return
    ledger.complete_postings(partner.code, [(keys[pid], pid) for pid in ids])
    for s in group:
        posted.update({r.number: f"stock.picking,{s.picking['id']}" for r in s.rows})


def _after_validation(partner: Partner, client: OdooClient, ledger: Ledger, done: list[Shipment], file_name: str) -> None:
    """Operational dates on the day the goods left; backorders stay released to the partner; chatter notes."""
    if not done:
        return
    stamp = {s.picking["id"]: s.shipped_at.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S") for s in done if s.shipped_at}
    if partner.spec.policy.backdate_moves and stamp:
        # load() reads naive datetimes in the context's (else the API user's) time zone: ours are UTC
        utc = {"tz": "UTC"}
        client.execute("stock.picking", "load", [".id", "date_done"], [[pid, when] for pid, when in stamp.items()], context=utc)
        moves = list(client.search_read_all("stock.move", [["picking_id", "in", list(stamp)], ["state", "=", "done"]], ["picking_id", "move_line_ids"]))
        client.execute("stock.move", "load", [".id", "date"], [[m["id"], stamp[m["picking_id"][0]]] for m in moves], context=utc)
        lines = [[lid, stamp[m["picking_id"][0]]] for m in moves for lid in m["move_line_ids"]]
        if lines:
            client.execute("stock.move.line", "load", [".id", "date"], lines, context=utc)
    backorders = client.execute("stock.picking", "search_read", [["backorder_id", "in", [s.picking["id"] for s in done]]], fields=["name", "backorder_id"])
    hashes = _backorder_hashes(client, [b["id"] for b in backorders])
    ledger.release_backorders(partner.code, [(b["id"], b["name"], b["backorder_id"][0], hashes[b["id"]]) for b in backorders])
    for s in done:
        ledger.set_released_state(partner.code, s.picking["id"], "done")
        ledger.resolve_exceptions(partner=partner.code, object_type="picking", object_ref=s.picking["name"], codes=["DISPATCH_PENDING_AT_3PL"])
    notes = [{"model": "stock.picking", "res_id": s.picking["id"], "message_type": "comment",
              "body": f"Shipped by 3PL {partner.spec.name}: file {file_name}, rows {', '.join(str(r.number) for r in s.rows)}"
                      + (f", tracking {', '.join(s.tracking)}" if s.tracking else "") + "."} for s in done]
    try:
        client.create_many("mail.message", notes)
    except OdooError as exc:  # a side channel never fails the posting
        log.warning("chatter notes skipped: %s", exc)


def _backorder_hashes(client: OdooClient, backorder_ids: list[int]) -> dict[int, str]:
    """The open lines' hash of each backorder, as the orders flow computes it at release."""
    from threepl_bridge.flows.orders import MOVE_FIELDS as ORDER_MOVE_FIELDS, lines_hash

    moves_of: dict[int, list[dict[str, Any]]] = {pid: [] for pid in backorder_ids}
    if backorder_ids:
        for m in client.search_read_all("stock.move", [["picking_id", "in", backorder_ids]], ORDER_MOVE_FIELDS):
            moves_of[m["picking_id"][0]].append(m)
    return {pid: lines_hash(moves) for pid, moves in moves_of.items()}


# ---------------------------------------------------------------------------------- pending at the 3PL


def flag_pending(*, partner: Partner, client: OdooClient, ledger: Ledger, now: datetime) -> list[dict[str, Any]]:
    """Released pickings with no dispatch after the partner's SLA, oldest first, as open exceptions
    (``DISPATCH_PENDING_AT_3PL``); closed when the dispatch is posted or the picking is done/cancelled in Odoo."""
    released = ledger.released_pickings(partner.code, states=["released"])
    if not released:
        return []
    states = {p["id"]: p["state"] for p in client.read("stock.picking", sorted(released), ["state"])}
    reported = {r["data"].get("order_ref") for r in ledger.dispatch_rows(partner.code)}  # the 3PL did report these
    sla_hours = partner.spec.policy.pending_sla_hours
    pending = []
    for pid, r in released.items():
        state = states.get(pid, "cancel")
        if state in ("done", "cancel"):
            ledger.resolve_exceptions(partner=partner.code, object_type="picking", object_ref=r.picking_name, codes=["DISPATCH_PENDING_AT_3PL"])
            if state == "done":
                ledger.set_released_state(partner.code, pid, "done")
            continue
        age_hours = (now - r.released_at).total_seconds() / 3600
        if r.picking_name in reported:  # dispatched but held on our side: its row exceptions say why
            ledger.resolve_exceptions(partner=partner.code, object_type="picking", object_ref=r.picking_name, codes=["DISPATCH_PENDING_AT_3PL"])
            continue
        if age_hours > sla_hours:
            pending.append({"picking": r.picking_name, "released_at": r.released_at.isoformat(), "age_hours": round(age_hours, 1)})
            ledger.raise_exception(
                partner=partner.code, code="DISPATCH_PENDING_AT_3PL", object_type="picking", object_ref=r.picking_name,
                message=f"{r.picking_name} released {age_hours:.0f} h ago (SLA {sla_hours:g} h), no dispatch yet", at=now,
            )
    return sorted(pending, key=lambda p: -p["age_hours"])


# -------------------------------------------------------------------------------------------- helpers


def _is_done(client: OdooClient, picking_id: int) -> bool:
    found = client.execute("stock.picking", "read", [picking_id], fields=["state"])
    return bool(found) and found[0]["state"] == "done"


def _open_backorders(client: OdooClient, done_ids: list[int]) -> dict[int, dict[str, Any]]:
    """done picking id -> its open backorder (following the chain), for shipments of the rest of an order."""
    out: dict[int, dict[str, Any]] = {}
    frontier = list(done_ids)
    origin_of = {pid: pid for pid in done_ids}
    while frontier:
        found = client.execute("stock.picking", "search_read", [["backorder_id", "in", frontier]], fields=PICKING_FIELDS)
        frontier = []
        for b in found:
            root = origin_of[b["backorder_id"][0]]
            if b["state"] == "done":
                origin_of[b["id"]] = root
                frontier.append(b["id"])
            elif b["state"] != "cancel":
                out[root] = b
    return out


def _uoms(client: OdooClient) -> dict[int, dict[str, Any]]:
    records = client.execute("uom.uom", "search_read", [], fields=["name", "category_id", "factor"])
    return {u["id"]: {"name": u["name"], "category": u["category_id"][0], "ratio": 1.0 / u["factor"]} for u in records}


def _lots(client: OdooClient, rows: list[ParsedRow], products: dict[int, dict[str, Any]]) -> dict[tuple[int, str], int]:
    names = sorted({r.values["lot"] for r in rows if r.values.get("lot")})
    if not names:
        return {}
    tracked = [pid for pid, p in products.items() if p.get("tracking") in ("lot", "serial")]
    found = client.execute("stock.lot", "search_read", [["name", "in", names], ["product_id", "in", tracked]], fields=["name", "product_id"])
    return {(lot["product_id"][0], lot["name"]): lot["id"] for lot in found}


def _lock_date(client: OdooClient) -> str | None:
    [user] = client.execute("res.users", "read", [client.uid], fields=["company_id"])
    [company] = client.execute("res.company", "read", [user["company_id"][0]], fields=["period_lock_date"])
    return company.get("period_lock_date") or None


def _match_move(values: dict[str, Any], moves: list[dict[str, Any]], products: dict[int, dict[str, Any]]) -> dict[str, Any] | None:
    for m in moves:
        if m["state"] in ("done", "cancel"):
            continue
        product = products[m["product_id"][0]]
        if values.get("sku") and product.get("default_code") == values["sku"]:
            return m
        if not values.get("sku") and values.get("barcode") and product.get("barcode") == values["barcode"]:
            return m
    return None


def _to_move_unit(partner: Partner, values: dict[str, Any], move: dict[str, Any], uoms: dict[int, dict[str, Any]]) -> Decimal | None:
    """The row's quantity in the move's unit, or None when the units are not convertible."""
    move_uom = uoms[move["product_uom"][0]]
    code = values.get("uom") or partner.default_uom(KIND)
    if not code:
        mapped = partner.spec.uom_by_odoo(move_uom["name"])
        code = mapped.code if mapped else None
    mapping = partner.spec.uom_by_code(code) if code else None
    if mapping is None:
        return None
    source = next((u for u in uoms.values() if u["name"] == mapping.odoo_uom), None)
    if source is None or source["category"] != move_uom["category"]:
        return None
    qty = Decimal(values["quantity"]) * Decimal(str(source["ratio"])) / Decimal(str(move_uom["ratio"]))
    return qty.quantize(Decimal("0.0001"))
