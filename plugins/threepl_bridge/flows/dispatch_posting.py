"""Posting checked dispatch rows in Odoo (contract F2-F5, F7): a write-ahead posting record per picking, exact
quantities and lots, tracking references, validation in batches dated on the day the goods left, then the steps
after validation (operational dates, backorders released to the partner, chatter notes).

Every step is re-runnable, so a retry after any crash or fault posts each shipped unit exactly once:

- validation (``dispatch:{picking}:{exchange}``): a picking whose record is in ``intent`` and done in Odoo is
  recovered (never validated again); one not done in Odoo is prepared and validated again in full, the prepare
  writes set quantities and replace lot lines, never add to them;
- a retryable Odoo error (unknown outcome, a 502 or a serialization failure past the client's retries) fails the
  task for Airflow to retry; only a refusal (UserError, access error...) becomes ``DISPATCH_POST_FAILED``;
- the steps after validation (``dispatch-after:{picking}:{exchange}``) are completed by any retry of the file,
  the chatter note written only if the picking does not carry it yet.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import date, timezone
from decimal import Decimal
from typing import Any

from threepl_bridge import codes
from threepl_bridge.codes import Problem
from threepl_bridge.flows.shipments import POSTING_PREFIX, Shipment, posting_key
from threepl_bridge.ledger.repo import Ledger
from threepl_bridge.odoo.chatter import post_notes
from threepl_bridge.odoo.client import OdooClient
from threepl_bridge.odoo.errors import OdooError
from threepl_bridge.odoo.stock_queries import StockQueries
from threepl_bridge.specs.models import Partner

log = logging.getLogger(__name__)


def post(
    partner: Partner, client: OdooClient, ledger: Ledger, shipments: list[Shipment], exchange_id: int, file_name: str,
    run_id: str | None,
) -> tuple[dict[int, str], list[Problem], list[str]]:
    """Validate the shipments in Odoo; returns {row: odoo ref} posted, issues for pickings Odoo refused, names."""
    posted: dict[int, str] = {}
    issues: list[Problem] = []
    if not shipments:
        return posted, issues, []
    todo: list[Shipment] = []
    validated: list[Shipment] = []  # validated by an earlier attempt on this file
    keys = {s.picking["id"]: posting_key(s.picking["id"], exchange_id) for s in shipments}
    started = ledger.exchange_postings(partner.code, exchange_id, prefix=POSTING_PREFIX)  # one read for the file
    states = {pid: started.get(pid) for pid in keys}
    pending = [pid for pid, state in states.items() if state == "intent"]
    in_odoo = StockQueries(client, partner).picking_states(pending) if pending else {}
    for s in shipments:
        pid = s.picking["id"]
        if states[pid] == "intent" and in_odoo.get(pid) == "done":  # the attempt died (or lost the reply) after Odoo applied it
            ledger.complete_posting(partner.code, keys[pid], odoo_id=pid)
            states[pid] = "done"
        if states[pid] == "done":
            posted.update({r.number: f"stock.picking,{pid}" for r in s.rows})
            validated.append(s)
        else:  # new, or in intent but not applied: posted in full (the writes below set, never add)
            todo.append(s)
    _prepare_pickings(client, todo)
    by_date: dict[date, list[Shipment]] = defaultdict(list)
    for s in todo:
        by_date[s.accounting_date].append(s)
    size = client.settings.validate_batch
    chunks = [group[start : start + size] for _, group in sorted(by_date.items()) for start in range(0, len(group), size)]
    backorders_made = False
    for chunk in chunks:
        if backorders_made:  # a backorder created by an earlier call can auto-batch with a picking of this one (F05b): detach again
            client.execute("stock.picking", "write", [s.picking["id"] for s in chunk], {"batch_id": False})
        validate(partner, client, ledger, chunk, chunk[0].accounting_date, exchange_id, posted, issues)
        backorders_made = backorders_made or not all(s.in_full for s in chunk)
    done = validated + [s for s in todo if all(r.number in posted for r in s.rows)]
    _after_validation(partner, client, ledger, done, file_name, exchange_id)
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
    moves = client.read_by_id("stock.move", [mid for s in with_lots for mid in s.lots], ["product_id", "location_id", "location_dest_id", "move_line_ids"]) if with_lots else {}
    # do_unreserve leaves a picked move alone (F7; seen on Odoo 17): lines an interrupted attempt wrote stay on it,
    # so they are replaced, never added to
    stale = [lid for m in moves.values() for lid in m["move_line_ids"]]
    if stale:
        client.execute("stock.move.line", "unlink", stale)
    for s in shipments:
        for move_id, qty in s.move_qty.items():
            before = s.moves.get(move_id, {})
            if before.get("state") in ("done", "cancel"):
                continue
            reserved = Decimal(str(before.get("quantity", -1)))
            if move_id in s.lots:
                m = moves[move_id]
                for lot_id, base, uom_id in s.lots[move_id]:
                    new_lines.append({"move_id": move_id, "picking_id": s.picking["id"], "product_id": m["product_id"][0], "product_uom_id": uom_id,
                                      "location_id": m["location_id"][0], "location_dest_id": m["location_dest_id"][0],
                                      "lot_id": lot_id, "quantity": float(base), "picked": True})
            elif qty > 0:  # reserved exactly what shipped: picking it is enough (its lines are picked with it)
                updates[move_id] = {"picked": True} if reserved == qty else {"quantity": float(qty), "picked": True}
            elif reserved != 0 or before.get("picked", True):
                updates[move_id] = {"quantity": 0}
    if updates:
        client.write_many("stock.move", updates)
    if new_lines:
        client.create_many("stock.move.line", new_lines)
    # before validation: a carrier that ships through its API is then not asked for a label (stock_delivery)
    client.set_values("stock.picking", "carrier_tracking_ref", {s.picking["id"]: ", ".join(s.tracking) for s in shipments if s.tracking})


def validate(partner: Partner, client: OdooClient, ledger: Ledger, group: list[Any], when: date, exchange_id: int,
             posted: dict[int, str], issues: list[Problem], *, key: Callable[[int, int], str] = posting_key,
             failed: codes.Code = codes.DISPATCH_POST_FAILED) -> None:
    """Validate a group of pickings (shipments, or arrivals of goods in) dated ``when``, each with its posting
    record (``key``); a refused group is split until the picking Odoo refuses is isolated (its rows: ``failed``)."""
    ids = [s.picking["id"] for s in group]
    keys = {s.picking["id"]: key(s.picking["id"], exchange_id) for s in group}
    ledger.start_postings(partner.code, [(keys[pid], "stock.picking.button_validate", pid) for pid in ids], exchange_id=exchange_id)
    context: dict[str, Any] = {"skip_sms": True, "skip_backorder": True, "force_period_date": when.isoformat()}
    if partner.spec.policy.backorder == "cancel":
        context["picking_ids_not_to_backorder"] = ids
    try:
        client.call_button("stock.picking", "button_validate", ids, context=context)
    except OdooError as exc:
        if exc.retryable:
            # not a refusal: an unknown outcome (the intent records settle it) or a transient failure (a long 502, a
            # serialization failure after the client's retries): the task fails, Airflow retries, the file stays
            raise
        if len(group) > 1:  # isolate the failing picking: the others still post
            middle = len(group) // 2
            for half in (group[:middle], group[middle:]):
                validate(partner, client, ledger, half, when, exchange_id, posted, issues, key=key, failed=failed)
            return
        [s] = group
        ledger.fail_posting(partner.code, keys[s.picking["id"]], error=str(exc))
        for r in s.rows:
            issues.append(failed(row=r.number, picking=s.picking["name"], odoo_message=exc.odoo_message))
        return
    ledger.complete_postings(partner.code, [(keys[pid], pid) for pid in ids])
    for s in group:
        posted.update({r.number: f"stock.picking,{s.picking['id']}" for r in s.rows})


AFTER_PREFIX = "dispatch-after:"


def after_key(picking_id: int, exchange_id: int) -> str:
    return f"{AFTER_PREFIX}{picking_id}:{exchange_id}"


def _after_validation(partner: Partner, client: OdooClient, ledger: Ledger, validated: list[Shipment], file_name: str,
                      exchange_id: int) -> None:
    """Operational dates on the day the goods left; backorders stay released to the partner; chatter notes.

    A journalled step per picking (its own posting record, ``intent`` before and ``done`` after), so any retry
    completes what a crash left undone: back-dating (set, never added) and the ledger's release are idempotent, and a
    note is written only if the picking does not carry it yet. Calls per file, not per picking: the done moves and
    their lines in one read, each date written grouped by value (or in one ``load`` when the moments are many), the
    backorder search only when some picking was not shipped in full, the notes in one create."""
    keys = {s.picking["id"]: after_key(s.picking["id"], exchange_id) for s in validated}
    started = ledger.exchange_postings(partner.code, exchange_id, prefix=AFTER_PREFIX)
    states = {pid: started.get(pid) for pid in keys}
    done = [s for s in validated if states[s.picking["id"]] != "done"]
    if not done:
        return
    ledger.start_postings(partner.code, [(keys[s.picking["id"]], "stock.picking.after_validation", s.picking["id"]) for s in done],
                          exchange_id=exchange_id)
    stamp = {s.picking["id"]: s.moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S") for s in done if s.moment}
    if partner.spec.policy.backdate_moves:
        backdate(client, stamp)
    maybe_split = [s.picking["id"] for s in done if not s.in_full] if partner.spec.policy.backorder != "cancel" else []
    backorders = client.search_read_in("stock.picking", "backorder_id", maybe_split, ["name", "backorder_id"]) if maybe_split else []
    hashes = backorder_hashes(client, [b["id"] for b in backorders])
    ledger.release_backorders(partner.code, [(b["id"], b["name"], b["backorder_id"][0], hashes[b["id"]]) for b in backorders])
    ledger.set_released_states(partner.code, [s.picking["id"] for s in done], "done")
    ledger.resolve_exceptions_of(partner=partner.code, object_type="picking", object_refs=[s.picking["name"] for s in done],
                                 codes=[codes.DISPATCH_PENDING_AT_3PL], reason=f"dispatch confirmed in {file_name}")
    text = {s.picking["id"]: f"Shipped by 3PL {partner.spec.name}: file {file_name}, rows {', '.join(str(r.number) for r in s.rows)}"
                             + (f", tracking {', '.join(s.tracking)}" if s.tracking else "") + "." for s in done}
    retried = {pid for pid in text if states[pid] is not None}  # an earlier attempt may have written these notes
    try:
        post_notes(client, "stock.picking", {pid: body for pid, body in text.items() if pid in retried})
        post_notes(client, "stock.picking", {pid: body for pid, body in text.items() if pid not in retried}, look_first=False)
    except OdooError as exc:
        if exc.retryable:
            raise  # perhaps written: the retry looks before writing again
        log.warning("chatter notes skipped: %s", exc)  # a side channel refused never fails the posting
    ledger.complete_postings(partner.code, [(keys[s.picking["id"]], s.picking["id"]) for s in done])


def backdate(client: OdooClient, stamp: dict[int, str]) -> None:
    """Done pickings, their done moves and move lines dated on the moment the goods moved (contract F4: writable
    after validation; the accounting entry is dated by ``force_period_date`` at validation)."""
    if not stamp:
        return
    client.set_values("stock.picking", "date_done", stamp)
    moves = client.search_read_in("stock.move", "picking_id", list(stamp), ["picking_id", "move_line_ids"], domain=[["state", "=", "done"]])
    client.set_values("stock.move", "date", {m["id"]: stamp[m["picking_id"][0]] for m in moves})
    client.set_values("stock.move.line", "date", {lid: stamp[m["picking_id"][0]] for m in moves for lid in m["move_line_ids"]})


def backorder_hashes(client: OdooClient, backorder_ids: list[int]) -> dict[int, str]:
    """The open lines' hash of each backorder, as the orders flow computes it at release."""
    from threepl_bridge.flows.orders import MOVE_FIELDS as ORDER_MOVE_FIELDS, lines_hash

    moves_of: dict[int, list[dict[str, Any]]] = {pid: [] for pid in backorder_ids}
    for m in client.search_read_in("stock.move", "picking_id", backorder_ids, ORDER_MOVE_FIELDS) if backorder_ids else []:
        moves_of[m["picking_id"][0]].append(m)
    return {pid: lines_hash(moves) for pid, moves in moves_of.items()}
