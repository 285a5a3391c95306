"""The state machines: enums of the strings stored today, their transition tables, and the typed errors."""

from __future__ import annotations

import pytest

from threepl_bridge.ledger.errors import AlreadyStaged, InvalidTransition, LedgerError, UnknownRecord
from threepl_bridge.ledger.states import (
    APPROVAL_TRANSITIONS,
    EXCEPTION_TRANSITIONS,
    POSTING_TRANSITIONS,
    RECONCILIATION_TRANSITIONS,
    RELEASE_TRANSITIONS,
    TRANSITIONS,
    ApprovalState,
    ExceptionStatus,
    PostingState,
    ReconciliationState,
    ReleaseState,
    State,
    check_approval_transition,
    check_exception_transition,
    check_posting_transition,
    check_reconciliation_transition,
    check_release_transition,
    check_transition,
)
from threepl_bridge.ledger.states import InvalidTransition as InvalidTransitionFromStates

# Written out by hand: changing a table means changing this list, on purpose.
LEGAL = {
    "posting": {("intent", "done"), ("intent", "failed"), ("failed", "intent")},
    "release": {("pending", "released"), ("pending", "done"), ("released", "done"), ("released", "cancel_sent"),
                ("released", "cancelled"), ("cancel_sent", "done"), ("cancelled", "done")},
    "reconciliation": {("reconciled", "awaiting_approval"), ("reconciled", "posting"), ("reconciled", "posted"),
                       ("awaiting_approval", "posting"), ("awaiting_approval", "posted"), ("posting", "posted")},
    "approval": {("pending", "approved"), ("pending", "rejected"), ("rejected", "approved")},
    "exception": {("open", "resolved"), ("resolved", "open")},
}
MACHINES = {
    "posting": (PostingState, POSTING_TRANSITIONS, check_posting_transition),
    "release": (ReleaseState, RELEASE_TRANSITIONS, check_release_transition),
    "reconciliation": (ReconciliationState, RECONCILIATION_TRANSITIONS, check_reconciliation_transition),
    "approval": (ApprovalState, APPROVAL_TRANSITIONS, check_approval_transition),
    "exception": (ExceptionStatus, EXCEPTION_TRANSITIONS, check_exception_transition),
}


def test_enums_hold_the_strings_the_ledger_stores():
    assert {s.value for s in PostingState} == {"intent", "done", "failed"}
    assert {s.value for s in ReleaseState} == {"pending", "released", "done", "cancel_sent", "cancelled"}
    assert {s.value for s in ReconciliationState} == {"reconciled", "awaiting_approval", "posting", "posted"}
    assert {s.value for s in ApprovalState} == {"none", "auto", "pending", "approved", "rejected"}
    assert {s.value for s in ExceptionStatus} == {"open", "resolved"}
    assert PostingState.DONE == "done" and "pending" == ApprovalState.PENDING  # callers comparing with strings keep working


@pytest.mark.parametrize("machine", sorted(MACHINES))
def test_every_state_has_a_row_and_the_table_is_the_documented_one(machine):
    enum, table, _ = MACHINES[machine]
    assert set(table) == set(enum)
    assert {(a.value, b.value) for a, nxt in table.items() for b in nxt} == LEGAL[machine]


@pytest.mark.parametrize("machine", sorted(MACHINES))
def test_check_allows_the_table_and_staying_put_and_refuses_the_rest(machine):
    enum, _, check = MACHINES[machine]
    for current in enum:
        for wanted in enum:
            if current == wanted or (current.value, wanted.value) in LEGAL[machine]:
                check("record 1", current.value, wanted.value)  # plain strings, as read from the database
                check("record 1", current, wanted)
            else:
                with pytest.raises(InvalidTransition) as info:
                    check("record 1", current.value, wanted.value)
                assert (info.value.current, info.value.wanted) == (current.value, wanted.value)
                assert f"record 1: cannot go from {current.value!r} to {wanted.value!r}" in str(info.value)


@pytest.mark.parametrize("machine", sorted(MACHINES))
def test_unknown_states_are_refused(machine):
    enum, _, check = MACHINES[machine]
    first = next(iter(enum)).value
    with pytest.raises(InvalidTransition):
        check("record 1", first, "bogus")
    with pytest.raises(InvalidTransition):
        check("record 1", "bogus", first)


def test_exchange_table_is_unchanged_and_its_check_names_the_exchange():
    assert TRANSITIONS[State.INPUT_VALIDATED] == {State.INPUT_PROCESSED, State.INPUT_ERROR, State.INPUT_RECEIVED}
    check_transition(7, "input_processed", "input_processed")  # repeating is allowed
    with pytest.raises(InvalidTransition, match=r"exchange 7: cannot go from 'input_processed' to 'input_received' \(allowed: none\)"):
        check_transition(7, "input_processed", "input_received")
    with pytest.raises(InvalidTransition, match=r"allowed: \['output_error', 'output_sent'\]"):
        check_transition(7, "output_pending", "input_received")


def test_errors_are_typed_and_keep_their_old_base_classes():
    assert InvalidTransitionFromStates is InvalidTransition
    assert issubclass(InvalidTransition, LedgerError) and issubclass(InvalidTransition, RuntimeError)
    assert issubclass(AlreadyStaged, LedgerError) and issubclass(AlreadyStaged, ValueError)
    assert issubclass(UnknownRecord, LedgerError) and issubclass(UnknownRecord, KeyError)
    assert str(UnknownRecord("exchange", 3)) == "exchange 3 does not exist"
    staged = AlreadyStaged("/to_3pl", "O.csv", 4)
    assert (staged.folder, staged.name, staged.exchange_id) == ("/to_3pl", "O.csv", 4)
    assert "already staged (exchange 4)" in str(staged)
