"""The ledger on SQLite and on PostgreSQL: registration, state table, row outcomes, exceptions, watermarks."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from threepl_bridge.ledger.models import ReleasedPicking
from threepl_bridge.ledger.repo import Ledger
from threepl_bridge.ledger.states import InvalidTransition, Outcome, State

SHA_A = "a" * 64
SHA_B = "b" * 64


@pytest.fixture
def ledger(ledger_url: str) -> Ledger:
    return Ledger.open(ledger_url)


def register(ledger: Ledger, name: str = "DISPATCH_1.csv", sha: str = SHA_A, folder: str = "/in"):
    return ledger.register_inbound(partner="demo3pl", kind="dispatches", folder=folder, name=name, sha256=sha, size=10)


def test_same_file_listed_twice_is_one_exchange(ledger):
    first = register(ledger)
    again = register(ledger)
    assert first.created and not again.created
    assert again.exchange_id == first.exchange_id
    assert again.state == State.INPUT_RECEIVED
    assert ledger.count_exchanges("demo3pl") == 1


def test_same_content_under_another_name_is_a_recorded_duplicate(ledger):
    original = register(ledger, "DISPATCH_1.csv")
    copy = register(ledger, "DISPATCH_1_resent.csv")
    assert copy.created
    assert copy.state == State.INPUT_DUPLICATE
    assert copy.duplicate_of == original.exchange_id
    events = ledger.events(copy.exchange_id)
    assert [e.to_state for e in events] == ["input_duplicate"]
    assert "DISPATCH_1.csv" in events[0].note


def test_same_name_with_new_content_is_a_new_exchange(ledger):
    first = register(ledger, "STOCK.csv", SHA_A)
    second = register(ledger, "STOCK.csv", SHA_B)
    assert second.created and second.exchange_id != first.exchange_id
    assert second.state == State.INPUT_RECEIVED


def test_transitions_follow_the_state_table(ledger):
    reg = register(ledger)
    ledger.transition(reg.exchange_id, State.INPUT_VALIDATED, run_id="run-1")
    ledger.transition(reg.exchange_id, State.INPUT_VALIDATED, run_id="run-2")  # a retry repeats: no-op
    ledger.transition(reg.exchange_id, State.INPUT_PROCESSED)
    with pytest.raises(InvalidTransition, match="input_processed.*input_received"):
        ledger.transition(reg.exchange_id, State.INPUT_RECEIVED)
    exchange = ledger.exchange(reg.exchange_id)
    assert exchange.state == "input_processed"
    assert [(e.from_state, e.to_state) for e in ledger.events(reg.exchange_id)] == [
        (None, "input_received"),
        ("input_received", "input_validated"),
        ("input_validated", "input_processed"),
    ]


def test_error_is_stored_and_replay_clears_it(ledger):
    reg = register(ledger)
    ledger.transition(reg.exchange_id, State.INPUT_ERROR, error="DISPATCH_1.csv row 3 field qty_shipped: not a number")
    assert "row 3" in ledger.exchange(reg.exchange_id).error
    ledger.transition(reg.exchange_id, State.INPUT_RECEIVED, note="replayed by operator")
    exchange = ledger.exchange(reg.exchange_id)
    assert exchange.state == "input_received" and exchange.error is None
    assert exchange.attempts == 2


def test_row_outcomes_are_stored_once_and_counts_add_up(ledger):
    reg = register(ledger)
    outcomes = [
        {"row_number": 1, "outcome": Outcome.POSTED, "record_key": "3PL/OUT/00001", "odoo_ref": "stock.picking,7"},
        {"row_number": 2, "outcome": Outcome.EXCEPTION, "code": "UNKNOWN_SKU", "field": "sku", "message": "SKU X"},
        {"row_number": 2, "outcome": Outcome.EXCEPTION, "code": "UOM_MISMATCH", "field": "uom", "message": "CS"},
        {"row_number": 3, "outcome": Outcome.DUPLICATE, "message": "already posted"},
    ]
    ledger.record_rows(reg.exchange_id, outcomes)
    ledger.record_rows(reg.exchange_id, outcomes)  # a retried task records the same outcomes again
    assert len(ledger.row_outcomes(reg.exchange_id)) == 4
    counts = ledger.close_counts(reg.exchange_id, rows_total=3)
    assert counts == {"posted": 1, "exception": 1, "duplicate": 1}
    exchange = ledger.exchange(reg.exchange_id)
    assert (exchange.rows_total, exchange.rows_posted, exchange.rows_exception, exchange.rows_duplicate) == (3, 1, 1, 1)


def test_counts_refuse_rows_without_outcome_or_with_two(ledger):
    reg = register(ledger)
    ledger.record_rows(reg.exchange_id, [{"row_number": 1, "outcome": Outcome.POSTED}])
    with pytest.raises(ValueError, match="1 of 2 rows have no outcome"):
        ledger.close_counts(reg.exchange_id, rows_total=2)
    ledger.record_rows(reg.exchange_id, [{"row_number": 1, "outcome": Outcome.EXCEPTION, "code": "X"}])
    with pytest.raises(ValueError, match=r"rows \[1\] have more than one outcome"):
        ledger.close_counts(reg.exchange_id, rows_total=1)


def test_outbound_files_are_staged_once_per_name_and_content(ledger):
    kw = dict(partner="demo3pl", kind="orders", folder="/to_3pl/orders", name="ORDERS_1.csv")
    first = ledger.stage_outbound(**kw, data=b"a,b\r\n", pickings=[{"picking_id": 7, "picking_name": "3PL/OUT/00007", "content_hash": SHA_A}])
    again = ledger.stage_outbound(**kw, data=b"a,b\r\n")
    assert first.created and not again.created and again.state == State.OUTPUT_PENDING
    assert ledger.payload(first.exchange_id) == b"a,b\r\n"
    assert ledger.released_pickings("demo3pl")[7].state == "pending"
    with pytest.raises(ValueError, match="already staged"):
        ledger.stage_outbound(**kw, data=b"other")
    ledger.mark_sent(first.exchange_id)
    ledger.mark_sent(first.exchange_id)  # idempotent
    assert ledger.exchange(first.exchange_id).state == "output_sent"
    assert ledger.released_pickings("demo3pl")[7].state == "released"
    assert ledger.pending_outbound("demo3pl", "orders") == []


def test_exceptions_stay_open_while_seen_and_resolve(ledger):
    t0 = datetime(2026, 11, 1, 8, tzinfo=timezone.utc)
    t1 = datetime(2026, 11, 2, 8, tzinfo=timezone.utc)
    key = dict(partner="demo3pl", code="PENDING_AT_3PL", object_type="picking", object_ref="3PL/OUT/00007")
    first = ledger.raise_exception(**key, message="pending 50 h", at=t0)
    again = ledger.raise_exception(**key, message="pending 74 h", at=t1)
    assert first == again
    [open_one] = ledger.open_exceptions("demo3pl")
    assert (open_one.occurrences, open_one.message, open_one.first_seen_at, open_one.last_seen_at) == (
        2, "pending 74 h", t0, t1,
    )
    assert ledger.resolve_exceptions(partner="demo3pl", object_type="picking", object_ref="3PL/OUT/00007") == 1
    assert ledger.open_exceptions("demo3pl") == []


def test_many_exceptions_raised_at_once_open_count_and_reopen_as_one_by_one(ledger):
    t0 = datetime(2026, 11, 1, 8, tzinfo=timezone.utc)
    t1 = datetime(2026, 11, 2, 8, tzinfo=timezone.utc)
    scope = dict(partner="demo3pl", code="PENDING_AT_3PL", object_type="picking")
    seen = ledger.raise_exception(**scope, object_ref="OUT/1", message="pending 50 h", at=t0)
    gone = ledger.raise_exception(**scope, object_ref="OUT/2", message="pending 50 h", at=t0)
    ledger.resolve_exceptions(partner="demo3pl", object_type="picking", object_ref="OUT/2")
    ids = ledger.raise_exceptions_of(**scope, messages={"OUT/1": "pending 74 h", "OUT/2": "pending again", "OUT/3": "pending 49 h"}, at=t1)
    assert (ids["OUT/1"], ids["OUT/2"]) == (seen, gone) and ids["OUT/3"] not in (seen, gone)
    got = {e.object_ref: (e.occurrences, e.message, e.first_seen_at, e.last_seen_at) for e in ledger.open_exceptions("demo3pl")}
    assert got == {"OUT/1": (2, "pending 74 h", t0, t1), "OUT/2": (2, "pending again", t1, t1), "OUT/3": (1, "pending 49 h", t1, t1)}


def test_watermark_only_moves_forward(ledger):
    assert ledger.watermark("demo3pl", "products") is None
    assert ledger.advance_watermark("demo3pl", "products", "2026-11-01 10:00:00", 40)
    assert not ledger.advance_watermark("demo3pl", "products", "2026-11-01 09:00:00", 99)
    assert not ledger.advance_watermark("demo3pl", "products", "2026-11-01 10:00:00", 40)
    assert ledger.advance_watermark("demo3pl", "products", "2026-11-01 10:00:00", 41)
    assert ledger.watermark("demo3pl", "products") == ("2026-11-01 10:00:00", 41)


def test_a_picking_is_released_once_per_partner(ledger):
    from sqlalchemy.exc import IntegrityError

    reg = ledger.stage_outbound(partner="demo3pl", kind="orders", folder="/o", name="O.csv", data=b"x")
    with ledger.session() as s:
        s.add(ReleasedPicking(partner="demo3pl", picking_id=7, picking_name="3PL/OUT/00007", exchange_id=reg.exchange_id, content_hash=SHA_A))
    with pytest.raises(IntegrityError):
        with ledger.session() as s:
            s.add(ReleasedPicking(partner="demo3pl", picking_id=7, picking_name="3PL/OUT/00007", exchange_id=reg.exchange_id, content_hash=SHA_B))
    assert list(ledger.released_pickings("demo3pl")) == [7]
    with ledger.session() as s:
        assert s.scalars(select(ReleasedPicking)).one().released_at.tzinfo is not None


def test_naive_datetimes_are_refused(ledger):
    with pytest.raises(Exception, match="naive datetime"):
        ledger.raise_exception(
            partner="p", code="C", object_type="t", object_ref="r", message="m", at=datetime(2026, 1, 1)
        )
