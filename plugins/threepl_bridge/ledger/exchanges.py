"""Exchanges: files received from or staged for a partner, their state history and what became of each row.

An exchange's state follows :data:`~threepl_bridge.ledger.states.TRANSITIONS`; every change is an
:class:`~threepl_bridge.ledger.models.ExchangeEvent`. Every method is safe to repeat: registering the same file
twice returns the same exchange, recording the same row outcome twice stores it once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import islice
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from threepl_bridge.ledger.base import _Base
from threepl_bridge.ledger.dispatch_rows import row_columns, settle_shipments
from threepl_bridge.ledger.errors import AlreadyStaged, CountMismatch, MissingPayload, UnknownRecord
from threepl_bridge.ledger.models import Exchange, ExchangeEvent, RowOutcome, utcnow
from threepl_bridge.ledger.releases import release_sent, stage_releases
from threepl_bridge.ledger.states import Outcome, State, check_transition

INSERT_CHUNK = 5000  # row outcomes per INSERT: a file of millions of rows never builds one huge parameter set

INBOUND, OUTBOUND = "inbound", "outbound"


@dataclass(frozen=True, kw_only=True)
class Registered:
    """Result of registering a file: the exchange, whether it is new, and what it duplicates."""

    exchange_id: int
    state: str
    created: bool
    duplicate_of: int | None
    replay_of: int | None = None


def _locked(s: Session, exchange_id: int) -> Exchange:
    """The exchange, locked for this transaction (PostgreSQL: FOR UPDATE; SQLite serialises writers anyway)."""
    exchange = s.get(Exchange, exchange_id, with_for_update=True)
    if exchange is None:
        raise UnknownRecord("exchange", exchange_id)
    return exchange


def _settles(earlier: Exchange, replay_processed: bool) -> bool:
    """Whether an earlier arrival of the same content makes a new one a duplicate (see ``register_inbound``)."""
    if earlier.state == State.INPUT_ERROR:
        return False  # quarantined as unreadable: a new arrival is a replay (after a layout fix)
    if not replay_processed:
        return True  # the kind's effects are per file (a reconciliation): received once is enough
    return earlier.state == State.INPUT_PROCESSED and not earlier.rows_exception


class Exchanges(_Base):
    # ------------------------------------------------------------------------------ inbound files

    def register_inbound(
        self, *, partner: str, kind: str, folder: str, name: str, sha256: str, size: int, run_id: str | None = None,
        replay_processed: bool = False,
    ) -> Registered:
        """Record a file found in a partner's inbound folder: one *arrival* of it.

        While the file of an arrival is still in the inbox (not moved yet), listing it again is the same arrival
        (a retry). Once it has been archived or quarantined, the same name and content in the inbox again is a
        new arrival, and so is the same content under another name; what it means is decided by the outcomes of
        the earlier arrivals of that content (the replay model, docs/architecture.md):

        - an earlier arrival is settled for good (processed, and for kinds whose rows are not idempotent on their
          own - ``replay_processed`` False, e.g. stock snapshots - any arrival not quarantined as unreadable): the
          new one is a **duplicate** (``input_duplicate``, nothing is done again);
        - otherwise (every earlier arrival was unreadable, or processed with row exceptions and the kind's rows are
          fingerprinted so a replay never posts twice): the new one is a **replay**, processed like a new file.
        """
        key = dict(partner=partner, direction=INBOUND, kind=kind, remote_folder=folder, remote_name=name, sha256=sha256)
        with self.session() as s:
            latest = s.scalars(select(Exchange).filter_by(**key).order_by(Exchange.arrival.desc()).limit(1)).one_or_none()
            if latest is not None and latest.moved_to is None:
                return Registered(exchange_id=latest.id, state=latest.state, created=False, duplicate_of=latest.duplicate_of_id)
            arrival = latest.arrival + 1 if latest is not None else 1
            earlier = list(s.scalars(
                select(Exchange).where(Exchange.partner == partner, Exchange.kind == kind, Exchange.direction == INBOUND,
                                       Exchange.sha256 == sha256, Exchange.state != State.INPUT_DUPLICATE.value)
                .order_by(Exchange.id)
            ))
        original = next((e for e in earlier if _settles(e, replay_processed)), None)
        replay_of = earlier[-1] if earlier and original is None else None
        state = State.INPUT_DUPLICATE if original is not None else State.INPUT_RECEIVED
        if original is not None:
            note = f"same content as exchange {original.id} ({original.remote_name}, {original.state})"
        elif replay_of is not None:
            note = (f"replay of exchange {replay_of.id} ({replay_of.remote_name}, {replay_of.state}"
                    f"{f', {replay_of.rows_exception} row exception(s)' if replay_of.rows_exception else ''})")
        else:
            note = None
        exchange = Exchange(**key, arrival=arrival, size=size, state=state.value, run_id=run_id,
                            duplicate_of_id=original.id if original else None)
        try:
            with self.session() as s:
                s.add(exchange)
                s.flush()
                s.add(ExchangeEvent(exchange_id=exchange.id, from_state=None, to_state=state.value, note=note, run_id=run_id))
        except IntegrityError:
            # another worker registered the same arrival between our read and our insert
            return self.register_inbound(partner=partner, kind=kind, folder=folder, name=name, sha256=sha256, size=size, run_id=run_id,
                                         replay_processed=replay_processed)
        return Registered(exchange_id=exchange.id, state=state, created=True, duplicate_of=exchange.duplicate_of_id,
                          replay_of=replay_of.id if replay_of else None)

    def set_moved(self, exchange_id: int, path: str, *, run_id: str | None = None) -> None:
        """The exchange's file now lives at ``path`` (archive/ or error/): a later listing of the name is a new arrival."""
        with self.session() as s:
            exchange = _locked(s, exchange_id)
            if exchange.moved_to == path:
                return
            exchange.moved_to = path
        self.note_event(exchange_id, f"file moved to {path}", run_id=run_id)

    def note_event(self, exchange_id: int, note: str, *, run_id: str | None = None) -> None:
        """Add a note to the exchange's history without changing its state."""
        with self.session() as s:
            exchange = s.get(Exchange, exchange_id)
            if exchange is None:
                raise UnknownRecord("exchange", exchange_id)
            s.add(ExchangeEvent(exchange_id=exchange_id, from_state=exchange.state, to_state=exchange.state, note=note, run_id=run_id))

    def keep_quality(self, exchange_id: int, quality: dict[str, object]) -> None:
        """The data-quality results of the file's validation (the latest replaces an earlier one)."""
        with self.session() as s:
            _locked(s, exchange_id).quality = json.dumps(quality, sort_keys=True, default=str)

    def quality(self, exchange_id: int) -> dict[str, Any] | None:  # None: not validated, or before revision 0007
        with self.session() as s:
            found = s.scalars(select(Exchange.quality).where(Exchange.id == exchange_id)).one_or_none()
            return json.loads(found) if found else None

    def inbound_named(self, partner: str, kind: str, folder: str, name: str) -> Exchange | None:
        """The latest arrival of a file of this name in this folder (any content)."""
        with self.session() as s:
            return s.scalars(select(Exchange).filter_by(partner=partner, direction=INBOUND, kind=kind, remote_folder=folder, remote_name=name)
                             .order_by(Exchange.id.desc()).limit(1)).one_or_none()

    def settled_unmoved(self, partner: str, kind: str) -> list[Exchange]:
        """Settled inbound files the ledger does not know the place of (the move's reply was lost): oldest first."""
        with self.session() as s:
            return list(s.scalars(
                select(Exchange).where(Exchange.partner == partner, Exchange.kind == kind, Exchange.direction == INBOUND,
                                       Exchange.state.in_([st.value for st in (State.INPUT_PROCESSED, State.INPUT_DUPLICATE, State.INPUT_ERROR)]),
                                       Exchange.moved_to.is_(None))
                .order_by(Exchange.id)
            ))

    def unsettled_inbound(self, partner: str) -> list[Exchange]:
        """Inbound files received but not processed yet (oldest first)."""
        with self.session() as s:
            return list(s.scalars(
                select(Exchange).where(Exchange.partner == partner, Exchange.direction == INBOUND,
                                       Exchange.state.in_([State.INPUT_RECEIVED.value, State.INPUT_VALIDATED.value]))
                .order_by(Exchange.id)
            ))

    # ---------------------------------------------------------------------------- state and history

    def transition(
        self, exchange_id: int, to_state: State, *, note: str | None = None, error: str | None = None, run_id: str | None = None
    ) -> None:
        """Move an exchange to ``to_state`` if the state table allows it; repeating a transition is a no-op."""
        with self.session() as s:
            exchange = _locked(s, exchange_id)
            if exchange.state == to_state:
                return
            check_transition(exchange_id, exchange.state, to_state)
            to_state = State(to_state)
            s.add(ExchangeEvent(exchange_id=exchange_id, from_state=exchange.state, to_state=to_state.value, note=note or error,
                                run_id=run_id))
            exchange.state = to_state.value
            exchange.attempts += 1
            if error is not None or to_state in (State.INPUT_RECEIVED, State.OUTPUT_PENDING):
                exchange.error = error
            if run_id:
                exchange.run_id = run_id

    def exchange(self, exchange_id: int) -> Exchange:
        with self.session() as s:
            exchange = s.get(Exchange, exchange_id)
            if exchange is None:
                raise UnknownRecord("exchange", exchange_id)
            return exchange

    def events(self, exchange_id: int) -> list[ExchangeEvent]:
        with self.session() as s:
            return list(s.scalars(select(ExchangeEvent).filter_by(exchange_id=exchange_id).order_by(ExchangeEvent.id)))

    def count_exchanges(self, partner: str, kind: str | None = None) -> int:
        with self.session() as s:
            query = select(func.count()).select_from(Exchange).filter_by(partner=partner)
            if kind:
                query = query.filter_by(kind=kind)
            return int(s.scalar(query) or 0)

    # ---------------------------------------------------------------------------------- row outcomes

    def record_rows(self, exchange_id: int, outcomes: Iterable[dict[str, object]]) -> None:
        """Store row outcomes (keys of RowOutcome); an outcome already stored is not stored again. One read of
        the exchange's stored outcomes (none for a new file: not read) and bulk inserts of at most INSERT_CHUNK
        rows, whatever the number of rows; ``outcomes`` may be a generator, taken a chunk at a time, so a file's
        outcomes are never all in memory (the outcomes already taken are told apart by one byte per row). The
        indexed columns come from each row's data, and exception rows whose shipment is posted are marked
        (ledger/dispatch_rows.py)."""
        with self.session() as s:
            exchange = s.get(Exchange, exchange_id)
            if exchange is None:
                raise UnknownRecord("exchange", exchange_id)
            query = select(RowOutcome).filter_by(exchange_id=exchange_id)
            first = s.scalars(query.limit(1)).one_or_none()
            stored = {(o.row_number, o.outcome, o.code, o.field): o for o in s.scalars(query)} if first is not None else {}
            seen: dict[tuple[object, ...], bytearray] = {}  # (outcome, code, field) -> a mark per row number taken
            touched: set[tuple[object, object]] = set()  # (outcome, order_ref) of posted and exception rows: what settles
            now, items = utcnow(), iter(outcomes)
            blank = {"created_at": now, "message": None, "record_key": None, "odoo_ref": None, "data": None, "suggestion": None}
            while chunk := list(islice(items, INSERT_CHUNK)):
                pending = []
                for item in chunk:
                    row = {"code": "", "field": "", **item, "exchange_id": exchange_id}
                    key = (row["row_number"], row["outcome"], row["code"], row["field"])
                    found = stored.get(key)  # type: ignore[arg-type]
                    if found is None:
                        marks, number = seen.setdefault(key[1:], bytearray()), int(key[0])  # type: ignore[call-overload]
                        if number >= len(marks):
                            marks.extend(bytes(number + 1 - len(marks) + len(marks) // 2))
                        if not marks[number]:
                            marks[number] = 1
                            columns = row_columns(row.get("data"), row["outcome"], exchange)  # type: ignore[arg-type]
                            pending.append({**blank, **row, **columns})
                            touched.add((row["outcome"], columns.get("order_ref")))
                        continue
                    for attr in ("message", "record_key", "odoo_ref", "data", "suggestion"):
                        if row.get(attr) is not None:
                            setattr(found, attr, row[attr])
                    if row.get("data") is not None:
                        columns = row_columns(found.data, found.outcome, exchange)
                        found.partner, found.kind, found.order_ref, found.shipped_at = (columns[k] for k in ("partner", "kind", "order_ref", "shipped_at"))
                        if found.settled_in in (None, exchange_id):  # a shipment settled by another file stays settled
                            found.settled_in = columns["settled_in"]
                        touched.add((found.outcome, columns.get("order_ref")))
                if pending:  # bounded parameter sets, one transaction; every column given (None included): one executemany
                    s.execute(insert(RowOutcome.__table__), pending)
            s.flush()
            # exception rows whose shipment is posted now
            settle_shipments(s, exchange, [{"outcome": o, "order_ref": r} for o, r in touched if r and o in (Outcome.POSTED, Outcome.EXCEPTION)])

    def row_outcomes(self, exchange_id: int) -> list[RowOutcome]:
        with self.session() as s:
            return list(
                s.scalars(select(RowOutcome).filter_by(exchange_id=exchange_id).order_by(RowOutcome.row_number, RowOutcome.id))
            )

    def close_counts(self, exchange_id: int, rows_total: int) -> dict[str, int]:
        """Store the per-outcome row counts; every row must have exactly one kind of outcome.

        A row with an exception counts as an exception even if it was also held back from posting; a row can
        never be both posted and an exception.
        """
        with self.session() as s:
            pairs = s.execute(
                select(RowOutcome.row_number, RowOutcome.outcome).filter_by(exchange_id=exchange_id).distinct()
            ).all()
            by_row: dict[int, set[str]] = {}
            for row_number, outcome in pairs:
                by_row.setdefault(row_number, set()).add(outcome)
            conflicting = sorted(r for r, kinds in by_row.items() if len(kinds) > 1)
            if conflicting:
                raise CountMismatch(f"exchange {exchange_id}: rows {conflicting[:10]} have more than one outcome")
            counts = {o.value: sum(1 for kinds in by_row.values() if o.value in kinds) for o in Outcome}
            missing = rows_total - len(by_row)
            if missing:
                raise CountMismatch(f"exchange {exchange_id}: {missing} of {rows_total} rows have no outcome")
            exchange = s.get(Exchange, exchange_id)
            if exchange is None:
                raise UnknownRecord("exchange", exchange_id)
            exchange.rows_total = rows_total
            exchange.rows_posted = counts[Outcome.POSTED]
            exchange.rows_exception = counts[Outcome.EXCEPTION]
            exchange.rows_duplicate = counts[Outcome.DUPLICATE]
            return counts

    # -------------------------------------------------------------------------------- outbound files

    def stage_outbound(
        self,
        *,
        partner: str,
        kind: str,
        folder: str,
        name: str,
        data: bytes,
        run_id: str | None = None,
        pickings: list[dict[str, object]] | None = None,
        products: list[dict[str, object]] | None = None,
        picking_states: dict[int, str] | None = None,
    ) -> Registered:
        """Commit an outbound file *before* it is uploaded, with the pickings/product versions it carries.

        From this commit on, the pickings count as released (they are never put in another file) and a crash
        during or after the upload is settled by :meth:`mark_sent` on the next attempt, never by a new file.
        The same name with other content raises :class:`~threepl_bridge.ledger.errors.AlreadyStaged`.
        """
        sha = hashlib.sha256(data).hexdigest()
        key = dict(partner=partner, direction=OUTBOUND, kind=kind, remote_folder=folder, remote_name=name)
        with self.session() as s:
            existing = s.scalars(select(Exchange).filter_by(**key)).one_or_none()
            if existing is not None:
                if existing.sha256 != sha:
                    raise AlreadyStaged(folder, name, existing.id)
                return Registered(exchange_id=existing.id, state=existing.state, created=False, duplicate_of=None)
            state = State.OUTPUT_PENDING
            exchange = Exchange(**key, sha256=sha, size=len(data), state=state.value, run_id=run_id, payload=data)
            s.add(exchange)
            s.flush()
            s.add(ExchangeEvent(exchange_id=exchange.id, from_state=None, to_state=state.value, run_id=run_id))
            stage_releases(s, partner=partner, exchange_id=exchange.id, pickings=pickings or [], products=products or [],
                           picking_states=picking_states or {})
            return Registered(exchange_id=exchange.id, state=state, created=True, duplicate_of=None)

    def payload(self, exchange_id: int) -> bytes:
        with self.session() as s:
            data = s.scalar(select(Exchange.payload).filter_by(id=exchange_id))
        if data is None:
            raise MissingPayload(exchange_id)
        return data

    def mark_sent(self, exchange_id: int, *, note: str | None = None, run_id: str | None = None) -> None:
        """The file is on the server: the exchange is sent and its pickings are released (idempotent)."""
        self.transition(exchange_id, State.OUTPUT_SENT, note=note, run_id=run_id)
        with self.session() as s:
            release_sent(s, exchange_id)

    def pending_outbound(self, partner: str, kind: str) -> list[int]:
        with self.session() as s:
            return list(s.scalars(
                select(Exchange.id)
                .filter_by(partner=partner, kind=kind, direction=OUTBOUND, state=State.OUTPUT_PENDING.value)
                .order_by(Exchange.id)
            ))
