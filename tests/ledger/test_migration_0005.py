"""Revision 0005: row outcomes written before it get ``order_ref``, ``shipped_at`` and ``settled_in`` from their data."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from sqlalchemy import MetaData

from threepl_bridge.ledger.engine import make_engine, migrate
from threepl_bridge.ledger.repo import Ledger

T0 = datetime(2026, 10, 1, 8, tzinfo=timezone.utc)


def data(ref: str, *, sku: str = "FURN_7800", qty: str = "2", shipped: str = "2026-10-01T08:00:00+00:00", tracking: str = "T1") -> str:
    return json.dumps({"order_ref": ref, "sku": sku, "quantity": qty, "uom": "EA", "shipped_at": shipped, "parcel": "P1",
                       "tracking_ref": tracking}, sort_keys=True)


def write_0004_ledger(conn) -> dict[str, int]:
    """Dispatch files as revision 0004 stored them: a file with a posted row, an exception row posted by its replay
    and by a corrected copy, an exception still open, a row without data; another partner's identical shipment."""
    meta = MetaData()
    meta.reflect(conn)
    t = meta.tables

    def exchange(name: str, partner: str = "demo3pl", kind: str = "dispatches") -> int:
        return conn.execute(t["ledger_exchange"].insert().values(
            partner=partner, direction="inbound", kind=kind, remote_folder="/from_3pl/dispatch", remote_name=name, sha256=name[-5] * 64,
            arrival=1, size=10, state="input_processed", rows_total=0, rows_posted=0, rows_exception=0, rows_duplicate=0, attempts=1,
            moved_to=f"/archive/{name}", created_at=T0, updated_at=T0)).inserted_primary_key[0]

    def row(eid: int, number: int, outcome: str, values: str | None, code: str = "", ref: str | None = None) -> int:
        return conn.execute(t["ledger_row_outcome"].insert().values(
            exchange_id=eid, row_number=number, outcome=outcome, code=code, field="", data=values, odoo_ref=ref, created_at=T0,
        )).inserted_primary_key[0]

    ids = {"a": exchange("DISPATCH_A.csv"), "replay": exchange("DISPATCH_A_again.csv"), "fixed": exchange("DISPATCH_F.csv"),
           "other": exchange("DISPATCH_O.csv", partner="semi3pl"), "stock": exchange("STOCK_1.csv", kind="stock")}
    ids["posted"] = row(ids["a"], 1, "posted", data("WH/OUT/00001"), ref="stock.picking,1")
    ids["locked"] = row(ids["a"], 2, "exception", data("WH/OUT/00002"), code="DISPATCH_PERIOD_LOCKED")
    ids["untracked"] = row(ids["a"], 3, "exception", data("WH/OUT/00003", tracking=""), code="DISPATCH_TRACKING_MISSING")
    ids["open"] = row(ids["a"], 4, "exception", data("WH/OUT/00004"), code="DISPATCH_UNKNOWN_ORDER")
    ids["naive"] = row(ids["a"], 5, "exception", data("WH/OUT/00005", shipped="2026-10-01T09:30:00"), code="DISPATCH_SKU_NOT_ON_ORDER")
    ids["nodata"] = row(ids["a"], 6, "exception", None, code="DISPATCH_FIELD_INVALID")
    ids["garbled"] = row(ids["a"], 7, "exception", "{not json", code="DISPATCH_FIELD_INVALID")
    row(ids["replay"], 1, "duplicate", data("WH/OUT/00001"))
    ids["replayed"] = row(ids["replay"], 2, "posted", data("WH/OUT/00002"), ref="stock.picking,2")
    # the 3PL's corrected copy: the same shipment with its tracking number (the fingerprint leaves tracking out)
    ids["corrected"] = row(ids["fixed"], 1, "posted", data("WH/OUT/00003", tracking="T3"), ref="stock.picking,3")
    row(ids["fixed"], 2, "posted", data("WH/OUT/00004", qty="3"), ref="stock.picking,4")  # another quantity: another shipment
    ids["elsewhere"] = row(ids["other"], 1, "posted", data("WH/OUT/00004"), ref="stock.picking,4")  # another partner
    ids["count"] = row(ids["stock"], 1, "posted", None)
    return ids


def test_rows_recorded_before_0005_get_their_columns_and_their_posted_shipments(ledger_url):
    engine = make_engine(ledger_url)
    migrate(engine, "0004")
    with engine.begin() as conn:
        ids = write_0004_ledger(conn)
    migrate(engine)
    ledger = Ledger(engine)
    rows = {r.id: r for eid in (ids["a"], ids["replay"], ids["fixed"], ids["stock"]) for r in ledger.row_outcomes(eid)}
    got = {name: (rows[ids[name]].order_ref, rows[ids[name]].shipped_at, rows[ids[name]].settled_in)
           for name in ("posted", "locked", "untracked", "open", "naive", "nodata", "garbled", "replayed", "corrected", "count")}
    at = datetime(2026, 10, 1, 8, tzinfo=timezone.utc)
    assert got == {
        "posted": ("WH/OUT/00001", at, ids["a"]),              # settled in its own file
        "locked": ("WH/OUT/00002", at, ids["replay"]),         # posted by the replay
        "untracked": ("WH/OUT/00003", at, ids["fixed"]),       # posted by the corrected copy
        "open": ("WH/OUT/00004", at, None),                    # another quantity, another partner: still not posted
        "naive": ("WH/OUT/00005", datetime(2026, 10, 1, 9, 30, tzinfo=timezone.utc), None),
        "nodata": (None, None, ids["a"]),                      # not a shipment: nothing to wait for
        "garbled": (None, None, ids["a"]),
        "replayed": ("WH/OUT/00002", at, ids["replay"]),
        "corrected": ("WH/OUT/00003", at, ids["fixed"]),
        "count": (None, None, ids["stock"]),
    }
    # each row carries its exchange's partner and kind
    assert (rows[ids["posted"]].partner, rows[ids["posted"]].kind, rows[ids["count"]].kind) == ("demo3pl", "dispatches", "stock")
    assert {(r.partner, r.kind) for r in ledger.row_outcomes(ids["other"])} == {("semi3pl", "dispatches")}
    # and the window queries read them
    assert ledger.reported_orders("demo3pl", ["WH/OUT/00002", "WH/OUT/00004", "WH/OUT/00009"]) == {"WH/OUT/00002", "WH/OUT/00004"}
    unposted = [(r["file"], r["row"]) for r in ledger.timing_rows("demo3pl", datetime(2026, 10, 2, tzinfo=timezone.utc)) if r["outcome"] == "exception"]
    assert unposted == [("DISPATCH_A.csv", 4), ("DISPATCH_A.csv", 5)]


def test_a_ledger_of_more_rows_than_a_batch_is_filled_to_the_last_row(ledger_url):
    """12,000 rows (the backfill reads 5,000 at a time): every row gets its columns, and each of the 6,000
    exception rows finds the replay that posted it, wherever the two fall in the batches."""
    engine = make_engine(ledger_url)
    migrate(engine, "0004")
    n = 6000
    with engine.begin() as conn:
        ids = write_0004_ledger(conn)
        meta = MetaData()
        meta.reflect(conn)
        rows = meta.tables["ledger_row_outcome"]
        conn.execute(rows.insert(), [dict(exchange_id=ids["a"], row_number=100 + i, outcome="exception", code="DISPATCH_PERIOD_LOCKED",
                                          field="", data=data(f"WH/OUT/1{i:05d}"), created_at=T0) for i in range(n)])
        conn.execute(rows.insert(), [dict(exchange_id=ids["replay"], row_number=100 + i, outcome="posted", code="", field="",
                                          data=data(f"WH/OUT/1{i:05d}"), odoo_ref=f"stock.picking,{10 + i}", created_at=T0) for i in range(n)])
    migrate(engine)
    ledger = Ledger(engine)
    old = [r for r in ledger.row_outcomes(ids["a"]) if r.row_number >= 100]
    assert len(old) == n and all(r.settled_in == ids["replay"] and r.shipped_at == T0 for r in old)
    assert [r.order_ref for r in old] == [f"WH/OUT/1{i:05d}" for i in range(n)]
    assert all(r.order_ref and r.settled_in == ids["replay"] for r in ledger.row_outcomes(ids["replay"]))
