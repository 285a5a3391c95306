"""The errors the ledger raises on purpose: one base class, one subclass per kind of refusal.

Callers catch the type, never match the message. Each subclass also derives from the built-in exception the
ledger raised before it had typed errors (``ValueError``, ``KeyError``, ``RuntimeError``), so code written
against the old behaviour keeps working.
"""

from __future__ import annotations

from collections.abc import Iterable


class LedgerError(Exception):
    """Base of every error the ledger raises on purpose."""


class InvalidTransition(LedgerError, RuntimeError):
    """A state change the record's transition table does not allow."""

    def __init__(self, subject: str, current: str, wanted: str, allowed: Iterable[str] = ()) -> None:
        self.subject, self.current, self.wanted = subject, str(current), str(wanted)
        self.allowed = sorted(str(a) for a in allowed)
        super().__init__(
            f"{subject}: cannot go from {self.current!r} to {self.wanted!r} (allowed: {self.allowed or 'none'})"
        )


class AlreadyStaged(LedgerError, ValueError):
    """An outbound file name already staged with other content (the caller picks the next free name)."""

    def __init__(self, folder: str, name: str, exchange_id: int) -> None:
        self.folder, self.name, self.exchange_id = folder, name, exchange_id
        super().__init__(f"outbound file {folder}/{name} already staged (exchange {exchange_id}) with other content")


class UnknownRecord(LedgerError, KeyError):
    """A record looked up by its key does not exist."""

    def __init__(self, kind: str, key: object) -> None:
        self.kind, self.key = kind, key
        super().__init__(f"{kind} {key} does not exist")

    def __str__(self) -> str:  # KeyError would print the message quoted
        return str(self.args[0])


class MissingPayload(LedgerError, ValueError):
    """An outbound exchange without stored bytes (sent and purged, or never outbound)."""

    def __init__(self, exchange_id: int) -> None:
        self.exchange_id = exchange_id
        super().__init__(f"exchange {exchange_id} has no stored payload")


class CountMismatch(LedgerError, ValueError):
    """Row outcomes that do not add up: rows without an outcome, or with more than one kind."""


class ConcurrentUpdate(LedgerError, RuntimeError):
    """A write kept losing against concurrent writers of the same key."""
