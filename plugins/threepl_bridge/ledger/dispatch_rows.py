"""Dispatch rows as the pending-at-3PL check and the stock reconciliation's timing lookup ask for them: for the
window each needs, never every row a partner ever sent, so a run costs the same on a ledger of ten files and on
one of a million rows.

When a row outcome is recorded (:meth:`~threepl_bridge.ledger.exchanges.Exchanges.record_rows`),
:func:`row_columns` copies what those queries filter on out of the row's JSON ``data``: the order reference and
the ship time (UTC), and settles the row in its own exchange (``settled_in``) - unless it is an exception row of a
shipment (it has an order reference or a ship time): that one stays open until :func:`settle_shipments` finds its
shipment posted - by a retry of the same file, a replay after a fix, or another file carrying the same shipment
(a corrected copy) - and settles it in the exchange that posted it. An open row is a shipment Odoo does not carry.
"The same shipment" is what the dispatch fingerprint (``flows/dispatch_checks.fingerprint``) says: the same
order, SKU, lot, parcel, quantity, unit and ship time (the tracking reference and the barcode may differ).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from threepl_bridge.ledger.base import _Base
from threepl_bridge.ledger.models import Exchange, RowOutcome
from threepl_bridge.ledger.states import Outcome

KIND = "dispatches"
IN_CHUNK = 500  # values per IN (...): bounded parameter sets on every backend
SHIPMENT = ("order_ref", "sku", "lot", "parcel", "quantity", "uom", "shipped_at")  # the dispatch fingerprint's fields
# How far the ledger's clock (when a row is recorded) may run behind Odoo's (when the picking is done): see timing_rows
CLOCK_MARGIN = timedelta(days=1)


def _of(partner: str, kind: str = KIND) -> tuple[Any, ...]:
    """The row is of a file of ``partner`` and ``kind``: the row's own copies of its exchange's, so a query reads one
    table from the row's own index (joined with the exchanges, SQLite - no statistics - starts from the partner's
    files, every row of its history, and PostgreSQL hashes every file of the partner)."""
    return (RowOutcome.partner == partner, RowOutcome.kind == kind)


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


@lru_cache(maxsize=4096)  # a file of one line repeated (every row a duplicate) parses it once
def _parsed(data: str) -> tuple[str | None, datetime | None]:
    values = _values(data)
    ref = values.get("order_ref")
    return (str(ref)[:255] if ref not in (None, "") else None), _utc(values.get("shipped_at"))


def row_columns(data: str | None, outcome: str, exchange: Exchange) -> dict[str, Any]:
    """The window columns of a row outcome of ``exchange``: its partner and kind, order reference and ship time
    from its canonical values (JSON), and the exchange that settles it (its own; none yet for an exception row of
    a shipment)."""
    ref, shipped = _parsed(data) if data else (None, None)
    shipment_open = outcome == Outcome.EXCEPTION and (ref is not None or shipped is not None)
    return {"partner": exchange.partner, "kind": exchange.kind, "order_ref": ref, "shipped_at": shipped,
            "settled_in": None if shipment_open else exchange.id}


def shipment(values: dict[str, Any]) -> tuple[str, ...]:
    """What makes two dispatch rows the same shipment (the fields of the dispatch fingerprint)."""
    return tuple(str(values.get(f) or "") for f in SHIPMENT)


def settle_shipments(s: Session, exchange: Exchange, rows: Iterable[dict[str, Any]]) -> int:
    """In the transaction that recorded ``rows`` (outcomes of ``exchange``): settle the open exception rows of the
    exchange's partner and kind whose shipment now has a posted row - new exception rows whose shipment was posted
    before, and open rows of earlier files whose shipment one of the new posted rows posts - in the exchange that
    posted it first. Reads only open rows and rows of the orders concerned; returns the rows settled."""
    posted_refs, raised_refs = set(), set()
    for row in rows:
        if row.get("order_ref"):
            if row["outcome"] == Outcome.POSTED:
                posted_refs.add(row["order_ref"])
            elif row["outcome"] == Outcome.EXCEPTION:
                raised_refs.add(row["order_ref"])
    if not posted_refs and not raised_refs:
        return 0
    scope = _of(exchange.partner, exchange.kind)
    if posted_refs:  # only orders with an exception row still open can be settled (few: the ones operators still owe)
        open_refs = set(s.scalars(
            select(RowOutcome.order_ref).distinct()
            .where(RowOutcome.settled_in.is_(None), RowOutcome.order_ref.is_not(None), *scope)
        ))
        posted_refs &= open_refs
    marked = 0
    for chunk in _chunks(sorted(posted_refs | raised_refs)):
        # every row of these orders, sorted out here: a condition on the outcome in SQL lets SQLite read the
        # (outcome, created_at) index instead, every posted row of the ledger
        found = s.execute(
            select(RowOutcome.id, RowOutcome.outcome, RowOutcome.exchange_id, RowOutcome.settled_in, RowOutcome.data)
            .where(RowOutcome.order_ref.in_(chunk), *scope).order_by(RowOutcome.id)
        ).all()
        posted_by: dict[tuple[str, ...], int] = {}
        for _, outcome, eid, _, data in found:
            if outcome == Outcome.POSTED:
                posted_by.setdefault(shipment(_values(data)), eid)  # the first exchange that posted it
        settled = [{"rid": rid, "by": posted_by[key]} for rid, outcome, _, by, data in found
                   if outcome == Outcome.EXCEPTION and by is None and (key := shipment(_values(data))) in posted_by]
        if settled:  # one executemany (the ORM's update by primary key runs one statement per row on SQLite)
            table = RowOutcome.__table__
            s.execute(update(table).where(table.c.id == bindparam("rid")).values(settled_in=bindparam("by")), settled)
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

    def open_shipment_rows(self, partner: str | None = None, limit: int = 500) -> list[dict[str, object]]:
        """The exception rows of shipments no file has posted yet (``settled_in`` empty), oldest first, with their
        file and the run that read it: what the exceptions view lists next to the record exceptions."""
        with self.session() as s:
            query = (
                select(RowOutcome, Exchange.remote_name, Exchange.remote_folder, Exchange.partner, Exchange.kind, Exchange.run_id)
                .join(Exchange, Exchange.id == RowOutcome.exchange_id)
                .where(RowOutcome.outcome == Outcome.EXCEPTION.value, RowOutcome.settled_in.is_(None),
                       *([RowOutcome.partner == partner] if partner else []))
                .order_by(RowOutcome.created_at, RowOutcome.id).limit(limit)
            )
            return [{"id": o.id, "exchange_id": o.exchange_id, "row": o.row_number, "code": o.code, "field": o.field, "message": o.message,
                     "suggestion": json.loads(o.suggestion) if o.suggestion else None, "order_ref": o.order_ref, "created_at": o.created_at,
                     "file": name, "folder": folder, "partner": code, "kind": kind, "run_id": run_id}
                    for o, name, folder, code, kind, run_id in s.execute(query)]

    def reported_orders(self, partner: str, refs: Iterable[str]) -> set[str]:
        """Which of ``refs`` (e.g. the pickings released to the partner) the 3PL named in a dispatch row, whatever
        became of the row: one indexed query per 500 references, whatever the history."""
        found: set[str] = set()
        with self.session() as s:
            for chunk in _chunks(sorted(set(refs))):
                found.update(s.scalars(select(RowOutcome.order_ref).distinct().where(RowOutcome.order_ref.in_(chunk), *_of(partner))))
        return found

    def timing_rows(self, partner: str, as_of: datetime, *, margin: timedelta = CLOCK_MARGIN) -> list[dict[str, object]]:
        """The dispatch rows that can explain a difference between the 3PL's count at ``as_of`` (T) and Odoo at T,
        in the shape and order of :meth:`dispatch_rows` (file, then row):

        - exception rows shipped at or before T whose shipment no file has posted since (open: ``settled_in``
          empty; a posted outcome of the same row, or of the same shipment in a later file or arrival, wins), one
          per row of a file (its first exception);
        - posted rows shipped at or before T and recorded in the ledger at or after T minus ``margin``.

        Why the second window is sound: a posted row explains a difference only if Odoo did its picking after T
        (``date_done > T``, asked of Odoo by the caller). The picking is validated before the row is recorded, so
        ``date_done`` (Odoo's clock) is never later than the row's ``created_at`` (the ledger's clock) plus the
        skew between the two clocks; a row recorded before T minus ``margin`` therefore had its picking done
        before T and explains nothing, as long as the ledger's clock is not ``margin`` (a day) behind Odoo's.
        Both windows hold what is recent or still open, not history: two queries on the row's own indexes.
        """
        name = select(Exchange.remote_name).where(Exchange.id == RowOutcome.exchange_id).scalar_subquery()
        cols = (RowOutcome.exchange_id, RowOutcome.row_number, RowOutcome.outcome, RowOutcome.code, RowOutcome.odoo_ref, name, RowOutcome.data)
        mine = (*_of(partner), RowOutcome.shipped_at <= as_of)
        rows: dict[tuple[int, int], dict[str, object]] = {}
        with self.session() as s:
            unposted = s.execute(  # open rows are exception rows (row_columns): no condition on the outcome for SQLite to misuse
                select(*cols).where(RowOutcome.settled_in.is_(None), *mine).order_by(RowOutcome.exchange_id, RowOutcome.row_number, RowOutcome.id)
            )
            for eid, number, outcome, *rest in unposted:
                if outcome == Outcome.EXCEPTION:
                    rows.setdefault((eid, number), _row(eid, number, outcome, *rest))
            posted = s.execute(
                select(*cols).where(RowOutcome.outcome == Outcome.POSTED.value, RowOutcome.created_at >= as_of - margin, *mine)
            )
            for eid, number, *rest in posted:
                rows[(eid, number)] = _row(eid, number, *rest)
        return [rows[k] for k in sorted(rows)]
