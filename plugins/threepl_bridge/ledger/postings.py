"""The write-ahead posting journal: one record per write to Odoo, keyed by an idempotency key.

``intent`` is committed before Odoo is called and ``done`` after; a retry that finds ``intent`` checks Odoo for
the outcome instead of posting again. States follow :data:`~threepl_bridge.ledger.states.POSTING_TRANSITIONS`.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from threepl_bridge.ledger.base import _Base
from threepl_bridge.ledger.errors import UnknownRecord
from threepl_bridge.ledger.models import Exchange, Posting, RowOutcome, utcnow
from threepl_bridge.ledger.states import Outcome, PostingState, check_posting_transition


def _posting(s: Session, partner: str, idem_key: str) -> Posting:
    found = s.scalars(select(Posting).filter_by(partner=partner, idem_key=idem_key)).one_or_none()
    if found is None:
        raise UnknownRecord("posting", f"{idem_key!r} of {partner}")
    return found


def _move(found: Posting, wanted: PostingState) -> None:
    check_posting_transition(f"posting {found.idem_key!r} of {found.partner}", found.state, wanted)
    found.state = wanted.value


class Postings(_Base):
    def posting_state(self, partner: str, idem_key: str) -> str | None:
        with self.session() as s:
            return s.scalar(select(Posting.state).filter_by(partner=partner, idem_key=idem_key))

    def posting_of(self, partner: str, idem_key: str) -> tuple[str, int | None] | None:
        """(state, odoo id) of one posting, or None."""
        with self.session() as s:
            found = s.execute(select(Posting.state, Posting.odoo_id).filter_by(partner=partner, idem_key=idem_key)).one_or_none()
            return (found[0], found[1]) if found else None

    def exchange_postings(self, partner: str, exchange_id: int, *, prefix: str) -> dict[int, str]:
        """odoo id -> state of the postings an exchange started whose key starts with ``prefix`` (what an earlier
        attempt on the same file wrote ahead)."""
        with self.session() as s:
            query = select(Posting.odoo_id, Posting.state).filter_by(partner=partner, exchange_id=exchange_id).where(Posting.idem_key.startswith(prefix))
            return {odoo_id: state for odoo_id, state in s.execute(query) if odoo_id is not None}

    def start_postings(self, partner: str, items: list[tuple[str, str, int]], *, exchange_id: int | None = None) -> None:
        """Commit the intent to post (key, target, odoo id) before Odoo is called; a done posting stays done."""
        with self.session() as s:
            for key, target, odoo_id in items:
                found = s.scalars(select(Posting).filter_by(partner=partner, idem_key=key)).one_or_none()
                if found is None:
                    s.add(Posting(partner=partner, idem_key=key, target=target, odoo_id=odoo_id, exchange_id=exchange_id,
                                  state=PostingState.INTENT.value))
                elif found.state != PostingState.DONE:
                    _move(found, PostingState.INTENT)
                    found.error = None

    def complete_postings(self, partner: str, items: list[tuple[str, int | None]]) -> None:
        with self.session() as s:
            for key, odoo_id in items:
                found = _posting(s, partner, key)
                _move(found, PostingState.DONE)
                found.odoo_id, found.completed_at, found.error = odoo_id or found.odoo_id, utcnow(), None

    def complete_posting(self, partner: str, idem_key: str, *, odoo_id: int | None = None) -> None:
        self.complete_postings(partner, [(idem_key, odoo_id)])

    def fail_posting(self, partner: str, idem_key: str, *, error: str) -> None:
        with self.session() as s:
            found = _posting(s, partner, idem_key)
            _move(found, PostingState.FAILED)
            found.error = error

    def posted_fingerprints(self, keys: list[str], *, exclude_exchange: int | None = None) -> dict[str, str]:
        """record key -> where it was posted before ("DISPATCH_1.csv row 3, exchange 7"), by another exchange than
        ``exclude_exchange`` (a retry of a file whose rows were recorded before it settled is not its own duplicate)."""
        out: dict[str, str] = {}
        with self.session() as s:
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                query = (
                    select(RowOutcome.record_key, RowOutcome.row_number, Exchange.remote_name, Exchange.id)
                    .join(Exchange, Exchange.id == RowOutcome.exchange_id)
                    .where(RowOutcome.record_key.in_(chunk), RowOutcome.outcome == Outcome.POSTED.value)
                )
                if exclude_exchange is not None:
                    query = query.where(RowOutcome.exchange_id != exclude_exchange)
                for key, row, name, eid in s.execute(query):
                    out.setdefault(key, f"{name} row {row} (exchange {eid})")
        return out
