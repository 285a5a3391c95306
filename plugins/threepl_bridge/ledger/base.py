"""What every aggregate of the ledger shares: the engine and one short transaction per call."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker


class _Base:
    """Holds the engine; :meth:`session` is one transaction, committed on exit and rolled back on error.

    Objects returned by the ledger are detached but loaded (``expire_on_commit=False``), so callers read their
    attributes after the transaction without touching the database again.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session
