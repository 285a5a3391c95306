"""The window queries of the pending check and the timing lookup return what the full scan of a partner's
dispatch rows (``Ledger.dispatch_rows``) returned, on histories recorded through the ledger's API."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone

import pytest

from threepl_bridge.ledger.repo import Ledger
from threepl_bridge.ledger.states import Outcome

DAY0 = datetime(2026, 9, 1, 6, tzinfo=timezone.utc)
CODES = ["DISPATCH_LOCKED_PERIOD", "DISPATCH_UNKNOWN_ORDER", "DISPATCH_SKU_NOT_ON_ORDER", "DISPATCH_TRACKING_MISSING"]


def values(ref: str, sku: str, qty: int, shipped: datetime, tracking: str = "T") -> dict[str, str]:
    return {"order_ref": ref, "sku": sku, "quantity": str(qty), "uom": "EA", "shipped_at": shipped.isoformat(), "parcel": "P1",
            "tracking_ref": tracking}


class History:
    """Dispatch files recorded through the ledger, each at its own moment of the ledger's clock, with the moment
    Odoo did each posted picking (``done``): validated just before the rows were recorded, by an Odoo clock up to
    two hours ahead of the ledger's, or back-dated to the ship time."""

    def __init__(self, ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
        self.ledger, self.clock, self.done = ledger, [DAY0], {}
        self.files: list[tuple[int, datetime]] = []
        monkeypatch.setattr("threepl_bridge.ledger.exchanges.utcnow", lambda: self.clock[0])

    def file(self, name: str, rows: list[tuple[str, dict[str, str], str]], at: datetime, *, partner: str = "demo3pl",
             done: str = "validated") -> int:
        """rows: (outcome, values, code); posted rows are posted on the picking named by their order."""
        reg = self.ledger.register_inbound(partner=partner, kind="dispatches", folder="/from_3pl/dispatch", name=name,
                                           sha256=f"{len(self.files):064x}", size=1)
        self.clock[0] = at
        outcomes = []
        for number, (outcome, data, code) in enumerate(rows, start=2):
            item = {"row_number": number, "outcome": outcome, "data": json.dumps(data, sort_keys=True)}
            if outcome == Outcome.POSTED:
                pid = int(data["order_ref"].rsplit("/", 1)[1])
                item["odoo_ref"] = f"stock.picking,{pid}"
                self.done[pid] = {"validated": at - timedelta(minutes=1), "ahead": at + timedelta(hours=2),
                                  "backdated": datetime.fromisoformat(data["shipped_at"])}[done]
            for one in code.split("+") if code else [""]:
                outcomes.append({**item, "code": one, "field": "x" if one else ""})
        self.ledger.record_rows(reg.exchange_id, outcomes)
        self.files.append((reg.exchange_id, at))
        return reg.exchange_id


def random_history(h: History, files: int = 40, seed: int = 7) -> None:
    rnd = random.Random(seed)
    posted: list[dict[str, str]] = []
    for f in range(files):
        at = DAY0 + timedelta(hours=6 * f, minutes=rnd.randrange(60))
        rows = []
        for r in range(8):
            ref = f"WH/OUT/{f * 10 + r:05d}"
            data = values(ref, rnd.choice("ABC"), rnd.randrange(1, 9), at - timedelta(hours=rnd.randrange(1, 30)))
            roll = rnd.random()
            if roll < 0.15 and posted:
                rows.append((Outcome.DUPLICATE, rnd.choice(posted), ""))  # the same shipment again, in a later file
            elif roll < 0.35:
                rows.append((Outcome.EXCEPTION, data, "+".join(rnd.sample(CODES, rnd.choice([1, 1, 2])))))  # one or two problems
            else:
                rows.append((Outcome.POSTED, data, ""))
                posted.append(data)
        h.file(f"DISPATCH_{f:03d}.csv", rows, at, done=["validated", "ahead", "backdated"][f % 3])


def explained(rows: list[dict[str, object]], as_of: datetime, done: dict[int, datetime]) -> list[tuple[object, ...]]:
    """What _timing explains with these rows (flows/stock.py): not posted, or posted on a picking done after T."""
    out = []
    for row in rows:
        data = row["data"]
        if not data.get("shipped_at") or not data.get("sku") or data.get("quantity") is None:
            continue
        if datetime.fromisoformat(data["shipped_at"]) > as_of:
            continue
        if row["outcome"] == Outcome.EXCEPTION or (
                row["outcome"] == Outcome.POSTED and row["odoo_ref"] and done[int(str(row["odoo_ref"]).split(",")[1])] > as_of):
            out.append((row["file"], row["row"], row["outcome"], row["code"], json.dumps(data, sort_keys=True)))
    return out


def moments(h: History) -> list[datetime]:
    """Counts before any file, around each file's recording, and long after the last."""
    return [DAY0 - timedelta(days=1), *(at + d for _, at in h.files for d in (timedelta(hours=-3), timedelta(minutes=30))),
            h.files[-1][1] + timedelta(days=5)]


def test_the_timing_window_explains_what_the_full_scan_explained(ledger_url, monkeypatch):
    h = History(Ledger.open(ledger_url), monkeypatch)
    random_history(h)
    everything = h.ledger.dispatch_rows("demo3pl")
    assert len(everything) == 40 * 8
    sizes = []
    for as_of in moments(h):
        window = h.ledger.timing_rows("demo3pl", as_of)
        assert explained(window, as_of, h.done) == explained(everything, as_of, h.done), as_of
        sizes.append(len(window))
    # the window holds the rows not posted and those of the last day, not the history
    assert max(sizes) < len(everything) / 2


def test_an_exception_posted_by_a_replay_or_a_corrected_file_no_longer_explains_a_difference(ledger_url, monkeypatch):
    h = History(Ledger.open(ledger_url), monkeypatch)
    random_history(h, files=12)
    shipped = DAY0 - timedelta(hours=5)
    locked = values("WH/OUT/90001", "A", 4, shipped)
    untracked = values("WH/OUT/90002", "B", 2, shipped, tracking="")
    unknown = values("WH/OUT/90003", "C", 1, shipped)
    first = h.file("DISPATCH_L.csv", [(Outcome.EXCEPTION, locked, "DISPATCH_LOCKED_PERIOD"),
                                      (Outcome.EXCEPTION, untracked, "DISPATCH_TRACKING_MISSING"),
                                      (Outcome.EXCEPTION, unknown, "DISPATCH_UNKNOWN_ORDER")], DAY0 + timedelta(days=4))
    # another partner posts the very same shipment: nothing of demo3pl's is settled by it
    h.file("DISPATCH_O.csv", [(Outcome.POSTED, unknown, "")], DAY0 + timedelta(days=5), partner="semi3pl")
    replay = h.file("DISPATCH_L.csv", [(Outcome.POSTED, locked, "")], DAY0 + timedelta(days=6))
    h.file("DISPATCH_L_fixed.csv", [(Outcome.POSTED, {**untracked, "tracking_ref": "T9"}, "")], DAY0 + timedelta(days=7), done="backdated")
    rows = {r.row_number: r for r in h.ledger.row_outcomes(first)}
    assert (rows[2].settled_in, rows[3].settled_in, rows[4].settled_in) == (replay, replay + 1, None)

    everything = h.ledger.dispatch_rows("demo3pl")
    settled = {("DISPATCH_L.csv", 2), ("DISPATCH_L.csv", 3)}
    for as_of in [DAY0 + timedelta(days=d) for d in (1, 4.5, 6.5, 10)]:
        old = explained(everything, as_of, h.done)
        new = explained(h.ledger.timing_rows("demo3pl", as_of), as_of, h.done)
        # the full scan counted both the exception and its posting (twice the goods); the window counts the shipment once
        assert new == [r for r in old if not (r[2] == Outcome.EXCEPTION and r[:2] in settled)]
        assert {("DISPATCH_L.csv", 2, Outcome.EXCEPTION), ("DISPATCH_L.csv", 4, Outcome.EXCEPTION)} <= {r[:3] for r in old}
        assert ("DISPATCH_L.csv", 4, Outcome.EXCEPTION) in {r[:3] for r in new}  # still not posted for demo3pl


def test_an_exception_recorded_after_its_shipment_was_posted_is_settled_at_once(ledger_url, monkeypatch):
    h = History(Ledger.open(ledger_url), monkeypatch)
    shipment = values("WH/OUT/00042", "A", 3, DAY0)
    posted = h.file("DISPATCH_1.csv", [(Outcome.POSTED, shipment, "")], DAY0 + timedelta(hours=2))
    late = h.file("DISPATCH_2.csv", [(Outcome.EXCEPTION, shipment, "DISPATCH_UNKNOWN_ORDER")], DAY0 + timedelta(days=3))
    assert [r.settled_in for r in h.ledger.row_outcomes(late)] == [posted]
    assert [r["file"] for r in h.ledger.timing_rows("demo3pl", DAY0 + timedelta(days=4))] == []


def test_the_pending_check_finds_exactly_the_orders_the_full_scan_found(ledger_url, monkeypatch):
    h = History(Ledger.open(ledger_url), monkeypatch)
    random_history(h, files=20)
    h.file("DISPATCH_O.csv", [(Outcome.POSTED, values("WH/OUT/77777", "A", 1, DAY0), "")], DAY0, partner="semi3pl")
    reported = {r["data"].get("order_ref") for r in h.ledger.dispatch_rows("demo3pl")}
    names = [f"WH/OUT/{n:05d}" for n in range(0, 260, 3)] + ["WH/OUT/77777", "OTHER/1"]
    assert h.ledger.reported_orders("demo3pl", names) == reported & set(names)
    assert h.ledger.reported_orders("demo3pl", []) == set()
