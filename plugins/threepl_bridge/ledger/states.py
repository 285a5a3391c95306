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

Records other than exchanges have state machines of their own, each an enum of the exact strings stored in the
database, a table of allowed transitions and a check that raises :class:`~threepl_bridge.ledger.errors.InvalidTransition`.
Staying in the same state is always allowed (a retried task repeats its last step).

Postings (write-ahead journal of writes to Odoo)::

    intent --> done                 (Odoo confirmed the write)
       +-----> failed -- retry --> intent

Released pickings::

    pending --> released --> done           (a picking validated in Odoo is done, whatever the ledger thought)
       |           +-------> cancel_sent    (cancellation file staged)   --> done
       +--> done   +-------> cancelled      (no cancellation file: an exception tells the operator) --> done

Reconciliations (derived from their lines by ``refresh_reconciliation_state``)::

    reconciled --> awaiting_approval --> posting --> posted
    (also reconciled --> posting | posted, and awaiting_approval --> posted: a refresh can skip steps)

Approval of a reconciliation line: ``pending --> approved``; ``none`` (nothing to adjust) and ``auto`` (within
tolerance) are final from the start.

Record exceptions: ``open <--> resolved`` (seen again after its cause went away: opened again).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from threepl_bridge.ledger.errors import InvalidTransition  # noqa: F401  (its home before errors.py existed)


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


def _check(subject: str, table: Mapping[StrEnum, frozenset[StrEnum]], current: str, wanted: str) -> None:
    """Allow staying in the same state and the table's transitions; anything else (unknown values too) is refused."""
    if current == wanted:
        return
    allowed = next((nxt for state, nxt in table.items() if state == current), frozenset())
    if wanted not in allowed:
        raise InvalidTransition(subject, current, wanted, allowed)


def check_transition(exchange_id: int, current: str, wanted: str) -> None:
    _check(f"exchange {exchange_id}", TRANSITIONS, current, wanted)


class Outcome(StrEnum):
    POSTED = "posted"
    EXCEPTION = "exception"
    DUPLICATE = "duplicate"


# ------------------------------------------------------------------------------------------ postings


class PostingState(StrEnum):
    INTENT = "intent"
    DONE = "done"
    FAILED = "failed"


POSTING_TRANSITIONS: dict[PostingState, frozenset[PostingState]] = {
    PostingState.INTENT: frozenset({PostingState.DONE, PostingState.FAILED}),
    PostingState.FAILED: frozenset({PostingState.INTENT}),
    PostingState.DONE: frozenset(),
}


def check_posting_transition(subject: str, current: str, wanted: str) -> None:
    _check(subject, POSTING_TRANSITIONS, current, wanted)


# --------------------------------------------------------------------------------- released pickings


class ReleaseState(StrEnum):
    PENDING = "pending"  # in a staged file not known to be on the server yet
    RELEASED = "released"  # the file is on the server: the 3PL has the picking
    DONE = "done"  # validated in Odoo: no longer watched
    CANCEL_SENT = "cancel_sent"  # cancelled in Odoo; a cancellation file is staged for the 3PL
    CANCELLED = "cancelled"  # cancelled in Odoo; the partner has no cancellation file (an exception says so)


RELEASE_TRANSITIONS: dict[ReleaseState, frozenset[ReleaseState]] = {
    ReleaseState.PENDING: frozenset({ReleaseState.RELEASED, ReleaseState.DONE}),
    ReleaseState.RELEASED: frozenset({ReleaseState.DONE, ReleaseState.CANCEL_SENT, ReleaseState.CANCELLED}),
    ReleaseState.CANCEL_SENT: frozenset({ReleaseState.DONE}),
    ReleaseState.CANCELLED: frozenset({ReleaseState.DONE}),
    ReleaseState.DONE: frozenset(),
}


def check_release_transition(subject: str, current: str, wanted: str) -> None:
    _check(subject, RELEASE_TRANSITIONS, current, wanted)


# ---------------------------------------------------------------------------------- reconciliations


class ReconciliationState(StrEnum):
    RECONCILED = "reconciled"  # nothing to adjust (or not refreshed since it was stored)
    AWAITING_APPROVAL = "awaiting_approval"  # a variance line waits for an operator
    POSTING = "posting"  # adjustable lines not all posted yet
    POSTED = "posted"  # every adjustable line posted


RECONCILIATION_TRANSITIONS: dict[ReconciliationState, frozenset[ReconciliationState]] = {
    ReconciliationState.RECONCILED: frozenset(
        {ReconciliationState.AWAITING_APPROVAL, ReconciliationState.POSTING, ReconciliationState.POSTED}
    ),
    ReconciliationState.AWAITING_APPROVAL: frozenset({ReconciliationState.POSTING, ReconciliationState.POSTED}),
    ReconciliationState.POSTING: frozenset({ReconciliationState.POSTED}),
    ReconciliationState.POSTED: frozenset(),
}


def check_reconciliation_transition(subject: str, current: str, wanted: str) -> None:
    _check(subject, RECONCILIATION_TRANSITIONS, current, wanted)


class ApprovalState(StrEnum):
    NONE = "none"  # no variance: nothing to approve
    AUTO = "auto"  # within the partner's tolerance: adjusted without an operator
    PENDING = "pending"  # waits for an operator
    APPROVED = "approved"  # approved by an operator
    REJECTED = "rejected"  # finance rejected the count of the line: not adjusted, an open exception (may be approved later)


APPROVAL_TRANSITIONS: dict[ApprovalState, frozenset[ApprovalState]] = {
    ApprovalState.NONE: frozenset(),
    ApprovalState.AUTO: frozenset(),
    ApprovalState.PENDING: frozenset({ApprovalState.APPROVED, ApprovalState.REJECTED}),
    ApprovalState.APPROVED: frozenset(),
    ApprovalState.REJECTED: frozenset({ApprovalState.APPROVED}),
}


def check_approval_transition(subject: str, current: str, wanted: str) -> None:
    _check(subject, APPROVAL_TRANSITIONS, current, wanted)


# -------------------------------------------------------------------------------- record exceptions


class ExceptionStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


EXCEPTION_TRANSITIONS: dict[ExceptionStatus, frozenset[ExceptionStatus]] = {
    ExceptionStatus.OPEN: frozenset({ExceptionStatus.RESOLVED}),
    ExceptionStatus.RESOLVED: frozenset({ExceptionStatus.OPEN}),
}


def check_exception_transition(subject: str, current: str, wanted: str) -> None:
    _check(subject, EXCEPTION_TRANSITIONS, current, wanted)
