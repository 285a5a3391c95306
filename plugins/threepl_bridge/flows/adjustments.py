"""Stock adjustments from a reconciliation: the true variances, posted once each, dated on the count's day.

Each adjustment goes through ``stock.quant.inventory_quantity_auto_apply`` with ``accounting_date`` = the count's
date in the company's calendar (contract F6; never by writing ``quantity``), as a write-ahead posting keyed by
reconciliation and (SKU, lot), so re-posting a reconciliation never adjusts twice.

Exactly once, whatever fails: the inventory move Odoo makes is named after the line (``inventory_name`` sets the
move's ``reference``, contract F6), so before a line with an earlier posting record (``intent`` or ``failed``) is
applied, Odoo is asked how much of it its moves already carry, and only the rest is applied. A retryable error
(network, 5xx, serialization; ambiguous or not) leaves the posting in ``intent`` and propagates: the task retries,
and a later stock run posts what earlier reconciliations left unposted (:func:`post_outstanding`). A refusal
(access, business rule) is ``STOCK_ADJUSTMENT_FAILED``; approving the line again posts it once.

A snapshot counts the 3PL's stock as a whole, and a partner may run several warehouses: a shortfall is taken
from the warehouses that hold the product (in the order the spec names them, none taken below zero while
another still holds some), and a surplus is added where the product already is (else in the first warehouse).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from threepl_bridge import codes
from threepl_bridge.errors import BadRequest
from threepl_bridge.ledger.models import Reconciliation, ReconciliationLine
from threepl_bridge.ledger.reconciliations import ADJUSTABLE
from threepl_bridge.ledger.repo import Ledger
from threepl_bridge.ledger.states import PostingState, ReconciliationState
from threepl_bridge.odoo.client import OdooClient
from threepl_bridge.odoo.errors import OdooError
from threepl_bridge.odoo.stock_queries import StockQueries
from threepl_bridge.specs.models import Partner

Key = tuple[str, str]
ADJUST_LEASE_WAIT = 300.0  # seconds to wait for another run posting the same reconciliation (then LeaseBusy: retry later)
ROUNDING = Decimal("0.005")  # below Odoo's default quantity precision (0.01): what an applied move's rounding leaves


def move_name(recon_id: int, sku: str, lot: str) -> str:
    """The name (and so the reference) of the inventory move that adjusts one line in Odoo."""
    return f"3PL count R{recon_id} {sku}{' ' + lot if lot else ''}"


def post_adjustments(partner: Partner, client: OdooClient, ledger: Ledger, recon_id: int, *, approved_only: bool = False,
                     refused: bool = True) -> int:
    """Post the reconciliation's adjustable lines (auto-approved, and approved by an operator; only the latter with
    ``approved_only``; lines Odoo refused before only with ``refused``); returns how many were posted now. Holds
    the reconciliation's lease: two runs (a stock file and an approval, two workers) never post its lines at once."""
    with ledger.lease(f"adjust:{partner.code}:{recon_id}", wait=ADJUST_LEASE_WAIT):
        return _post_adjustments(partner, client, ledger, recon_id, approved_only=approved_only, refused=refused)


def _post_adjustments(partner: Partner, client: OdooClient, ledger: Ledger, recon_id: int, *, approved_only: bool, refused: bool) -> int:
    recon = ledger.reconciliation(recon_id)
    wanted = ("approved",) if approved_only else ADJUSTABLE
    lines = [l for l in ledger.reconciliation_lines(recon_id) if l.approval in wanted and l.variance_qty != 0 and l.product_id and not l.posting_id]
    if not lines:
        ledger.refresh_reconciliation_state(recon_id)
        return 0
    odoo = StockQueries(client, partner)
    accounting_date = recon.as_of.astimezone(partner.spec.company_tz).date().isoformat()
    posted = 0
    try:
        for line in lines:
            posted += _post_line(partner, odoo, ledger, recon, line, accounting_date, refused=refused)
    finally:
        ledger.refresh_reconciliation_state(recon_id)
    return posted


def _post_line(partner: Partner, odoo: StockQueries, ledger: Ledger, recon: Reconciliation, line: ReconciliationLine, accounting_date: str,
               *, refused: bool) -> bool:
    key = f"adjust:{recon.id}:{line.sku}:{line.lot}"
    name = move_name(recon.id, line.sku, line.lot)
    ref = f"R{recon.id} {line.sku} {line.lot}".strip()
    state = ledger.posting_state(partner.code, key)
    if state == PostingState.DONE:
        ledger.set_line_posted(line.id, key)
        return False
    if state == PostingState.FAILED and not refused:
        return False
    rest = line.variance_qty
    if state is not None:  # an earlier attempt may have reached Odoo (a lost reply, a partial spread): ask first
        done = applied(odoo, [name]).get(name, Decimal(0))
        rest -= done
        if done and abs(rest) < ROUNDING:  # Odoo rounds quantities to the unit's precision
            rest = Decimal(0)
    ledger.start_postings(partner.code, [(key, "stock.quant.inventory_quantity_auto_apply", line.product_id)], exchange_id=recon.exchange_id)
    quant_id = None
    if rest and (rest > 0) != (line.variance_qty > 0):
        message = (f"Odoo's inventory moves named {name!r} already carry {format(line.variance_qty - rest, 'f')}, more than the "
                   f"line's variance {format(line.variance_qty, 'f')}; nothing more is applied")
        _refused(partner, ledger, key, ref, line, message)
        return False
    if rest:
        try:
            quant_id = _apply(odoo, line, rest, accounting_date, name)
        except OdooError as exc:
            if exc.retryable:  # the outcome is unknown or nothing was done: the posting stays in intent, the task retries
                raise
            _refused(partner, ledger, key, ref, line, exc.odoo_message)
            return False
    ledger.complete_postings(partner.code, [(key, quant_id)])
    ledger.set_line_posted(line.id, key)
    ledger.resolve_exceptions(partner=partner.code, object_type="reconciliation_line", object_ref=ref, codes=[codes.STOCK_ADJUSTMENT_FAILED.code],
                              reason="the adjustment was posted")
    return True


def _refused(partner: Partner, ledger: Ledger, key: str, ref: str, line: ReconciliationLine, message: str) -> None:
    ledger.fail_posting(partner.code, key, error=message)
    problem = codes.STOCK_ADJUSTMENT_FAILED(field="variance_qty", value=line.variance_qty, odoo_message=message)
    ledger.raise_exception(partner=partner.code, code=problem.code, object_type="reconciliation_line", object_ref=ref, message=problem.message)


def applied(odoo: StockQueries, names: Iterable[str], *, until: datetime | None = None) -> dict[str, Decimal]:
    """Move name -> the quantity Odoo's done inventory moves of that name put into (+) or took out of (-) the
    partner's stock (product unit), only those dated up to ``until`` if given."""
    names = sorted(set(names))
    out: dict[str, Decimal] = defaultdict(Decimal)
    if not names:
        return out
    inside = set(odoo.stock_locations)
    stamp = until.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S") if until else None
    domain = [["reference", "in", names], ["is_inventory", "=", True], ["state", "=", "done"]]
    for move in odoo.client.search_read_all("stock.move", domain, ["reference", "product_qty", "location_dest_id", "date"]):
        if stamp is None or move["date"] <= stamp:
            qty = Decimal(str(move["product_qty"]))
            out[move["reference"]] += qty if move["location_dest_id"][0] in inside else -qty
    return out


def post_outstanding(partner: Partner, client: OdooClient, ledger: Ledger, *, exclude_exchange: int | None = None) -> int:
    """Post the adjustable lines that a transient failure left unposted in the partner's earlier reconciliations
    (no posting yet, or one left in ``intent``: Odoo is asked first); lines Odoo refused wait for a re-approval.
    Idempotent: a line posted is skipped. Returns how many were posted now."""
    waiting = (ReconciliationState.POSTING, ReconciliationState.AWAITING_APPROVAL)
    return sum(post_adjustments(partner, client, ledger, r.id, refused=False) for r in ledger.reconciliations(partner.code)
               if r.state in waiting and r.exchange_id != exclude_exchange)


def not_in_odoo_at(partner: Partner, odoo: StockQueries, ledger: Ledger, as_of: datetime, *, exclude_exchange: int
                   ) -> tuple[dict[Key, Decimal], dict[Key, str]]:
    """Adjustments of counts taken at or before ``as_of`` that Odoo's stock at ``as_of`` does not carry (not posted
    yet, refused and waiting for a re-approval, or posted after ``as_of``): a count at ``as_of`` that finds the same
    difference is timing, never a second write-off. (SKU, lot) -> quantity, and why."""
    lines = ledger.adjustments_not_posted_by(partner.code, as_of, exclude_exchange=exclude_exchange)
    moved = applied(odoo, [move_name(r.id, l.sku, l.lot) for r, l in lines], until=as_of)
    qty: dict[Key, Decimal] = defaultdict(Decimal)
    why: dict[Key, list[str]] = defaultdict(list)
    for recon, line in lines:
        rest = line.variance_qty - moved.get(move_name(recon.id, line.sku, line.lot), Decimal(0))
        if rest:
            qty[(line.sku, line.lot)] += rest
            what = "the 3PL's adjustment" if line.classification == "adjusted" else "count"
            why[(line.sku, line.lot)].append(f"{format(rest, 'f')} adjusted by R{recon.id} ({what} of {recon.as_of:%Y-%m-%d %H:%M} UTC"
                                             f"{', waiting for approval' if line.approval == 'pending' else ''}), not in Odoo at this count")
    return dict(qty), {k: "; ".join(v) for k, v in why.items()}


def _apply(odoo: StockQueries, line: ReconciliationLine, variance: Decimal, accounting_date: str, name: str) -> int:
    """Set the quants' inventory_quantity_auto_apply = today's quantity + ``variance`` (contract F6 recipe B/C),
    spread over the partner's warehouses as the module says; returns the last quant written."""
    client = odoo.client
    ctx = {"inventory_mode": True, "inventory_name": name}
    lot_id: int | bool = False
    if line.lot:
        lots = client.execute("stock.lot", "search", [["name", "=", line.lot], ["product_id", "=", line.product_id]], limit=1)
        lot_id = lots[0] if lots else client.load_create("stock.lot", [{"name": line.lot, "product_id": line.product_id}])[0]
    quants = odoo.quants(line.product_id, lot_id)
    changes = _spread(variance, [(q["id"], Decimal(str(q["quantity"]))) for q in quants])
    written = 0
    for quant_id, target in changes:
        client.execute("stock.quant", "write", [quant_id], {"inventory_quantity_auto_apply": float(target), "accounting_date": accounting_date}, context=ctx)
        written = quant_id
    if written:
        return written
    values: dict[str, Any] = {"product_id": line.product_id, "location_id": odoo.stock_roots[0], "inventory_quantity_auto_apply": float(variance),
                              "accounting_date": accounting_date}
    if lot_id:
        values["lot_id"] = lot_id
    return int(client.execute("stock.quant", "create", values, context=ctx))


def _spread(variance: Decimal, quants: list[tuple[int, Decimal]]) -> list[tuple[int, Decimal]]:
    """(quant, new quantity) for each quant to change. A surplus goes to the first quant; a shortfall is taken
    from the quants in order, none below zero while a later one still holds stock (the last takes the rest)."""
    if not quants:
        return []
    if variance >= 0:
        quant_id, qty = quants[0]
        return [(quant_id, qty + variance)]
    need = -variance
    out = []
    holding = [(qid, qty) for qid, qty in quants if qty > 0] or [quants[0]]
    for n, (quant_id, qty) in enumerate(holding):
        take = need if n == len(holding) - 1 else min(need, qty)
        if take:
            out.append((quant_id, qty - take))
            need -= take
        if not need:
            break
    return out


def approve(partner: Partner, client: OdooClient, ledger: Ledger, recon_id: int, keys: list[str] | None, approver: str) -> int:
    """An operator approves pending lines (``SKU`` or ``SKU|LOT``; None = all pending) and they are posted, with the
    reconciliation's other adjustable lines not posted yet (one Odoo refused before, say; each is applied once)."""
    recon = ledger.reconciliation(recon_id)
    if recon.partner != partner.code:
        raise BadRequest(f"reconciliation {recon_id} belongs to {recon.partner}, not {partner.code}")
    ledger.approve_lines(recon_id, keys, approver)
    # a line finance rejected earlier and approves now (the form or params) is no longer an open rejection
    ledger.resolve_exceptions_of(partner=partner.code, object_type="reconciliation_line", codes=[codes.STOCK_VARIANCE_REJECTED],
                                 object_refs=[rejected_ref(recon_id, l) for l in ledger.reconciliation_lines(recon_id) if l.approval == "approved"],
                                 reason=f"approved by {approver}")
    return post_adjustments(partner, client, ledger, recon_id)


# ------------------------------------------------------------------------------------------ finance decides

def rejected_ref(recon_id: int, line: ReconciliationLine) -> str:
    """The object reference of a line's STOCK_VARIANCE_REJECTED exception."""
    return f"R{recon_id} {line.sku}|{line.lot}"


def option(recon: Reconciliation, line: ReconciliationLine) -> str:
    """A pending line as an approval option: ``R12 FURN_7800|LOT-A: -10 units, -3000.00 USD`` (parsed back by
    :func:`option_key`, so a decision needs no state kept between asking and acting)."""
    key = f"{line.sku}|{line.lot}" if line.lot else line.sku
    return f"R{recon.id} {key}: {line.variance_qty.normalize():+f} units, {line.variance_value:+.2f} {recon.currency or ''}".rstrip()


def option_key(label: str) -> tuple[int, str] | None:
    """(reconciliation id, ``SKU`` or ``SKU|LOT``) of an option; None for a label that names no line."""
    head, _, _ = label.partition(": ")
    recon, _, key = head.partition(" ")
    return (int(recon[1:]), key) if recon.startswith("R") and recon[1:].isdigit() and key else None


def pending_options(ledger: Ledger, recon_ids: Iterable[int]) -> list[str]:
    return [option(ledger.reconciliation(r), line) for r in sorted(set(recon_ids))
            for line in ledger.reconciliation_lines(r) if line.approval == "pending"]


def decide(partner: Partner, client: OdooClient, ledger: Ledger, approved: list[str], rejected: list[str], by: str) -> dict[str, int]:
    """Finance's decision on options: the approved lines are posted once (write-ahead, :func:`approve`); the rejected
    ones are not adjusted and stay open as ``STOCK_VARIANCE_REJECTED`` until approved later."""
    by_recon: dict[int, tuple[list[str], list[str]]] = defaultdict(lambda: ([], []))
    for labels, slot in ((approved, 0), (rejected, 1)):
        for label in labels:
            found = option_key(label)
            if found:
                by_recon[found[0]][slot].append(found[1])
    posted = refused = 0
    for recon_id, (yes, no) in sorted(by_recon.items()):
        recon = ledger.reconciliation(recon_id)
        if no:
            messages = {rejected_ref(recon_id, l): codes.STOCK_VARIANCE_REJECTED(
                value=recon_id, count=f"{l.sku}{' ' + l.lot if l.lot else ''} {l.threepl_qty}", variance=f"{l.variance_qty:+f}",
                amount=f"{l.variance_value:+.2f} {recon.currency or ''}".strip(), by=by).message for l in ledger.reject_lines(recon_id, no, by)}
            ledger.raise_exceptions_of(partner=partner.code, code=codes.STOCK_VARIANCE_REJECTED, object_type="reconciliation_line", messages=messages)
            refused += len(messages)
        if yes:
            posted += approve(partner, client, ledger, recon_id, yes, by)
    return {"posted": posted, "rejected": refused}
