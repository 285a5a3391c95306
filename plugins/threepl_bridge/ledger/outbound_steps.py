"""Journalled steps of an outbound delivery, kept in the exchange's history (no schema of their own).

A step is an :class:`~threepl_bridge.ledger.models.ExchangeEvent` that does not change the state
(``output_pending -> output_pending``) with the note ``step <name>: <detail>``. It is committed *before* the side
effect it announces, so a retry knows the effect may have happened. The delivery (``flows/outbound.py``) journals
``publishing`` before the rename that makes an uploaded file visible to the partner: a retry that then finds
neither the temporary file nor the final file knows the partner took it and does not upload it again.

Steps count from the exchange's latest entry into ``output_pending``: an operator's replay (``output_error ->
output_pending``) starts a delivery with no step done.
"""

from __future__ import annotations

from sqlalchemy import select

from threepl_bridge.ledger.base import _Base
from threepl_bridge.ledger.errors import InvalidTransition, UnknownRecord
from threepl_bridge.ledger.models import Exchange, ExchangeEvent
from threepl_bridge.ledger.states import State

PUBLISHING = "publishing"
_PREFIX = "step "


class OutboundSteps(_Base):
    def journal_step(self, exchange_id: int, step: str, *, detail: str = "", run_id: str | None = None) -> bool:
        """Record that ``step`` of a pending delivery is about to happen; True if recorded now, False if it was."""
        with self.session() as s:
            exchange = s.get(Exchange, exchange_id, with_for_update=True)
            if exchange is None:
                raise UnknownRecord("exchange", exchange_id)
            if exchange.state != State.OUTPUT_PENDING:
                raise InvalidTransition(f"exchange {exchange_id} (step {step})", exchange.state, State.OUTPUT_PENDING)
            if step in _steps(s, exchange_id):
                return False
            s.add(ExchangeEvent(exchange_id=exchange_id, from_state=exchange.state, to_state=exchange.state,
                                note=f"{_PREFIX}{step}: {detail}".rstrip(": "), run_id=run_id))
            return True

    def journalled_steps(self, exchange_id: int) -> set[str]:
        """The steps journalled since the exchange last became ``output_pending``."""
        with self.session() as s:
            return _steps(s, exchange_id)


def _steps(s, exchange_id: int) -> set[str]:  # type: ignore[no-untyped-def]
    steps: set[str] = set()
    for event in s.scalars(select(ExchangeEvent).filter_by(exchange_id=exchange_id).order_by(ExchangeEvent.id)):
        if event.from_state != event.to_state:
            steps = set()  # a (re-)entry into a state: earlier steps belong to an earlier delivery
        elif event.note and event.note.startswith(_PREFIX):
            steps.add(event.note[len(_PREFIX):].split(":", 1)[0])
    return steps
