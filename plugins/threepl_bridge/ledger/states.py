"""Exchange-record states and the only transitions allowed between them.

Retries follow this table rather than ad-hoc code: a task that runs again re-enters a state it is allowed to
re-enter (``input_validated -> input_received`` to re-validate), and terminal states are never left except by
an operator's explicit replay (``input_error -> input_received``, ``output_error -> output_pending``).

Inbound::

    input_received --> input_validated --> input_processed      (rows posted / exception / duplicate)
          |                  |
          +--> input_error <-+   (unreadable file; moved to the error folder)   -- replay --> input_received
          +--> input_duplicate   (same content as a file already received)

Outbound::

    output_pending --> output_sent        (committed before upload, so a crash mid-upload is detected)
          +--> output_error -- retry --> output_pending
"""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    INPUT_RECEIVED = "input_received"
    INPUT_VALIDATED = "input_validated"
    INPUT_PROCESSED = "input_processed"
    INPUT_ERROR = "input_error"
    INPUT_DUPLICATE = "input_duplicate"
    OUTPUT_PENDING = "output_pending"
    OUTPUT_SENT = "output_sent"
    OUTPUT_ERROR = "output_error"


TRANSITIONS: dict[State, frozenset[State]] = {
    State.INPUT_RECEIVED: frozenset({State.INPUT_VALIDATED, State.INPUT_ERROR, State.INPUT_DUPLICATE}),
    State.INPUT_VALIDATED: frozenset({State.INPUT_PROCESSED, State.INPUT_ERROR, State.INPUT_RECEIVED}),
    State.INPUT_PROCESSED: frozenset(),
    State.INPUT_ERROR: frozenset({State.INPUT_RECEIVED}),
    State.INPUT_DUPLICATE: frozenset(),
    State.OUTPUT_PENDING: frozenset({State.OUTPUT_SENT, State.OUTPUT_ERROR}),
    State.OUTPUT_SENT: frozenset(),
    State.OUTPUT_ERROR: frozenset({State.OUTPUT_PENDING}),
}

TERMINAL = frozenset(s for s, nxt in TRANSITIONS.items() if not nxt)


class InvalidTransition(RuntimeError):
    def __init__(self, exchange_id: int, current: str, wanted: str) -> None:
        allowed = sorted(TRANSITIONS.get(State(current), ())) if current in State._value2member_map_ else []
        super().__init__(
            f"exchange {exchange_id}: cannot go from {current!r} to {wanted!r} (allowed: {allowed or 'none'})"
        )


def check_transition(exchange_id: int, current: str, wanted: str) -> None:
    if current == wanted:
        return
    if State(wanted) not in TRANSITIONS.get(State(current), frozenset()):
        raise InvalidTransition(exchange_id, current, wanted)


class Outcome(StrEnum):
    POSTED = "posted"
    EXCEPTION = "exception"
    DUPLICATE = "duplicate"
