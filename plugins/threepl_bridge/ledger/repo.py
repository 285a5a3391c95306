"""The ledger's API: the only code that writes the pipeline's state.

Every method is a small transaction that is safe to repeat: registering the same file twice returns the same
exchange, recording the same row outcome twice stores it once, and a watermark never moves backwards.

:class:`Ledger` is the composition of one class per aggregate:

- :class:`~threepl_bridge.ledger.exchanges.Exchanges`: files in and out, their states, events and row outcomes;
- :class:`~threepl_bridge.ledger.dispatch_rows.DispatchRows`: dispatch rows for the window a run needs (pending, timing);
- :class:`~threepl_bridge.ledger.exceptions.Exceptions`: record-level exceptions for operations;
- :class:`~threepl_bridge.ledger.postings.Postings`: the write-ahead journal of writes to Odoo;
- :class:`~threepl_bridge.ledger.releases.Releases`: released pickings, product versions, watermarks;
- :class:`~threepl_bridge.ledger.reconciliations.Reconciliations`: stock reconciliations and their approvals;
- :class:`~threepl_bridge.ledger.leases.Leases`: per-file and per-picking leases (one worker at a time);
- :class:`~threepl_bridge.ledger.outbound_steps.OutboundSteps`: journalled steps of an outbound delivery.

State machines are in :mod:`threepl_bridge.ledger.states`, errors in :mod:`threepl_bridge.ledger.errors`.
"""

from __future__ import annotations

from threepl_bridge.ledger.dispatch_rows import DispatchRows
from threepl_bridge.ledger.engine import make_engine, migrate
from threepl_bridge.ledger.exceptions import Exceptions
from threepl_bridge.ledger.exchanges import Exchanges, Registered
from threepl_bridge.ledger.leases import Leases
from threepl_bridge.ledger.outbound_steps import OutboundSteps
from threepl_bridge.ledger.postings import Postings
from threepl_bridge.ledger.reconciliations import Reconciliations
from threepl_bridge.ledger.releases import Releases

__all__ = ["Ledger", "Registered"]


class Ledger(Exchanges, DispatchRows, OutboundSteps, Exceptions, Postings, Releases, Reconciliations, Leases):
    @classmethod
    def open(cls, url: str | None = None, *, upgrade: bool = True) -> "Ledger":
        """The ledger at ``url`` (default: :func:`~threepl_bridge.ledger.engine.ledger_url`), migrated to head."""
        engine = make_engine(url)
        if upgrade:
            migrate(engine)
        return cls(engine)
