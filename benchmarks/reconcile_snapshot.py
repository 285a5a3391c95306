"""Benchmark: reconcile a 1,000,000-line stock snapshot (100,000 SKUs x 10 lots).

Prints, for the demo partner's layout: the time pandas alone takes to read the file (``read_csv``, all columns as
text: the best of three), our reader (layout conversions, per-row problems), the Great Expectations suite,
counting and classifying every (SKU, lot) against Odoo's quantities at T, storing the reconciliation in the ledger
(SQLite), the end-to-end time of those steps against the goal (issue 14: at most 20x pandas' ``read_csv``), and
the process's peak memory against its goal (1.5 GiB). Great Expectations is imported and run once on a one-row
frame before the clock starts, as a worker that has validated a file before has it. Odoo's side (products,
quantities at T, unit costs) is synthesised here: with a real server those are paged reads (500 records per call)
whose cost depends on the server, not on this code.

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


class clock:
    """Wall and CPU seconds of a block (the machine may be shared: CPU time is the steadier figure)."""

    def __enter__(self) -> "clock":
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu


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

    alone = []
    for _ in range(3):
        with clock() as c:
            pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
        alone.append(c)
    figures.append(("pandas.read_csv alone (best of 3)", min(c.wall for c in alone), min(c.cpu for c in alone)))

    from threepl_bridge.formats.reader import read_frame
    from threepl_bridge.quality import add_keys

    with clock() as c:
        frame, problems = read_frame(layout, data, partner.spec.tz)
        frame = add_keys(frame)
    figures.append(("read_frame (layout, types, time zone)", c.wall, c.cpu))

    from datetime import datetime, timezone

    from threepl_bridge.quality import validate_frame

    validate_frame("stock", frame.head(1), parameters={"uom_codes": ["EA"], "now": datetime(2026, 11, 22, tzinfo=timezone.utc)})  # warm
    with clock() as c:
        issues, _ = validate_frame("stock", frame, parameters={"uom_codes": ["EA"], "now": datetime(2026, 11, 22, tzinfo=timezone.utc)})
    figures.append((f"Great Expectations suite ({len(issues)} issues)", c.wall, c.cpu))

    from threepl_bridge.flows.stock import classify, count_snapshot

    products = {f"SKU{s:06d}": {"id": s + 1, "default_code": f"SKU{s:06d}", "standard_price": 10.0} for s in range(skus)}
    odoo = {(f"SKU{s:06d}", f"L{l:02d}"): Decimal(100 + (s + l) % 50) for s in range(skus) for l in range(lots)}
    costs = {p["id"]: Decimal("12.5") for p in products.values()}
    with clock() as c:
        counted, unknown = count_snapshot(partner, frame, products)
        lines, total, matches = classify(partner, counted, odoo, {}, {}, costs, products)
    figures.append((f"count + classify ({matches:,} matches, {len(lines):,} variances, value {total})", c.wall, c.cpu))

    from threepl_bridge.ledger.repo import Ledger

    ledger = Ledger.open(f"sqlite:///{tempfile.mkdtemp()}/ledger.db")
    exchange = ledger.register_inbound(partner="demo3pl", kind="stock", folder="/s", name="STOCK.csv", sha256="0" * 64, size=len(data))
    with clock() as c:
        ledger.store_reconciliation(partner="demo3pl", exchange_id=exchange.exchange_id, as_of=datetime(2026, 11, 1, 6, tzinfo=timezone.utc),
                                    currency="USD", lines=lines, variance_value=total, data_quality=[], unknown_rows={}, matches=matches)
    figures.append(("store the reconciliation (SQLite)", c.wall, c.cpu))

    width = max(len(name) for name, _, _ in figures)
    print(f"  {'':<{width}}  {'wall':>7}    {'CPU':>7}")
    for name, wall, cpu in figures:
        print(f"  {name:<{width}}  {wall:7.2f} s  {cpu:7.2f} s")
    wall, cpu = sum(f[1] for f in figures[1:]), sum(f[2] for f in figures[1:])
    print(f"  {'end to end (ours: read .. store)':<{width}}  {wall:7.2f} s  {cpu:7.2f} s")
    print(f"x pandas read_csv: {wall / figures[0][1]:.1f} wall, {cpu / figures[0][2]:.1f} CPU (goal <= 20)")
    print(f"peak memory: {peak_mib():.0f} MiB (goal <= 1536)")


if __name__ == "__main__":
    main()
