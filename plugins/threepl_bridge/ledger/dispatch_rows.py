"""Dispatch rows as the pending-at-3PL check and the stock reconciliation's timing lookup ask for them: for the
window each needs, never every row a partner ever sent, so a run costs the same on a ledger of ten files and on
one of a million rows.

When a row outcome is recorded (:meth:`~threepl_bridge.ledger.exchanges.Exchanges.record_rows`),
:func:`row_columns` copies what those queries filter on out of the row's JSON ``data``: the order reference and
the ship time (UTC). :func:`settle_shipments` then marks each exception row whose shipment is posted after all -
by a retry of the same file, a replay after a fix, or another file carrying the same shipment (a corrected copy)
- with the exchange that posted it (``posted_in``). An exception row without it is a shipment Odoo does not
carry. "The same shipment" is what the dispatch fingerprint (``flows/dispatch_checks.fingerprint``) says: the same
order, SKU, lot, parcel, quantity, unit and ship time (the tracking reference and the barcode may differ).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from threepl_bridge.ledger.base import _Base
from threepl_bridge.ledger.models import Exchange, RowOutcome
from threepl_bridge.ledger.states import Outcome

KIND = "dispatches"
IN_CHUNK = 500  # values per IN (...): bounded parameter sets on every backend
SHIPMENT = ("order_ref", "sku", "lot", "parcel", "quantity", "uom", "shipped_at")  # the dispatch fingerprint's fields
# How far the ledger's clock (when a row is recorded) may run behind Odoo's (when the picking is done): see timing_rows
CLOCK_MARGIN = timedelta(days=1)


def _chunks(values: Sequence[Any], size: int = IN_CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _values(data: str | None) -> dict[str, Any]:
    if not data:
        return {}
    try:
        values = json.loads(data)
    except ValueError:
        return {}
    return values if isinstance(values, dict) else {}


def _utc(text: object) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def row_columns(data: str | None) -> dict[str, Any]:
    """The indexed columns of a row outcome, from its canonical values (JSON): order reference, ship time."""
    values = _values(data)
    ref = values.get("order_ref")
    return {"order_ref": str(ref)[:255] if ref not in (None, "") else None, "shipped_at": _utc(values.get("shipped_at"))}


def shipment(values: dict[str, Any]) -> tuple[str, ...]:
    """What makes two dispatch rows the same shipment (the fields of the dispatch fingerprint)."""
    return tuple(str(values.get(f) or "") for f in SHIPMENT)


def settle_shipments(s: Session, exchange: Exchange, rows: Iterable[dict[str, Any]]) -> int:
    """In the transaction that recorded ``rows`` (outcomes of ``exchange``): mark the exception rows of the
    exchange's partner and kind whose shipment now has a posted row - the new exception rows whose shipment was
    posted before, and the open exception rows of earlier files whose shipment one of the new posted rows posts.
    Reads only rows of the orders concerned (the order reference is indexed); returns the rows marked."""
    posted_refs, raised_refs = set(), set()
    for row in rows:
        if row.get("order_ref"):
            if row["outcome"] == Outcome.POSTED:
                posted_refs.add(row["order_ref"])
            elif row["outcome"] == Outcome.EXCEPTION:
                raised_refs.add(row["order_ref"])
    if not posted_refs and not raised_refs:
        return 0
    scope = (Exchange.partner == exchange.partner, Exchange.kind == exchange.kind)
    if posted_refs:  # only orders with an exception row still open can be settled (few: the ones operators still owe)
        open_refs = set(s.scalars(
            select(RowOutcome.order_ref).distinct().join(Exchange, Exchange.id == RowOutcome.exchange_id)
            .where(RowOutcome.outcome == Outcome.EXCEPTION.value, RowOutcome.posted_in.is_(None), RowOutcome.order_ref.is_not(None), *scope)
        ))
        posted_refs &= open_refs
    marked = 0
    for chunk in _chunks(sorted(posted_refs | raised_refs)):
        found = s.execute(
            select(RowOutcome.id, RowOutcome.outcome, RowOutcome.exchange_id, RowOutcome.data)
            .join(Exchange, Exchange.id == RowOutcome.exchange_id)
            .where(RowOutcome.order_ref.in_(chunk), *scope,
                   or_(RowOutcome.outcome == Outcome.POSTED.value,
                       and_(RowOutcome.outcome == Outcome.EXCEPTION.value, RowOutcome.posted_in.is_(None))))
            .order_by(RowOutcome.id)
        ).all()
        posted_by: dict[tuple[str, ...], int] = {}
        for _, outcome, eid, data in found:
            if outcome == Outcome.POSTED:
                posted_by.setdefault(shipment(_values(data)), eid)  # the first exchange that posted it
        settled = [{"id": rid, "posted_in": posted_by[key]} for rid, outcome, _, data in found
                   if outcome == Outcome.EXCEPTION and (key := shipment(_values(data))) in posted_by]
        if settled:
            s.execute(update(RowOutcome), settled)
            marked += len(settled)
    return marked


def _row(eid: int, number: int, outcome: str, code: str, ref: str | None, name: str, data: str | None) -> dict[str, object]:
    return {"exchange_id": eid, "row": number, "outcome": outcome, "code": code, "odoo_ref": ref, "file": name, "data": _values(data)}


class DispatchRows(_Base):
    def dispatch_rows(self, partner: str) -> list[dict[str, object]]:
        """Every row of every dispatch file with its final outcome and canonical values (a full scan: for tests,
        tools and reports over all of history; the flows' runs use the window queries below)."""
        with self.session() as s:
            query = (
                select(RowOutcome.exchange_id, RowOutcome.row_number, RowOutcome.outcome, RowOutcome.code, RowOutcome.data,
                       RowOutcome.odoo_ref, Exchange.remote_name)
                .join(Exchange, Exchange.id == RowOutcome.exchange_id)
                .where(Exchange.partner == partner, Exchange.kind == KIND)
                .order_by(RowOutcome.exchange_id, RowOutcome.row_number, RowOutcome.id)
            )
            rows: dict[tuple[int, int], dict[str, object]] = {}
            for eid, number, outcome, code, data, ref, name in s.execute(query):
                current = rows.get((eid, number))
                if current is None or outcome == Outcome.POSTED:
                    rows[(eid, number)] = _row(eid, number, outcome, code, ref, name, data)
            return list(rows.values())

    def reported_orders(self, partner: str, refs: Iterable[str]) -> set[str]:
        """Which of ``refs`` (e.g. the pickings released to the partner) the 3PL named in a dispatch row, whatever
        became of the row: one indexed query per 500 references, whatever the history."""
        found: set[str] = set()
        with self.session() as s:
            for chunk in _chunks(sorted(set(refs))):
                found.update(s.scalars(
                    select(RowOutcome.order_ref).distinct().join(Exchange, Exchange.id == RowOutcome.exchange_id)
                    .where(RowOutcome.order_ref.in_(chunk), Exchange.partner == partner, Exchange.kind == KIND)
                ))
        return found

    def timing_rows(self, partner: str, as_of: datetime, *, margin: timedelta = CLOCK_MARGIN) -> list[dict[str, object]]:
        """The dispatch rows that can explain a difference between the 3PL's count at ``as_of`` (T) and Odoo at T,
        in the shape and order of :meth:`dispatch_rows` (file, then row):

        - exception rows shipped at or before T whose shipment no file has posted since (``posted_in`` empty; a
          posted outcome of the same row, or of the same shipment in a later file or arrival, wins), one per row
          of a file (its first exception);
        - posted rows shipped at or before T and recorded in the ledger at or after T minus ``margin``.

        Why the second window is sound: a posted row explains a difference only if Odoo did its picking after T
        (``date_done > T``, asked of Odoo by the caller). The picking is validated before the row is recorded, so
        ``date_done`` (Odoo's clock) is never later than the row's ``created_at`` (the ledger's clock) plus the
        skew between the two clocks; a row recorded before T minus ``margin`` therefore had its picking done
        before T and explains nothing, as long as the ledger's clock is not ``margin`` (a day) behind Odoo's.
        Both windows hold what is recent or still open, not history: two indexed queries.
        """
        cols = (RowOutcome.exchange_id, RowOutcome.row_number, RowOutcome.outcome, RowOutcome.code, RowOutcome.odoo_ref,
                Exchange.remote_name, RowOutcome.data)
        mine = (Exchange.partner == partner, Exchange.kind == KIND, RowOutcome.shipped_at <= as_of)
        rows: dict[tuple[int, int], dict[str, object]] = {}
        with self.session() as s:
            unposted = s.execute(
                select(*cols).join(Exchange, Exchange.id == RowOutcome.exchange_id)
                .where(RowOutcome.outcome == Outcome.EXCEPTION.value, RowOutcome.posted_in.is_(None), *mine)
                .order_by(RowOutcome.exchange_id, RowOutcome.row_number, RowOutcome.id)
            )
            for eid, number, *rest in unposted:
                rows.setdefault((eid, number), _row(eid, number, *rest))
            posted = s.execute(
                select(*cols).join(Exchange, Exchange.id == RowOutcome.exchange_id)
                .where(RowOutcome.outcome == Outcome.POSTED.value, RowOutcome.created_at >= as_of - margin, *mine)
            )
            for eid, number, *rest in posted:
                rows[(eid, number)] = _row(eid, number, *rest)
        return [rows[k] for k in sorted(rows)]
