"""Recovery of dispatch postings (issue 13, defects 2, 3 and 5): a retry after any fault posts every shipped unit
exactly once, a transient Odoo failure is retried instead of refused, and the steps after validation (back-dating,
backorder release, chatter note) are completed by the retry, never doubled.

Faults are real: an HTTP proxy in front of the Odoo stand-in (``tests/faults.py``), or the worker dying
(``SystemExit``) right after one of its side effects."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from tests.faults import FaultyOdoo
from tests.flows.conftest import RUN_AT, World, dispatch_csv, drop
from threepl_bridge.flows.shipments import posting_key
from threepl_bridge.flows.dispatches import DISPATCHES
from threepl_bridge.flows.exchange import handle_file, list_files
from threepl_bridge.ledger.states import State
from threepl_bridge.odoo.client import OdooClient
from threepl_bridge.odoo.errors import OdooTransientError

SHIP_UTC = "2026-11-02 18:00:00"  # 2026-11-02 10:00 in Los Angeles (PST)


@pytest.fixture
def proxy(world) -> Iterator[tuple[FaultyOdoo, OdooClient]]:
    """A fault-injecting proxy in front of the stand-in, and a client that talks through it."""
    with FaultyOdoo(world.odoo.settings.url) as faulty:
        yield faulty, OdooClient(dataclasses.replace(world.odoo.settings, url=faulty.url, backoff=0.0))


def all_rows(released) -> list[str]:
    """Everything shipped in full: 2 + 10 + 4 + 6 + 4 = 26 units on three pickings."""
    one, two, lots = released["one"]["name"], released["two"]["name"], released["lots"]["name"]
    return [
        f"{one},1,FURN_7800,,2,EA,,2026-11-02 10:00:00,The Poste,TP1,P1",
        f"{two},1,FURN_8855,,10,EA,,2026-11-02 10:00:00,Standard delivery,SD1,P2",
        f"{two},2,E-COM11,,4,EA,,2026-11-02 10:00:00,Standard delivery,SD1,P2",
        f"{lots},1,FURN_5555,,6,EA,LOT-A,2026-11-02 10:00:00,Standard delivery,SD2,P3",
        f"{lots},1,FURN_5555,,4,EA,LOT-B,2026-11-02 10:00:00,Standard delivery,SD2,P3",
    ]


def run(world: World, client: OdooClient | None = None) -> list:
    transport = world.transport(world.demo)
    return [handle_file(DISPATCHES, world.demo, name, transport=transport, ledger=world.ledger, client=client or world.odoo, now=RUN_AT)
            for name in list_files(world.demo, DISPATCHES, transport)]


def delivered(world: World, pid: int) -> tuple[str, dict[str, tuple[float, str]]]:
    """The picking's state and, per SKU, (quantity, state) of its moves."""
    [p] = world.x("stock.picking", "read", [pid], fields=["state"])
    found = world.x("stock.move", "search_read", [["picking_id", "=", pid]], fields=["product_id", "quantity", "state"])
    return p["state"], {m["product_id"][1].split("]")[0].strip("["): (m["quantity"], m["state"]) for m in found}


def lot_lines(world: World, pid: int) -> list[tuple[str, float]]:
    lines = world.x("stock.move.line", "search_read", [["picking_id", "=", pid]], fields=["lot_id", "quantity"])
    return sorted((l["lot_id"][1] if l["lot_id"] else "", l["quantity"]) for l in lines if l["quantity"])


def notes(world: World, pid: int) -> list[str]:
    found = world.x("mail.message", "search_read", [["model", "=", "stock.picking"], ["res_id", "=", pid], ["message_type", "=", "comment"]],
                    fields=["body"])
    return [m["body"] for m in found if "Shipped by 3PL" in m["body"]]


def date_done(world: World, pid: int) -> str:
    [p] = world.x("stock.picking", "read", [pid], fields=["date_done"])
    return p["date_done"]


def assert_everything_delivered(world: World, released) -> None:
    assert delivered(world, released["one"]["id"]) == ("done", {"FURN_7800": (2.0, "done")})
    assert delivered(world, released["two"]["id"]) == ("done", {"FURN_8855": (10.0, "done"), "E-COM11": (4.0, "done")})
    assert delivered(world, released["lots"]["id"]) == ("done", {"FURN_5555": (10.0, "done")})
    assert lot_lines(world, released["lots"]["id"]) == [("LOT-A", 6.0), ("LOT-B", 4.0)]
    for key in ("one", "two", "lots"):
        pid = released[key]["id"]
        assert date_done(world, pid) == SHIP_UTC
        assert len(notes(world, pid)) == 1, notes(world, pid)
    [line] = world.x("sale.order.line", "search_read", [["product_id.default_code", "=", "FURN_8855"]], fields=["qty_delivered"])
    assert line["qty_delivered"] == 10.0


def posted_codes(world: World, result) -> dict[int, tuple[str, str]]:
    return {o.row_number: (o.outcome, o.code) for o in world.ledger.row_outcomes(result.exchange_id)}


def kill_after(monkeypatch: pytest.MonkeyPatch, owner: object, name: str, when) -> None:
    """The worker dies right after ``owner.name`` returned, when ``when(*args)`` says so."""
    original = getattr(owner, name)

    def killed(*args, **kwargs):
        out = original(*args, **kwargs)
        if when(*args):
            raise SystemExit(f"killed after {name}")
        return out

    monkeypatch.setattr(owner, name, killed)


# ------------------------------------------------------------------------- defect 2: interrupted validation


def test_validation_that_never_reached_odoo_is_posted_in_full_by_the_retry(world, released, proxy):
    faulty, client = proxy
    drop(world, world.demo, "dispatches", "DISPATCH_T.csv", dispatch_csv(all_rows(released)))
    faulty.fail("button_validate", "timeout_unapplied")
    with pytest.raises(OdooTransientError):
        run(world, client)
    assert delivered(world, released["one"]["id"])[0] == "assigned"  # nothing was validated
    [result] = run(world, client)  # Airflow retries the task
    assert (result.state, result.posted, result.exception) == (State.INPUT_PROCESSED, 5, 0)
    assert faulty.calls("button_validate") == ["timeout_unapplied", "forward"]
    assert_everything_delivered(world, released)


def test_a_lost_reply_after_validation_is_recovered_without_validating_again(world, released, proxy):
    faulty, client = proxy
    drop(world, world.demo, "dispatches", "DISPATCH_L.csv", dispatch_csv(all_rows(released)))
    faulty.fail("button_validate", "lost_reply")
    with pytest.raises(OdooTransientError):
        run(world, client)
    layers = world.x("stock.valuation.layer", "search_count", [])
    [result] = run(world, client)
    assert (result.state, result.posted, result.exception) == (State.INPUT_PROCESSED, 5, 0)
    assert faulty.calls("button_validate") == ["lost_reply"]  # validated once, by the first attempt
    assert world.x("stock.valuation.layer", "search_count", []) == layers
    assert_everything_delivered(world, released)


def test_an_attempt_killed_after_its_posting_intent_is_posted_in_full_by_the_next(world, released, monkeypatch):
    drop(world, world.demo, "dispatches", "DISPATCH_K.csv", dispatch_csv(all_rows(released)))
    with monkeypatch.context() as patch:
        kill_after(patch, type(world.ledger), "start_postings", lambda _self, _partner, items: items[0][0].startswith("dispatch:"))
        with pytest.raises(SystemExit):
            run(world)
    [result] = run(world)
    assert (result.state, result.posted, result.exception) == (State.INPUT_PROCESSED, 5, 0), posted_codes(world, result)
    assert_everything_delivered(world, released)


# -------------------------------------------------------------- defect 3: transient is not a business refusal


@pytest.mark.parametrize("mode", ["502", "serialization"])
def test_a_persistent_transient_failure_is_retried_not_refused(world, released, proxy, mode):
    faulty, client = proxy
    drop(world, world.demo, "dispatches", "DISPATCH_5.csv", dispatch_csv(all_rows(released)))
    faulty.fail("button_validate", mode, times=100)  # longer than the client's retries
    with pytest.raises(OdooTransientError):
        run(world, client)
    [exchange] = [e for e in world.ledger.unsettled_inbound("demo3pl") if e.remote_name == "DISPATCH_5.csv"]
    for key in ("one", "two", "lots"):
        pid = released[key]["id"]
        assert delivered(world, pid)[0] == "assigned"
        assert world.ledger.posting_state("demo3pl", posting_key(pid, exchange.id)) == "intent"  # not failed
    assert "DISPATCH_POST_FAILED" not in {e.code for e in world.ledger.open_exceptions("demo3pl")}
    assert world.ledger.row_outcomes(exchange.id) == []
    assert "DISPATCH_5.csv" in world.files(world.demo, "dispatches")  # stays in the inbox for the retry
    faulty.clear()
    [result] = run(world, client)
    assert (result.state, result.posted, result.exception) == (State.INPUT_PROCESSED, 5, 0), posted_codes(world, result)
    assert_everything_delivered(world, released)


def test_an_access_error_is_still_a_refusal_of_that_picking_only(world, released, proxy):
    faulty, client = proxy
    one, two = released["one"], released["two"]
    drop(world, world.demo, "dispatches", "DISPATCH_A.csv", dispatch_csv(all_rows(released)[:3]))
    faulty.fail("button_validate", "access", times=2)  # the batch, then its first half (picking one)
    [result] = run(world, client)
    assert posted_codes(world, result) == {2: ("exception", "DISPATCH_POST_FAILED"), 3: ("posted", ""), 4: ("posted", "")}
    assert delivered(world, one["id"])[0] == "assigned" and delivered(world, two["id"])[0] == "done"


# ------------------------------------------------------------------ defect 5: the steps after validation


def short_rows(released) -> list[str]:
    """6 of 10 FURN_8855 and none of E-COM11: a backorder of 4 + 4 stays with the 3PL."""
    return [f"{released['two']['name']},1,FURN_8855,,6,EA,,2026-11-02 10:00:00,Standard delivery,SD1,P1"]


def backorder_of(world: World, pid: int) -> dict:
    [back] = world.x("stock.picking", "search_read", [["backorder_id", "=", pid]], fields=["name", "state"])
    return back


def test_killed_after_the_validation_commit_the_retry_does_the_steps_after(world, released, monkeypatch):
    two = released["two"]
    drop(world, world.demo, "dispatches", "DISPATCH_S.csv", dispatch_csv(short_rows(released)))
    with monkeypatch.context() as patch:
        kill_after(patch, type(world.ledger), "complete_postings", lambda _self, _partner, items: items[0][0].startswith("dispatch:"))
        with pytest.raises(SystemExit):
            run(world)
    assert delivered(world, two["id"])[0] == "done" and notes(world, two["id"]) == []
    [result] = run(world)
    assert (result.state, result.posted) == (State.INPUT_PROCESSED, 1)
    assert date_done(world, two["id"]) == SHIP_UTC
    assert len(notes(world, two["id"])) == 1
    back = backorder_of(world, two["id"])
    assert world.ledger.released_pickings("demo3pl")[back["id"]].state == "released"
    assert world.ledger.released_pickings("demo3pl")[two["id"]].state == "done"


MIDWAY = {
    "after back-dating the picking": ("execute", lambda model, method, *args: model == "stock.picking" and (
        (method == "write" and "date_done" in args[1]) or (method == "load" and "date_done" in args[0]))),
    "after the chatter note": ("create_many", lambda model, _values: model == "mail.message"),
}


@pytest.mark.parametrize("where", list(MIDWAY))
def test_killed_in_the_middle_of_the_steps_after_the_retry_completes_them_with_one_note(world, released, monkeypatch, where):
    two = released["two"]
    drop(world, world.demo, "dispatches", "DISPATCH_N.csv", dispatch_csv(short_rows(released)))
    name, when = MIDWAY[where]
    with monkeypatch.context() as patch:
        kill_after(patch, world.odoo, name, when)
        with pytest.raises(SystemExit):
            run(world)
    [result] = run(world)
    assert (result.state, result.posted) == (State.INPUT_PROCESSED, 1)
    assert len(notes(world, two["id"])) == 1
    assert date_done(world, two["id"]) == SHIP_UTC
    [move] = world.x("stock.move", "search_read", [["picking_id", "=", two["id"]], ["state", "=", "done"]], fields=["date", "move_line_ids"])
    assert move["date"] == SHIP_UTC
    assert {l["date"] for l in world.x("stock.move.line", "read", move["move_line_ids"], fields=["date"])} == {SHIP_UTC}
    back = backorder_of(world, two["id"])
    assert world.ledger.released_pickings("demo3pl")[back["id"]].state == "released"


def test_a_lost_reply_on_a_backorder_is_recovered_on_the_backorder(world, released, proxy):
    faulty, client = proxy
    two = released["two"]
    drop(world, world.demo, "dispatches", "DISPATCH_B1.csv", dispatch_csv(short_rows(released)))
    run(world, client)
    back = backorder_of(world, two["id"])
    drop(world, world.demo, "dispatches", "DISPATCH_B2.csv", dispatch_csv([  # the rest, under the order's reference
        f"{two['name']},1,FURN_8855,,4,EA,,2026-11-03 10:00:00,Standard delivery,SD2,P2",
        f"{two['name']},2,E-COM11,,4,EA,,2026-11-03 10:00:00,Standard delivery,SD2,P2",
    ]))
    faulty.fail("button_validate", "lost_reply")
    with pytest.raises(OdooTransientError):
        run(world, client)
    [result] = run(world, client)
    assert (result.state, result.posted, result.exception) == (State.INPUT_PROCESSED, 2, 0), posted_codes(world, result)
    assert result.pickings_posted == [back["name"]]
    assert delivered(world, back["id"]) == ("done", {"FURN_8855": (4.0, "done"), "E-COM11": (4.0, "done")})
    assert faulty.calls("button_validate") == ["forward", "lost_reply"]
    assert len(notes(world, back["id"])) == 1


def test_killed_after_the_lot_lines_before_validation_the_retry_posts_each_lot_once(world, released, monkeypatch):
    lots = released["lots"]
    drop(world, world.demo, "dispatches", "DISPATCH_LOT.csv", dispatch_csv(all_rows(released)[3:]))
    with monkeypatch.context() as patch:
        kill_after(patch, world.odoo, "create_many", lambda model, _values: model == "stock.move.line")
        with pytest.raises(SystemExit):
            run(world)
    assert delivered(world, lots["id"])[0] == "assigned"
    [result] = run(world)
    assert (result.state, result.posted, result.exception) == (State.INPUT_PROCESSED, 2, 0), posted_codes(world, result)
    assert delivered(world, lots["id"]) == ("done", {"FURN_5555": (10.0, "done")})
    assert lot_lines(world, lots["id"]) == [("LOT-A", 6.0), ("LOT-B", 4.0)]
