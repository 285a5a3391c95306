"""Benchmark: reconcile a 1,000,000-line stock snapshot (100,000 SKUs x 10 lots).

Prints, for the demo partner's layout: the time pandas alone takes to read the file, our reader (layout
conversions, per-row problems), the Great Expectations suite, counting and classifying every (SKU, lot)
against Odoo's quantities at T, storing the reconciliation in the ledger (SQLite), and the process's peak memory.
Odoo's side (products, quantities at T, unit costs) is synthesised here: with a real server those are paged
reads (500 records per call) whose cost depends on the server, not on this code.

    ./bin/bench benchmarks/reconcile_snapshot.py [SKUS] [LOTS]
"""

from __future__ import annotations

import io
import os
import resource
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "plugins"), str(REPO)]
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="bench-airflow-"))

from threepl_bridge.specs.loader import load_partner  # noqa: E402


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def snapshot(skus: int, lots: int) -> bytes:
    out = io.StringIO()
    out.write("sku,lot,qty_on_hand,uom,status,snapshot_at\r\n")
    for s in range(skus):
        for l in range(lots):
            qty = 100 + (s + l) % 50 - (1 if s % 97 == 0 and l == 0 else 0)  # ~1% of SKUs short by one
            out.write(f"SKU{s:06d},L{l:02d},{qty},EA,ok,2026-10-31 22:00:00\r\n")
    return out.getvalue().encode()


def main() -> None:
    skus = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    lots = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    partner = load_partner(REPO / "sftp_formats" / "partners" / "demo3pl.yaml")
    layout = partner.layout_for("stock")
    data = snapshot(skus, lots)
    print(f"snapshot: {skus * lots:,} lines, {len(data) / 2**20:.1f} MiB; baseline peak {peak_mib():.0f} MiB")
    figures = []

    import pandas as pd

    t = time.perf_counter()
    pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
    figures.append(("pandas.read_csv alone", time.perf_counter() - t))

    from threepl_bridge.formats.reader import read_frame

    t = time.perf_counter()
    frame, problems = read_frame(layout, data, partner.spec.tz)
    frame["lot_key"] = frame["lot"].fillna("")
    figures.append(("read_frame (layout, types, time zone)", time.perf_counter() - t))

    from datetime import datetime, timezone

    from threepl_bridge.quality import validate_frame

    t = time.perf_counter()
    issues, _ = validate_frame("stock", frame, parameters={"uom_codes": ["EA"], "now": datetime(2026, 11, 22, tzinfo=timezone.utc)})
    figures.append((f"Great Expectations suite ({len(issues)} issues)", time.perf_counter() - t))

    from threepl_bridge.flows.stock import classify, count_snapshot

    products = {f"SKU{s:06d}": {"id": s + 1, "default_code": f"SKU{s:06d}", "standard_price": 10.0} for s in range(skus)}
    odoo = {(f"SKU{s:06d}", f"L{l:02d}"): Decimal(100 + (s + l) % 50) for s in range(skus) for l in range(lots)}
    costs = {p["id"]: Decimal("12.5") for p in products.values()}
    t = time.perf_counter()
    counted, unknown = count_snapshot(partner, frame, products)
    lines, total, matches = classify(partner, counted, odoo, {}, {}, costs, products)
    figures.append((f"count + classify ({matches:,} matches, {len(lines):,} variances, value {total})", time.perf_counter() - t))

    from threepl_bridge.ledger.repo import Ledger

    ledger = Ledger.open(f"sqlite:///{tempfile.mkdtemp()}/ledger.db")
    exchange = ledger.register_inbound(partner="demo3pl", kind="stock", folder="/s", name="STOCK.csv", sha256="0" * 64, size=len(data))
    t = time.perf_counter()
    ledger.store_reconciliation(partner="demo3pl", exchange_id=exchange.exchange_id, as_of=datetime(2026, 11, 1, 6, tzinfo=timezone.utc),
                                currency="USD", lines=lines, variance_value=total, data_quality=[], unknown_rows={}, matches=matches)
    figures.append(("store the reconciliation (SQLite)", time.perf_counter() - t))

    width = max(len(name) for name, _ in figures)
    for name, seconds in figures:
        print(f"  {name:<{width}}  {seconds:7.2f} s")
    print(f"  {'total (ours, without pandas alone)':<{width}}  {sum(s for _, s in figures[1:]):7.2f} s")
    print(f"peak memory: {peak_mib():.0f} MiB")


if __name__ == "__main__":
    main()
