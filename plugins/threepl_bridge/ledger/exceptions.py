"""Record exceptions: problems operations must see, one per (partner, code, object), open while seen.

Their status follows :data:`~threepl_bridge.ledger.states.EXCEPTION_TRANSITIONS` (``open <--> resolved``).
Not to be confused with Python exceptions: the ledger's own errors live in :mod:`threepl_bridge.ledger.errors`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from threepl_bridge.ledger.base import _Base
from threepl_bridge.ledger.errors import ConcurrentUpdate, InvalidTransition, UnknownRecord
from threepl_bridge.ledger.models import RecordException, utcnow
from threepl_bridge.ledger.states import ExceptionStatus, check_exception_transition


AUTOMATIC = "threepl-bridge"  # resolved_by of an exception the pipeline resolved because its cause was gone


def _move(found: RecordException, wanted: ExceptionStatus) -> None:
    check_exception_transition(f"exception {found.id} ({found.code} {found.object_type} {found.object_ref})", found.status, wanted)
    found.status = wanted.value


def _resolve(found: RecordException, reason: str, by: str) -> None:
    _move(found, ExceptionStatus.RESOLVED)
    found.resolved_at, found.resolution, found.resolved_by = utcnow(), reason, by


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
        suggestion: str | None = None,
    ) -> int:
        """Open (or keep open, counting occurrences) a record-level exception; returns its id. ``suggestion``: a fix
        computed from data (JSON of :class:`~threepl_bridge.formats.suggest.Suggestion`), shown, never applied."""
        return self.raise_exceptions_of(partner=partner, code=code, object_type=object_type, messages={object_ref: message},
                                        exchange_id=exchange_id, at=at,
                                        suggestions={object_ref: suggestion} if suggestion else None)[object_ref]

    def raise_exceptions_of(
        self, *, partner: str, code: str, object_type: str, messages: dict[str, str], exchange_id: int | None = None,
        at: datetime | None = None, suggestions: dict[str, str] | None = None,
    ) -> dict[str, int]:
        """:meth:`raise_exception` for many objects of one code (object ref -> message) in one transaction (one read
        per chunk of objects); returns object ref -> exception id. An exception resolved earlier (by the pipeline or
        by a person) opens again when its cause is seen again."""
        now = at or utcnow()
        suggestions = suggestions or {}
        refs = sorted(messages)
        scope = dict(partner=partner, code=code, object_type=object_type)
        for _ in range(2):
            try:
                with self.session() as s:
                    found: dict[str, RecordException] = {}
                    for start in range(0, len(refs), 5000):
                        found.update({e.object_ref: e for e in s.scalars(
                            select(RecordException).filter_by(**scope).where(RecordException.object_ref.in_(refs[start : start + 5000])))})
                    for ref in refs:
                        item = found.get(ref)
                        if item is None:
                            found[ref] = RecordException(**scope, object_ref=ref, message=messages[ref], exchange_id=exchange_id,
                                                         first_seen_at=now, last_seen_at=now, status=ExceptionStatus.OPEN.value,
                                                         suggestion=suggestions.get(ref))
                            s.add(found[ref])
                            continue
                        if item.status != ExceptionStatus.OPEN:
                            _move(item, ExceptionStatus.OPEN)
                            item.resolved_at, item.resolution, item.resolved_by, item.first_seen_at = None, None, None, now
                        item.occurrences += 1
                        item.message, item.last_seen_at = messages[ref], now
                        item.suggestion = suggestions.get(ref)
                        item.exchange_id = exchange_id or item.exchange_id
                    s.flush()
                    return {ref: item.id for ref, item in found.items()}
            except IntegrityError:  # another worker opened one of them between our read and our insert
                continue
        raise ConcurrentUpdate(f"could not record exceptions {scope} of {refs[:5]}")

    def resolve_exceptions(
        self, *, partner: str, object_type: str, object_ref: str, codes: list[str] | None = None, keep: list[str] | None = None,
        reason: str = "cause no longer seen",
    ) -> int:
        """Resolve the open exceptions of one object (all, only ``codes``, or all but ``keep``) because their cause is
        gone: ``reason`` says how, in words ("order released in ..."); resolved by :data:`AUTOMATIC`."""
        return self.resolve_exceptions_of(partner=partner, object_type=object_type, object_refs=[object_ref], codes=codes, keep=keep,
                                          reason=reason)

    def resolve_exceptions_of(
        self, *, partner: str, object_type: str, object_refs: list[str], codes: list[str] | None = None, keep: list[str] | None = None,
        reason: str = "cause no longer seen",
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
                    _resolve(item, reason, AUTOMATIC)
                    resolved += 1
        return resolved

    def resolve_file_exceptions(self, *, partner: str, remote_name: str, processed_exchange_id: int) -> int:
        """A file of this name was read and processed (a replay, a corrected copy): the open exceptions of its earlier
        arrivals (object ``<name>#<exchange id>``, quarantined) lose their cause."""
        pattern = remote_name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "#%"
        resolved = 0
        with self.session() as s:
            query = select(RecordException).filter_by(partner=partner, object_type="file", status=ExceptionStatus.OPEN.value)
            for item in s.scalars(query.where(RecordException.object_ref.like(pattern, escape="\\"))):
                if item.object_ref != f"{remote_name}#{processed_exchange_id}":
                    _resolve(item, f"the file was read and processed again as exchange {processed_exchange_id}", AUTOMATIC)
                    resolved += 1
        return resolved

    def resolve_by_hand(self, exception_id: int, *, note: str, by: str) -> RecordException:
        """A person resolves one open exception with a note (what they did). It opens again if a later run still sees
        its cause: a note does not make a held order releasable."""
        if not note.strip():
            raise ValueError("a note is required: say what was done")
        if not by.strip():
            raise ValueError("say who resolves it")
        with self.session() as s:
            found = s.get(RecordException, exception_id)
            if found is None:
                raise UnknownRecord("exception", exception_id)
            if found.status != ExceptionStatus.OPEN:
                raise InvalidTransition(f"exception {exception_id}", found.status, ExceptionStatus.RESOLVED)
            _resolve(found, note.strip(), by.strip()[:128])
            s.flush()
            s.expunge(found)
            return found

    def find_exceptions(self, *, partner: str | None = None, code: str | None = None, status: ExceptionStatus | None = ExceptionStatus.OPEN,
                        seen_before: datetime | None = None, exception_id: int | None = None) -> list[RecordException]:
        """Exceptions by partner, code, status (None: any) and first sighting, oldest first (the operator's view)."""
        with self.session() as s:
            query = select(RecordException).order_by(RecordException.first_seen_at, RecordException.id)
            for column, value in ((RecordException.partner, partner), (RecordException.code, code),
                                  (RecordException.status, status.value if status else None), (RecordException.id, exception_id)):
                if value is not None:
                    query = query.where(column == value)
            if seen_before is not None:
                query = query.where(RecordException.first_seen_at <= seen_before)
            return list(s.scalars(query))

    def open_exceptions(self, partner: str | None = None) -> list[RecordException]:
        return self.find_exceptions(partner=partner or None)
