"""Record exceptions: problems operations must see, one per (partner, code, object), open while seen.

Their status follows :data:`~threepl_bridge.ledger.states.EXCEPTION_TRANSITIONS` (``open <--> resolved``).
Not to be confused with Python exceptions: the ledger's own errors live in :mod:`threepl_bridge.ledger.errors`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from threepl_bridge.ledger.base import _Base
from threepl_bridge.ledger.errors import ConcurrentUpdate
from threepl_bridge.ledger.models import RecordException, utcnow
from threepl_bridge.ledger.states import ExceptionStatus, check_exception_transition


def _move(found: RecordException, wanted: ExceptionStatus) -> None:
    check_exception_transition(f"exception {found.id} ({found.code} {found.object_type} {found.object_ref})", found.status, wanted)
    found.status = wanted.value


class Exceptions(_Base):
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
                        found = RecordException(**key, message=message, exchange_id=exchange_id, first_seen_at=now, last_seen_at=now,
                                                status=ExceptionStatus.OPEN.value)
                        s.add(found)
                    else:
                        if found.status != ExceptionStatus.OPEN:
                            _move(found, ExceptionStatus.OPEN)
                            found.resolved_at, found.first_seen_at = None, now
                        found.occurrences += 1
                        found.message, found.last_seen_at = message, now
                        found.exchange_id = exchange_id or found.exchange_id
                    s.flush()
                    return found.id
            except IntegrityError:
                continue
        raise ConcurrentUpdate(f"could not record exception {key}")

    def resolve_exceptions(
        self, *, partner: str, object_type: str, object_ref: str, codes: list[str] | None = None, keep: list[str] | None = None
    ) -> int:
        """Resolve the open exceptions of one object (all, only ``codes``, or all but ``keep``)."""
        return self.resolve_exceptions_of(partner=partner, object_type=object_type, object_refs=[object_ref], codes=codes, keep=keep)

    def resolve_exceptions_of(
        self, *, partner: str, object_type: str, object_refs: list[str], codes: list[str] | None = None, keep: list[str] | None = None
    ) -> int:
        """:meth:`resolve_exceptions` for many objects in one transaction (one query per chunk of objects)."""
        refs = sorted(set(object_refs))
        resolved = 0
        with self.session() as s:
            for start in range(0, len(refs), 5000):
                query = select(RecordException).filter_by(partner=partner, object_type=object_type, status=ExceptionStatus.OPEN.value)
                query = query.where(RecordException.object_ref.in_(refs[start : start + 5000]))
                if codes is not None:
                    query = query.where(RecordException.code.in_(codes))
                if keep:
                    query = query.where(RecordException.code.not_in(keep))
                for item in s.scalars(query):
                    _move(item, ExceptionStatus.RESOLVED)
                    item.resolved_at = utcnow()
                    resolved += 1
        return resolved

    def open_exceptions(self, partner: str | None = None) -> list[RecordException]:
        with self.session() as s:
            query = (
                select(RecordException)
                .filter_by(status=ExceptionStatus.OPEN.value)
                .order_by(RecordException.first_seen_at, RecordException.id)
            )
            if partner:
                query = query.filter_by(partner=partner)
            return list(s.scalars(query))
