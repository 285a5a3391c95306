"""Reconciliations: a partner's stock snapshot compared with Odoo, line by (SKU, lot), with approvals.

A reconciliation's state is derived from its lines (:meth:`Reconciliations.refresh_reconciliation_state`) and
follows :data:`~threepl_bridge.ledger.states.RECONCILIATION_TRANSITIONS`; a line's approval follows
:data:`~threepl_bridge.ledger.states.APPROVAL_TRANSITIONS`.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from decimal import Decimal

from sqlalchemy import and_, func, insert, or_, select
from sqlalchemy.exc import IntegrityError

from threepl_bridge.ledger.base import _Base
from threepl_bridge.ledger.errors import UnknownRecord
from threepl_bridge.ledger.models import Exchange, Posting, Reconciliation, ReconciliationLine, RecordException, RowOutcome
from threepl_bridge.ledger.states import (
    ApprovalState,
    ReconciliationState,
    check_approval_transition,
    check_reconciliation_transition,
)

ADJUSTABLE = (ApprovalState.AUTO.value, ApprovalState.APPROVED.value)  # lines whose variance is posted to Odoo


def derived_state(lines: list[ReconciliationLine]) -> ReconciliationState:
    """A reconciliation's state from its lines: waiting for an operator, posting, posted, or nothing to do."""
    if any(l.approval == ApprovalState.PENDING for l in lines):
        return ReconciliationState.AWAITING_APPROVAL
    adjustable = [l for l in lines if l.variance_qty != 0 and l.approval in ADJUSTABLE]
    if adjustable:
        return ReconciliationState.POSTED if all(l.posting_id for l in adjustable) else ReconciliationState.POSTING
    return ReconciliationState.RECONCILED


def _months(last: datetime | date, n: int) -> list[str]:
    y, m = last.year, last.month
    out = []
    for _ in range(n):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return out[::-1]


class Reconciliations(_Base):
    def monthly_trend(self, partner: str, month: date, months: int = 12) -> list[tuple[str, Decimal, int]]:
        """The ``months`` months up to ``month``: (YYYY-MM, variance value posted to Odoo from the month's stock
        counts, exceptions raised in the month: record exceptions first seen and file rows not taken)."""
        names = _months(month, months)
        value = dict.fromkeys(names, Decimal(0))
        count = dict.fromkeys(names, 0)
        start = datetime(int(names[0][:4]), int(names[0][5:]), 1, tzinfo=timezone.utc)
        with self.session() as s:
            for as_of, v in s.execute(select(Reconciliation.as_of, ReconciliationLine.variance_value).join(Reconciliation)
                                      .where(Reconciliation.partner == partner, Reconciliation.as_of >= start,
                                             ReconciliationLine.posting_id.is_not(None))):
                if f"{as_of:%Y-%m}" in value:
                    value[f"{as_of:%Y-%m}"] += v
            for seen, in s.execute(select(RecordException.first_seen_at).where(RecordException.partner == partner,
                                                                              RecordException.first_seen_at >= start)):
                if f"{seen:%Y-%m}" in count:
                    count[f"{seen:%Y-%m}"] += 1
            for created, n in s.execute(select(Exchange.created_at, func.count(RowOutcome.id)).join(RowOutcome, RowOutcome.exchange_id == Exchange.id)
                                        .where(Exchange.partner == partner, Exchange.created_at >= start, RowOutcome.outcome == "exception")
                                        .group_by(Exchange.id, Exchange.created_at)):
                if f"{created:%Y-%m}" in count:
                    count[f"{created:%Y-%m}"] += int(n)
        return [(m, value[m], count[m]) for m in names]


    # ----------------------------------------------------------------------------------------- reads

    def reconciliation_for(self, partner: str, exchange_id: int) -> int | None:
        with self.session() as s:
            return s.scalar(select(Reconciliation.id).filter_by(partner=partner, exchange_id=exchange_id))

    def reconciliation(self, recon_id: int) -> Reconciliation:
        with self.session() as s:
            found = s.get(Reconciliation, recon_id)
            if found is None:
                raise UnknownRecord("reconciliation", recon_id)
            return found

    def reconciliations(self, partner: str | None = None) -> list[Reconciliation]:
        with self.session() as s:
            query = select(Reconciliation).order_by(Reconciliation.as_of, Reconciliation.id)
            if partner:
                query = query.filter_by(partner=partner)
            return list(s.scalars(query))

    def reconciliation_lines(self, recon_id: int) -> list[ReconciliationLine]:
        with self.session() as s:
            return list(s.scalars(select(ReconciliationLine).filter_by(reconciliation_id=recon_id)
                                  .order_by(ReconciliationLine.sku, ReconciliationLine.lot)))

    def reconciliation_counts(self, recon_id: int) -> dict[str, int]:
        """Lines per classification; plain matches are counted, not stored one by one."""
        counts: dict[str, int] = {}
        for line in self.reconciliation_lines(recon_id):
            counts[line.classification] = counts.get(line.classification, 0) + 1
        matches = int(json.loads(self.reconciliation(recon_id).details or "{}").get("matches", 0))
        if matches:
            counts["match"] = counts.get("match", 0) + matches
        return dict(sorted(counts.items()))

    def reconciliation_unknown_rows(self, recon_id: int) -> dict[int, str]:
        details = json.loads(self.reconciliation(recon_id).details or "{}")
        return {int(k): v for k, v in details.get("unknown_rows", {}).items()}

    def adjustments_not_posted_by(self, partner: str, as_of: datetime, *, exclude_exchange: int | None = None
                                  ) -> list[tuple[Reconciliation, ReconciliationLine]]:
        """Adjustable lines of the partner's reconciliations counted at or before ``as_of`` whose posting was not
        completed before ``as_of`` (not posted yet, or posted after it), with their reconciliation; the 3PL's own
        adjustments (``adjusted``) also while they wait for approval: the goods did change at the 3PL."""
        with self.session() as s:
            query = (select(Reconciliation, ReconciliationLine)
                     .join(ReconciliationLine, ReconciliationLine.reconciliation_id == Reconciliation.id)
                     .outerjoin(Posting, Posting.id == ReconciliationLine.posting_id)
                     .where(Reconciliation.partner == partner, Reconciliation.as_of <= as_of,
                            or_(ReconciliationLine.approval.in_(ADJUSTABLE),  # the 3PL did adjust: pending is still physical
                                and_(ReconciliationLine.classification == "adjusted", ReconciliationLine.approval == ApprovalState.PENDING.value)),
                            ReconciliationLine.variance_qty != 0,
                            ReconciliationLine.product_id.is_not(None),
                            or_(ReconciliationLine.posting_id.is_(None), Posting.completed_at.is_(None), Posting.completed_at > as_of))
                     .order_by(Reconciliation.id, ReconciliationLine.sku, ReconciliationLine.lot))
            if exclude_exchange is not None:
                query = query.where(Reconciliation.exchange_id != exclude_exchange)
            return [(recon, line) for recon, line in s.execute(query)]

    def reconciliation_lot_missing_rows(self, recon_id: int) -> dict[int, tuple[str, str, str]]:
        """Row number -> (SKU, tracking) of the rows that counted a lot-tracked product without a lot (STOCK_LOT_MISSING)."""
        details = json.loads(self.reconciliation(recon_id).details or "{}")
        return {int(k): (v[0], v[1], v[2] if len(v) > 2 else "") for k, v in details.get("lot_missing", {}).items()}

    # ---------------------------------------------------------------------------------------- writes

    def store_reconciliation(self, *, partner: str, exchange_id: int, as_of: datetime, currency: str, lines: list[dict[str, object]],
                             variance_value: Decimal, data_quality: list[dict[str, object]], unknown_rows: dict[int, str],
                             matches: int = 0, lot_missing: dict[int, tuple[str, str, str]] | None = None) -> int:
        """Store a reconciliation and its lines in one transaction; storing it again returns the first one."""
        try:
            with self.session() as s:
                recon = Reconciliation(partner=partner, exchange_id=exchange_id, as_of=as_of, currency=currency,
                                       state=ReconciliationState.RECONCILED.value, variance_value=variance_value,
                                       details=json.dumps({"data_quality": data_quality, "unknown_rows": unknown_rows, "matches": matches,
                                                           "lot_missing": lot_missing or {}},
                                                          sort_keys=True, default=str))
                s.add(recon)
                s.flush()
                if lines:  # bulk insert: a snapshot can hold a million (SKU, lot) lines
                    s.execute(insert(ReconciliationLine), [{**line, "reconciliation_id": recon.id} for line in lines])
                return recon.id
        except IntegrityError:
            found = self.reconciliation_for(partner, exchange_id)
            if found is None:
                raise
            return found

    def approve_lines(self, recon_id: int, keys: list[str] | None, approver: str) -> int:
        """Approve pending (or rejected) lines given as ``SKU`` or ``SKU|LOT`` (None: every pending line)."""
        return len(self._decide(recon_id, keys, approver, ApprovalState.APPROVED))

    def reject_lines(self, recon_id: int, keys: list[str] | None, by: str) -> list[ReconciliationLine]:
        """Reject pending lines (``SKU`` or ``SKU|LOT``; None: every pending line): never adjusted unless approved later."""
        return self._decide(recon_id, keys, by, ApprovalState.REJECTED)

    def _decide(self, recon_id: int, keys: list[str] | None, by: str, to: ApprovalState) -> list[ReconciliationLine]:
        wanted = None if keys is None else {k if "|" in k else f"{k}|" for k in keys}
        states = [ApprovalState.PENDING.value] + ([ApprovalState.REJECTED.value] if to == ApprovalState.APPROVED and keys is not None else [])
        decided = []
        with self.session() as s:
            query = select(ReconciliationLine).where(ReconciliationLine.reconciliation_id == recon_id, ReconciliationLine.approval.in_(states))
            for line in list(s.scalars(query)):
                if wanted is None or f"{line.sku}|{line.lot}" in wanted or (f"{line.sku}|" in wanted and not line.lot):
                    check_approval_transition(f"reconciliation {recon_id} line {line.sku}|{line.lot}", line.approval, to)
                    line.approval, line.approved_by = to.value, by
                    decided.append(line)
            s.flush()
            s.expunge_all()
        return decided

    def set_line_posted(self, line_id: int, idem_key: str) -> None:
        with self.session() as s:
            line = s.get(ReconciliationLine, line_id)
            if line is None:
                raise UnknownRecord("reconciliation line", line_id)
            line.posting_id = s.scalar(select(Posting.id).filter_by(idem_key=idem_key))

    def refresh_reconciliation_state(self, recon_id: int) -> str:
        with self.session() as s:
            recon = s.get(Reconciliation, recon_id)
            if recon is None:
                raise UnknownRecord("reconciliation", recon_id)
            state = derived_state(list(s.scalars(select(ReconciliationLine).filter_by(reconciliation_id=recon_id))))
            check_reconciliation_transition(f"reconciliation {recon_id}", recon.state, state)
            recon.state = state.value
            return recon.state
