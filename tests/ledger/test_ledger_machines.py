"""The ledger enforces its state machines (on SQLite and PostgreSQL) and raises typed errors."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from threepl_bridge.flows.outbound import stage_file
from threepl_bridge.ledger.errors import AlreadyStaged, InvalidTransition, LedgerError, MissingPayload, UnknownRecord
from threepl_bridge.ledger.models import ReconciliationLine
from threepl_bridge.ledger.repo import Ledger
from threepl_bridge.ledger.states import ReleaseState

SHA = "e" * 64
WHEN = datetime(2026, 11, 3, 9, tzinfo=timezone.utc)


@pytest.fixture
def ledger(ledger_url: str) -> Ledger:
    return Ledger.open(ledger_url)


def test_posting_journal_follows_its_table(ledger):
    exchange_id = ledger.register_inbound(partner="demo3pl", kind="dispatches", folder="/in", name="D.csv", sha256=SHA, size=1).exchange_id
    ledger.start_postings("demo3pl", [("dispatch:7:1", "stock.picking.button_validate", 7)], exchange_id=exchange_id)
    ledger.start_postings("demo3pl", [("dispatch:7:1", "stock.picking.button_validate", 7)])  # a retry: intent again
    assert ledger.posting_state("demo3pl", "dispatch:7:1") == "intent"
    ledger.fail_posting("demo3pl", "dispatch:7:1", error="refused")
    ledger.fail_posting("demo3pl", "dispatch:7:1", error="refused again")  # same state: allowed
    ledger.start_postings("demo3pl", [("dispatch:7:1", "stock.picking.button_validate", 7)])  # failed -> intent
    ledger.complete_posting("demo3pl", "dispatch:7:1", odoo_id=7)
    ledger.complete_posting("demo3pl", "dispatch:7:1")  # repeated: still done, the Odoo id kept
    ledger.start_postings("demo3pl", [("dispatch:7:1", "stock.picking.button_validate", 7)])  # done stays done
    assert ledger.posting_state("demo3pl", "dispatch:7:1") == "done"
    with pytest.raises(InvalidTransition, match=r"posting 'dispatch:7:1' of demo3pl: cannot go from 'done' to 'failed'"):
        ledger.fail_posting("demo3pl", "dispatch:7:1", error="late")
    assert ledger.posting_state("demo3pl", "dispatch:7:1") == "done"
    with pytest.raises(UnknownRecord):
        ledger.complete_posting("demo3pl", "never-started")


def test_released_pickings_follow_their_table(ledger):
    pickings = [{"picking_id": pid, "picking_name": f"3PL/OUT/{pid:05d}", "content_hash": SHA} for pid in (1, 2, 3)]
    orders = ledger.stage_outbound(partner="demo3pl", kind="orders", folder="/o", name="O1.csv", data=b"o", pickings=pickings)
    assert {pid: r.state for pid, r in ledger.released_pickings("demo3pl").items()} == {1: "pending", 2: "pending", 3: "pending"}
    with pytest.raises(InvalidTransition, match="pending.*cancel_sent"):  # only a released picking can be cancelled
        ledger.stage_outbound(partner="demo3pl", kind="cancellations", folder="/c", name="C0.csv", data=b"c0", picking_states={1: "cancel_sent"})
    assert ledger.pending_outbound("demo3pl", "cancellations") == []  # refused as a whole: no file staged
    ledger.mark_sent(orders.exchange_id)
    ledger.mark_sent(orders.exchange_id)
    ledger.set_released_state("demo3pl", 1, ReleaseState.DONE)
    ledger.set_released_state("demo3pl", 1, "done")  # repeating is allowed
    ledger.stage_outbound(partner="demo3pl", kind="cancellations", folder="/c", name="C1.csv", data=b"c", picking_states={2: "cancel_sent"})
    ledger.set_released_state("demo3pl", 3, "cancelled")
    states = {pid: r.state for pid, r in ledger.released_pickings("demo3pl").items()}
    assert states == {1: "done", 2: "cancel_sent", 3: "cancelled"}
    assert set(ledger.released_pickings("demo3pl", states=[ReleaseState.CANCEL_SENT, "cancelled"])) == {2, 3}
    for pid, wanted in ((1, "released"), (2, "released"), (3, "pending"), (1, "cancel")):
        with pytest.raises(InvalidTransition):
            ledger.set_released_state("demo3pl", pid, wanted)
    ledger.set_released_state("demo3pl", 2, "done")  # the 3PL shipped before it saw the cancellation: Odoo says done
    assert ledger.released_pickings("demo3pl")[2].state == "done"
    with pytest.raises(UnknownRecord, match="released picking 99 of demo3pl does not exist"):
        ledger.set_released_state("demo3pl", 99, "done")
    with pytest.raises(KeyError):  # UnknownRecord is a KeyError
        ledger.mark_noted("demo3pl", 99)


def _line(sku: str, approval: str, variance: str) -> dict[str, object]:
    return {"sku": sku, "lot": "", "product_id": 1, "threepl_qty": Decimal(5), "odoo_qty": Decimal(5) - Decimal(variance),
            "variance_qty": Decimal(variance), "classification": "variance" if variance != "0" else "match", "approval": approval}


def test_reconciliation_and_approvals_follow_their_tables(ledger):
    stock = ledger.register_inbound(partner="demo3pl", kind="stock", folder="/in", name="S.csv", sha256=SHA, size=1).exchange_id
    recon_id = ledger.store_reconciliation(
        partner="demo3pl", exchange_id=stock, as_of=WHEN, currency="EUR", variance_value=Decimal("3.00"), data_quality=[],
        unknown_rows={}, lines=[_line("A", "auto", "1"), _line("B", "pending", "-2"), _line("C", "none", "0")],
    )
    assert ledger.reconciliation(recon_id).state == "reconciled"
    assert ledger.refresh_reconciliation_state(recon_id) == "awaiting_approval"
    assert ledger.refresh_reconciliation_state(recon_id) == "awaiting_approval"  # repeating is allowed
    assert ledger.approve_lines(recon_id, ["A", "C"], "ops") == 0  # auto and none lines are not pending: nothing to approve
    assert ledger.approve_lines(recon_id, ["B"], "ops") == 1
    assert ledger.approve_lines(recon_id, None, "ops") == 0  # approved stays approved
    assert {l.sku: l.approval for l in ledger.reconciliation_lines(recon_id)} == {"A": "auto", "B": "approved", "C": "none"}
    assert ledger.refresh_reconciliation_state(recon_id) == "posting"
    for line in ledger.reconciliation_lines(recon_id):
        if line.variance_qty:
            key = f"adjust:{recon_id}:{line.sku}:"
            ledger.start_postings("demo3pl", [(key, "stock.quant", 1)])
            ledger.complete_posting("demo3pl", key)
            ledger.set_line_posted(line.id, key)
    assert ledger.refresh_reconciliation_state(recon_id) == "posted"
    # a posted reconciliation never goes back: lines that say otherwise are refused, not silently re-derived
    first_line = ledger.reconciliation_lines(recon_id)[0].id
    with ledger.session() as s:  # a line loses its posting behind the ledger's back
        s.get(ReconciliationLine, first_line).posting_id = None
    with pytest.raises(InvalidTransition, match=f"reconciliation {recon_id}: cannot go from 'posted' to 'posting'"):
        ledger.refresh_reconciliation_state(recon_id)
    assert ledger.reconciliation(recon_id).state == "posted"
    with pytest.raises(UnknownRecord):
        ledger.refresh_reconciliation_state(recon_id + 100)


def test_a_resolved_exception_seen_again_is_open_again(ledger):
    key = dict(partner="demo3pl", code="PENDING_AT_3PL", object_type="picking", object_ref="3PL/OUT/00009")
    first = ledger.raise_exception(**key, message="pending", at=WHEN)
    assert ledger.resolve_exceptions(partner="demo3pl", object_type="picking", object_ref="3PL/OUT/00009") == 1
    assert ledger.resolve_exceptions(partner="demo3pl", object_type="picking", object_ref="3PL/OUT/00009") == 0
    later = datetime(2026, 11, 4, 9, tzinfo=timezone.utc)
    assert ledger.raise_exception(**key, message="pending again", at=later) == first
    [again] = ledger.open_exceptions("demo3pl")
    assert (again.status, again.resolved_at, again.first_seen_at, again.occurrences) == ("open", None, later, 2)


def test_a_name_staged_with_other_content_is_already_staged(ledger):
    kw = dict(partner="demo3pl", kind="orders", folder="/to_3pl/orders", name="ORDERS_1.csv")
    first = ledger.stage_outbound(**kw, data=b"one")
    with pytest.raises(AlreadyStaged) as info:
        ledger.stage_outbound(**kw, data=b"two")
    assert isinstance(info.value, ValueError) and isinstance(info.value, LedgerError)
    assert (info.value.folder, info.value.name, info.value.exchange_id) == ("/to_3pl/orders", "ORDERS_1.csv", first.exchange_id)
    # the outbound flow catches the type and takes the next free name; the same content keeps its name
    template = "ORDERS_{date}.csv"
    one = stage_file(ledger, partner="demo3pl", kind="orders", folder="/o", template=template, when=WHEN, data=b"one")
    two = stage_file(ledger, partner="demo3pl", kind="orders", folder="/o", template=template, when=WHEN, data=b"two")
    assert stage_file(ledger, partner="demo3pl", kind="orders", folder="/o", template=template, when=WHEN, data=b"two") == two
    assert (ledger.exchange(one).remote_name, ledger.exchange(two).remote_name) == ("ORDERS_20261103.csv", "ORDERS_20261103-2.csv")


def test_unknown_records_and_missing_payloads_are_typed(ledger):
    with pytest.raises(UnknownRecord, match="exchange 404 does not exist"):
        ledger.exchange(404)
    with pytest.raises(UnknownRecord):
        ledger.transition(404, "input_validated")
    with pytest.raises(UnknownRecord):
        ledger.reconciliation(404)
    inbound = ledger.register_inbound(partner="demo3pl", kind="stock", folder="/in", name="S.csv", sha256=SHA, size=1).exchange_id
    with pytest.raises(MissingPayload, match=f"exchange {inbound} has no stored payload"):
        ledger.payload(inbound)
