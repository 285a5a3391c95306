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

import json
import logging
from datetime import datetime
from decimal import Decimal
from typing import Any

from threepl_bridge import codes
from threepl_bridge.flows.dispatch_checks import check_rows, fingerprint, hold_orders
from threepl_bridge.flows.dispatch_posting import post
from threepl_bridge.flows.exchange import FileResult, Inbound, InboundKind, Processed, process_exchange
from threepl_bridge.formats.reader import ParsedRow
from threepl_bridge.ledger.repo import Ledger
from threepl_bridge.ledger.states import Outcome
from threepl_bridge.odoo.client import OdooClient
from threepl_bridge.odoo.stock_queries import StockQueries
from threepl_bridge.specs.models import Partner
from threepl_bridge.transport.sftp import SftpTransport

log = logging.getLogger(__name__)
PICKING_LEASE_WAIT = 300.0  # seconds to wait for another run posting the same order, then retry later (LeaseBusy)

__all__ = ["DISPATCHES", "fingerprint", "flag_pending", "process_dispatch_file", "row_data"]


def row_data(row: ParsedRow) -> str:
    """The row's canonical values as JSON (kept with its outcome: reconciliations and month-end read them)."""
    keep = ("order_ref", "sku", "barcode", "lot", "quantity", "uom", "shipped_at", "parcel", "tracking_ref")
    return json.dumps({k: (v.isoformat() if isinstance(v, datetime) else str(v) if isinstance(v, Decimal) else v)
                       for k, v in row.values.items() if k in keep and v is not None}, sort_keys=True)


def process(work: Inbound) -> Processed:
    """Check the valid rows against Odoo and the ledger, hold orders with a failing row, post the rest."""
    partner, ledger, exchange = work.partner, work.ledger, work.exchange
    odoo = StockQueries(work.client, partner)
    # one run at a time per order: another file posting the same order (a copy under another name, a second
    # worker) is waited for, and its posted rows are duplicates here; held until this file's rows are recorded
    refs = sorted({str(r.values["order_ref"]) for r in work.valid_rows() if r.values.get("order_ref")})
    work.held.enter_context(ledger.leases([f"picking:{partner.code}:{ref}" for ref in refs], wait=PICKING_LEASE_WAIT))
    duplicates, problems, shipments = check_rows(partner, odoo, ledger, work.valid_rows(), exchange.id)
    work.problems += problems
    held = hold_orders(partner, shipments, work.problems, work.rows)
    posted_rows, post_problems, posted_names = post(partner, work.client, ledger, held, exchange.id, exchange.remote_name, work.run_id)
    work.problems += post_problems
    by_number = {r.number: r for r in work.rows}
    outcomes: list[dict[str, Any]] = [
        {"row_number": n, "outcome": Outcome.DUPLICATE, "record_key": fingerprint(partner, by_number[n]), "message": why, "data": row_data(by_number[n])}
        for n, why in duplicates.items()
    ]
    outcomes += [{"row_number": n, "outcome": Outcome.POSTED, "record_key": fingerprint(partner, by_number[n]), "odoo_ref": ref,
                  "data": row_data(by_number[n])} for n, ref in posted_rows.items()]
    return Processed(outcomes=outcomes, result={"pickings_posted": posted_names})


DISPATCHES = InboundKind(
    name="dispatches", unreadable=codes.DISPATCH_FILE_UNREADABLE, value_unreadable=codes.DISPATCH_FIELD_INVALID, process=process,
    row_data=row_data, settled=lambda work: {"pickings_posted": []}, replay_processed=True,
)


def process_dispatch_file(
    *, partner: Partner, client: OdooClient, ledger: Ledger, transport: SftpTransport, exchange_id: int,
    now: datetime, run_id: str | None = None,
) -> FileResult:
    """The lifecycle for a dispatch file already received (see :func:`threepl_bridge.flows.exchange.handle_file`)."""
    return process_exchange(DISPATCHES, partner, exchange_id, transport=transport, ledger=ledger, client=client, now=now, run_id=run_id)


# ---------------------------------------------------------------------------------- pending at the 3PL


def flag_pending(*, partner: Partner, client: OdooClient, ledger: Ledger, now: datetime) -> list[dict[str, Any]]:
    """Released pickings with no dispatch after the partner's SLA, oldest first, as open exceptions
    (``DISPATCH_PENDING_AT_3PL``); closed when the dispatch is posted or the picking is done/cancelled in Odoo.

    Asks the ledger only about the pickings released now (which of them the 3PL named in a dispatch row) and
    updates it in one call per kind of change (raise, resolve, done), so a run costs the same whatever the
    ledger's history, and a few statements whatever the number of pickings."""
    released = ledger.released_pickings(partner.code, states=["released"])
    if not released:
        return []
    states = StockQueries(client, partner).picking_states(released)
    reported = ledger.reported_orders(partner.code, [r.picking_name for r in released.values()])  # the 3PL did report these
    sla_hours = partner.spec.policy.pending_sla_hours
    pending, closed, done = [], [], []
    messages: dict[str, str] = {}  # picking -> why it is pending
    for pid, r in released.items():
        state = states.get(pid, "cancel")
        if state in ("done", "cancel"):
            closed.append(r.picking_name)
            if state == "done":
                done.append(pid)
            continue
        age_hours = (now - r.released_at).total_seconds() / 3600
        if r.picking_name in reported:  # dispatched but held on our side: its row exceptions say why
            closed.append(r.picking_name)
            continue
        if age_hours > sla_hours:
            pending.append({"picking": r.picking_name, "released_at": r.released_at.isoformat(), "age_hours": round(age_hours, 1)})
            messages[r.picking_name] = codes.DISPATCH_PENDING_AT_3PL(value=r.picking_name, age=age_hours, sla=sla_hours).message
    if messages:
        ledger.raise_exceptions_of(partner=partner.code, code=codes.DISPATCH_PENDING_AT_3PL, object_type="picking", messages=messages, at=now)
    if closed:
        ledger.resolve_exceptions_of(partner=partner.code, object_type="picking", object_refs=closed, codes=[codes.DISPATCH_PENDING_AT_3PL],
                                     reason="the 3PL reported the dispatch")
    if done:
        ledger.set_released_states(partner.code, done, "done")
    return sorted(pending, key=lambda p: -p["age_hours"])
