"""The ledger's API: the only code that writes the pipeline's state.

Every method is a small transaction that is safe to repeat: registering the same file twice returns the same
exchange, recording the same row outcome twice stores it once, and a watermark never moves backwards.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Engine, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from threepl_bridge.ledger.engine import make_engine, migrate
from threepl_bridge.ledger.models import (
    Exchange,
    ExchangeEvent,
    Posting,
    ProductVersion,
    Reconciliation,
    ReconciliationLine,
    RecordException,
    ReleasedPicking,
    RowOutcome,
    Watermark,
    utcnow,
)
from threepl_bridge.ledger.states import Outcome, State, check_transition


@dataclass(frozen=True, kw_only=True)
class Registered:
    """Result of registering a file: the exchange, whether it is new, and what it duplicates."""

    exchange_id: int
    state: str
    created: bool
    duplicate_of: int | None


class Ledger:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(cls, url: str | None = None, *, upgrade: bool = True) -> "Ledger":
        engine = make_engine(url)
        if upgrade:
            migrate(engine)
        return cls(engine)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session

    # ---------------------------------------------------------------------------------- exchanges

    def register_inbound(
        self, *, partner: str, kind: str, folder: str, name: str, sha256: str, size: int, run_id: str | None = None
    ) -> Registered:
        """Record a file found in a partner's inbound folder.

        The same (folder, name, content) is the same exchange whenever it is listed again. Content already
        received under another name (or in another folder) is a new exchange in state ``input_duplicate``.
        """
        key = dict(partner=partner, direction="inbound", kind=kind, remote_folder=folder, remote_name=name, sha256=sha256)
        with self.session() as s:
            existing = s.scalars(select(Exchange).filter_by(**key)).one_or_none()
            if existing is not None:
                return Registered(
                    exchange_id=existing.id, state=existing.state, created=False, duplicate_of=existing.duplicate_of_id
                )
            original = s.scalars(
                select(Exchange)
                .where(
                    Exchange.partner == partner,
                    Exchange.kind == kind,
                    Exchange.direction == "inbound",
                    Exchange.sha256 == sha256,
                    Exchange.state != State.INPUT_DUPLICATE,
                )
                .order_by(Exchange.id)
                .limit(1)
            ).one_or_none()
        state = State.INPUT_DUPLICATE if original is not None else State.INPUT_RECEIVED
        exchange = Exchange(**key, size=size, state=state, run_id=run_id, duplicate_of_id=original.id if original else None)
        try:
            with self.session() as s:
                s.add(exchange)
                s.flush()
                note = f"same content as exchange {original.id} ({original.remote_name})" if original else None
                s.add(ExchangeEvent(exchange_id=exchange.id, from_state=None, to_state=state, note=note, run_id=run_id))
        except IntegrityError:
            # another worker registered the same file between our read and our insert
            return self.register_inbound(
                partner=partner, kind=kind, folder=folder, name=name, sha256=sha256, size=size, run_id=run_id
            )
        return Registered(exchange_id=exchange.id, state=state, created=True, duplicate_of=exchange.duplicate_of_id)

    def transition(
        self, exchange_id: int, to_state: State, *, note: str | None = None, error: str | None = None, run_id: str | None = None
    ) -> None:
        """Move an exchange to ``to_state`` if the state table allows it; repeating a transition is a no-op."""
        with self.session() as s:
            exchange = s.get(Exchange, exchange_id, with_for_update=True)
            if exchange is None:
                raise KeyError(f"exchange {exchange_id} does not exist")
            if exchange.state == to_state:
                return
            check_transition(exchange_id, exchange.state, to_state)
            s.add(ExchangeEvent(exchange_id=exchange_id, from_state=exchange.state, to_state=to_state, note=note or error, run_id=run_id))
            exchange.state = to_state
            exchange.attempts += 1
            if error is not None or to_state in (State.INPUT_RECEIVED, State.OUTPUT_PENDING):
                exchange.error = error
            if run_id:
                exchange.run_id = run_id

    def exchange(self, exchange_id: int) -> Exchange:
        with self.session() as s:
            exchange = s.get(Exchange, exchange_id)
            if exchange is None:
                raise KeyError(f"exchange {exchange_id} does not exist")
            return exchange

    def events(self, exchange_id: int) -> list[ExchangeEvent]:
        with self.session() as s:
            return list(s.scalars(select(ExchangeEvent).filter_by(exchange_id=exchange_id).order_by(ExchangeEvent.id)))

    # ------------------------------------------------------------------------------- row outcomes

    def record_rows(self, exchange_id: int, outcomes: list[dict[str, object]]) -> None:
        """Store row outcomes (keys of RowOutcome); an outcome already stored is not stored again."""
        with self.session() as s:
            for item in outcomes:
                row = dict(item)
                row.setdefault("code", "")
                row.setdefault("field", "")
                key = {k: row[k] for k in ("row_number", "outcome", "code", "field")}
                found = s.scalars(select(RowOutcome).filter_by(exchange_id=exchange_id, **key)).one_or_none()
                if found is None:
                    s.add(RowOutcome(exchange_id=exchange_id, **row))
                else:
                    for attr in ("message", "record_key", "odoo_ref", "data"):
                        if row.get(attr) is not None:
                            setattr(found, attr, row[attr])

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
                raise ValueError(f"exchange {exchange_id}: rows {conflicting[:10]} have more than one outcome")
            counts = {o.value: sum(1 for kinds in by_row.values() if o.value in kinds) for o in Outcome}
            missing = rows_total - len(by_row)
            if missing:
                raise ValueError(f"exchange {exchange_id}: {missing} of {rows_total} rows have no outcome")
            exchange = s.get(Exchange, exchange_id)
            assert exchange is not None
            exchange.rows_total = rows_total
            exchange.rows_posted = counts[Outcome.POSTED]
            exchange.rows_exception = counts[Outcome.EXCEPTION]
            exchange.rows_duplicate = counts[Outcome.DUPLICATE]
            return counts

    # ---------------------------------------------------------------------------- record exceptions

    def raise_exception(
        self,
        *,
        partner: str,
        code: str,
        object_type: str,
        object_ref: str,
        message: str,
        exchange_id: int | None = None,
        at: datetime | None = None,
    ) -> int:
        """Open (or keep open, counting occurrences) a record-level exception; returns its id."""
        now = at or utcnow()
        key = dict(partner=partner, code=code, object_type=object_type, object_ref=object_ref)
        for _ in range(2):
            try:
                with self.session() as s:
                    found = s.scalars(select(RecordException).filter_by(**key)).one_or_none()
                    if found is None:
                        found = RecordException(**key, message=message, exchange_id=exchange_id, first_seen_at=now, last_seen_at=now)
                        s.add(found)
                    else:
                        if found.status != "open":
                            found.status, found.resolved_at, found.first_seen_at = "open", None, now
                        found.occurrences += 1
                        found.message, found.last_seen_at = message, now
                        found.exchange_id = exchange_id or found.exchange_id
                    s.flush()
                    return found.id
            except IntegrityError:
                continue
        raise RuntimeError(f"could not record exception {key}")

    def resolve_exceptions(
        self, *, partner: str, object_type: str, object_ref: str, codes: list[str] | None = None, keep: list[str] | None = None
    ) -> int:
        """Resolve the open exceptions of one object (all, only ``codes``, or all but ``keep``)."""
        with self.session() as s:
            query = select(RecordException).filter_by(partner=partner, object_type=object_type, object_ref=object_ref, status="open")
            if codes is not None:
                query = query.where(RecordException.code.in_(codes))
            if keep:
                query = query.where(RecordException.code.not_in(keep))
            found = list(s.scalars(query))
            for item in found:
                item.status, item.resolved_at = "resolved", utcnow()
            return len(found)

    def open_exceptions(self, partner: str | None = None) -> list[RecordException]:
        with self.session() as s:
            query = select(RecordException).filter_by(status="open").order_by(RecordException.first_seen_at, RecordException.id)
            if partner:
                query = query.filter_by(partner=partner)
            return list(s.scalars(query))

    # --------------------------------------------------------------------------------- watermarks

    def watermark(self, partner: str, stream: str) -> tuple[str, int] | None:
        with self.session() as s:
            found = s.get(Watermark, (partner, stream))
            return (found.value, found.last_id) if found else None

    def advance_watermark(self, partner: str, stream: str, value: str, last_id: int) -> bool:
        """Move the watermark forward to (value, last_id); never backwards. Returns whether it moved."""
        with self.session() as s:
            found = s.get(Watermark, (partner, stream), with_for_update=True)
            if found is None:
                s.add(Watermark(partner=partner, stream=stream, value=value, last_id=last_id))
                return True
            if (value, last_id) <= (found.value, found.last_id):
                return False
            found.value, found.last_id = value, last_id
            return True

    # --------------------------------------------------------------------------- released pickings

    def released_pickings(
        self, partner: str, picking_ids: list[int] | None = None, *, states: list[str] | None = None
    ) -> dict[int, ReleasedPicking]:
        with self.session() as s:
            query = select(ReleasedPicking).filter_by(partner=partner)
            if picking_ids is not None:
                query = query.where(ReleasedPicking.picking_id.in_(picking_ids))
            if states is not None:
                query = query.where(ReleasedPicking.state.in_(states))
            return {r.picking_id: r for r in s.scalars(query)}

    def released_pickings_of(self, exchange_id: int) -> list[ReleasedPicking]:
        with self.session() as s:
            return list(s.scalars(select(ReleasedPicking).filter_by(exchange_id=exchange_id).order_by(ReleasedPicking.picking_name)))

    def mark_noted(self, partner: str, picking_id: int) -> None:
        with self.session() as s:
            found = s.scalars(select(ReleasedPicking).filter_by(partner=partner, picking_id=picking_id)).one()
            found.noted_at = utcnow()

    # ------------------------------------------------------------------------------ outbound files

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
        """
        sha = hashlib.sha256(data).hexdigest()
        key = dict(partner=partner, direction="outbound", kind=kind, remote_folder=folder, remote_name=name)
        with self.session() as s:
            existing = s.scalars(select(Exchange).filter_by(**key)).one_or_none()
            if existing is not None:
                if existing.sha256 != sha:
                    raise ValueError(f"outbound file {folder}/{name} already staged (exchange {existing.id}) with other content")
                return Registered(exchange_id=existing.id, state=existing.state, created=False, duplicate_of=None)
            exchange = Exchange(**key, sha256=sha, size=len(data), state=State.OUTPUT_PENDING, run_id=run_id, payload=data)
            s.add(exchange)
            s.flush()
            s.add(ExchangeEvent(exchange_id=exchange.id, from_state=None, to_state=exchange.state, run_id=run_id))
            for p in pickings or []:
                s.add(ReleasedPicking(partner=partner, exchange_id=exchange.id, state="pending", **p))
            for p in products or []:
                s.add(ProductVersion(partner=partner, exchange_id=exchange.id, **p))
            for picking_id, state in (picking_states or {}).items():
                s.scalars(select(ReleasedPicking).filter_by(partner=partner, picking_id=picking_id)).one().state = state
            return Registered(exchange_id=exchange.id, state=exchange.state, created=True, duplicate_of=None)

    def payload(self, exchange_id: int) -> bytes:
        with self.session() as s:
            data = s.scalar(select(Exchange.payload).filter_by(id=exchange_id))
        if data is None:
            raise ValueError(f"exchange {exchange_id} has no stored payload")
        return data

    def mark_sent(self, exchange_id: int, *, note: str | None = None, run_id: str | None = None) -> None:
        """The file is on the server: the exchange is sent and its pickings are released (idempotent)."""
        self.transition(exchange_id, State.OUTPUT_SENT, note=note, run_id=run_id)
        with self.session() as s:
            for picking in s.scalars(select(ReleasedPicking).filter_by(exchange_id=exchange_id, state="pending")):
                picking.state = "released"

    def pending_outbound(self, partner: str, kind: str) -> list[int]:
        with self.session() as s:
            return list(s.scalars(
                select(Exchange.id).filter_by(partner=partner, kind=kind, direction="outbound", state=State.OUTPUT_PENDING).order_by(Exchange.id)
            ))

    def product_versions(self, partner: str, *, sent_only: bool) -> dict[int, str]:
        """product id -> the latest version hash the partner has (sent_only) or has been staged for."""
        with self.session() as s:
            query = (
                select(ProductVersion.product_id, ProductVersion.version_hash)
                .join(Exchange, Exchange.id == ProductVersion.exchange_id)
                .where(ProductVersion.partner == partner)
                .order_by(ProductVersion.id)
            )
            if sent_only:
                query = query.where(Exchange.state == State.OUTPUT_SENT)
            return {pid: version for pid, version in s.execute(query)}

    def set_released_state(self, partner: str, picking_id: int, state: str) -> None:
        self._update_released(partner, picking_id, state=state)

    def set_released_hash(self, partner: str, picking_id: int, content_hash: str) -> None:
        self._update_released(partner, picking_id, content_hash=content_hash)

    def _update_released(self, partner: str, picking_id: int, **values: str) -> None:
        with self.session() as s:
            found = s.scalars(select(ReleasedPicking).filter_by(partner=partner, picking_id=picking_id)).one()
            for name, value in values.items():
                setattr(found, name, value)

    # --------------------------------------------------------------------- postings to Odoo (write-ahead)

    def posting_state(self, partner: str, idem_key: str) -> str | None:
        with self.session() as s:
            return s.scalar(select(Posting.state).filter_by(partner=partner, idem_key=idem_key))

    def start_postings(self, partner: str, items: list[tuple[str, str, int]], *, exchange_id: int | None = None) -> None:
        """Commit the intent to post (key, target, odoo id) before Odoo is called."""
        with self.session() as s:
            for key, target, odoo_id in items:
                found = s.scalars(select(Posting).filter_by(partner=partner, idem_key=key)).one_or_none()
                if found is None:
                    s.add(Posting(partner=partner, idem_key=key, target=target, odoo_id=odoo_id, exchange_id=exchange_id))
                elif found.state != "done":
                    found.state, found.error = "intent", None

    def complete_postings(self, partner: str, items: list[tuple[str, int | None]]) -> None:
        with self.session() as s:
            for key, odoo_id in items:
                found = s.scalars(select(Posting).filter_by(partner=partner, idem_key=key)).one()
                found.state, found.odoo_id, found.completed_at, found.error = "done", odoo_id or found.odoo_id, utcnow(), None

    def complete_posting(self, partner: str, idem_key: str, *, odoo_id: int | None = None) -> None:
        self.complete_postings(partner, [(idem_key, odoo_id)])

    def fail_posting(self, partner: str, idem_key: str, *, error: str) -> None:
        with self.session() as s:
            found = s.scalars(select(Posting).filter_by(partner=partner, idem_key=idem_key)).one()
            found.state, found.error = "failed", error

    def posted_fingerprints(self, keys: list[str]) -> dict[str, str]:
        """record key -> where it was posted before ("DISPATCH_1.csv row 3, exchange 7")."""
        out: dict[str, str] = {}
        with self.session() as s:
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                query = (
                    select(RowOutcome.record_key, RowOutcome.row_number, Exchange.remote_name, Exchange.id)
                    .join(Exchange, Exchange.id == RowOutcome.exchange_id)
                    .where(RowOutcome.record_key.in_(chunk), RowOutcome.outcome == Outcome.POSTED)
                )
                for key, row, name, eid in s.execute(query):
                    out.setdefault(key, f"{name} row {row} (exchange {eid})")
        return out

    def release_backorders(self, partner: str, backorders: list[tuple[int, str, int, str]]) -> None:
        """Backorders of released pickings stay with the 3PL: they are released under the original's file, with
        the hash of their own open lines (so a later change in Odoo is still noticed, and the split itself is not)."""
        with self.session() as s:
            for picking_id, name, original_id, content_hash in backorders:
                if s.scalars(select(ReleasedPicking).filter_by(partner=partner, picking_id=picking_id)).one_or_none():
                    continue
                original = s.scalars(select(ReleasedPicking).filter_by(partner=partner, picking_id=original_id)).one_or_none()
                if original is None:
                    continue
                s.add(ReleasedPicking(partner=partner, picking_id=picking_id, picking_name=name, exchange_id=original.exchange_id,
                                      content_hash=content_hash, state="released", released_at=original.released_at, noted_at=original.noted_at))

    # ----------------------------------------------------------------------------- reconciliations

    def reconciliation_for(self, partner: str, exchange_id: int) -> int | None:
        with self.session() as s:
            return s.scalar(select(Reconciliation.id).filter_by(partner=partner, exchange_id=exchange_id))

    def reconciliation(self, recon_id: int) -> Reconciliation:
        with self.session() as s:
            found = s.get(Reconciliation, recon_id)
            if found is None:
                raise KeyError(f"reconciliation {recon_id} does not exist")
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

    def store_reconciliation(self, *, partner: str, exchange_id: int, as_of: datetime, currency: str, lines: list[dict[str, object]],
                             variance_value: Decimal, data_quality: list[dict[str, object]], unknown_rows: dict[int, str],
                             matches: int = 0) -> int:
        """Store a reconciliation and its lines in one transaction; storing it again returns the first one."""
        try:
            with self.session() as s:
                recon = Reconciliation(partner=partner, exchange_id=exchange_id, as_of=as_of, currency=currency, state="reconciled",
                                       variance_value=variance_value,
                                       details=json.dumps({"data_quality": data_quality, "unknown_rows": unknown_rows, "matches": matches},
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
        """Approve pending lines given as ``SKU`` or ``SKU|LOT`` (None: every pending line)."""
        wanted = None if keys is None else {k if "|" in k else f"{k}|" for k in keys}
        count = 0
        with self.session() as s:
            for line in s.scalars(select(ReconciliationLine).filter_by(reconciliation_id=recon_id, approval="pending")):
                if wanted is None or f"{line.sku}|{line.lot}" in wanted or (f"{line.sku}|" in wanted and not line.lot):
                    line.approval, line.approved_by = "approved", approver
                    count += 1
        return count

    def set_line_posted(self, line_id: int, idem_key: str) -> None:
        with self.session() as s:
            line = s.get(ReconciliationLine, line_id)
            assert line is not None
            line.posting_id = s.scalar(select(Posting.id).filter_by(idem_key=idem_key))

    def refresh_reconciliation_state(self, recon_id: int) -> str:
        with self.session() as s:
            recon = s.get(Reconciliation, recon_id)
            assert recon is not None
            lines = list(s.scalars(select(ReconciliationLine).filter_by(reconciliation_id=recon_id)))
            if any(l.approval == "pending" for l in lines):
                recon.state = "awaiting_approval"
            elif any(l.variance_qty != 0 and l.approval in ("auto", "approved") for l in lines):
                recon.state = "posted" if all(l.posting_id for l in lines if l.variance_qty != 0 and l.approval in ("auto", "approved")) else "posting"
            else:
                recon.state = "reconciled"
            return recon.state

    def dispatch_rows(self, partner: str) -> list[dict[str, object]]:
        """Every row of every dispatch file with its final outcome and canonical values."""
        with self.session() as s:
            query = (
                select(RowOutcome.exchange_id, RowOutcome.row_number, RowOutcome.outcome, RowOutcome.code, RowOutcome.data,
                       RowOutcome.odoo_ref, Exchange.remote_name)
                .join(Exchange, Exchange.id == RowOutcome.exchange_id)
                .where(Exchange.partner == partner, Exchange.kind == "dispatches")
                .order_by(RowOutcome.exchange_id, RowOutcome.row_number, RowOutcome.id)
            )
            rows: dict[tuple[int, int], dict[str, object]] = {}
            for eid, number, outcome, code, data, ref, name in s.execute(query):
                current = rows.get((eid, number))
                if current is None or outcome == Outcome.POSTED:
                    rows[(eid, number)] = {"exchange_id": eid, "row": number, "outcome": outcome, "code": code, "odoo_ref": ref,
                                           "file": name, "data": json.loads(data) if data else {}}
            return list(rows.values())

    def unsettled_inbound(self, partner: str) -> list[Exchange]:
        """Inbound files received but not processed yet (oldest first)."""
        with self.session() as s:
            return list(s.scalars(
                select(Exchange).where(Exchange.partner == partner, Exchange.direction == "inbound",
                                       Exchange.state.in_([State.INPUT_RECEIVED, State.INPUT_VALIDATED])).order_by(Exchange.id)
            ))

    def count_exchanges(self, partner: str, kind: str | None = None) -> int:
        with self.session() as s:
            query = select(func.count()).select_from(Exchange).filter_by(partner=partner)
            if kind:
                query = query.filter_by(kind=kind)
            return int(s.scalar(query) or 0)
