"""Benchmark: post N dispatched pickings (3 lines each) from one 3PL file through the Odoo stand-in.

Prints wall time and Odoo calls per method for several N: calls grow with batches (validate_batch pickings per
button_validate, pages of 500 for reads), not with pickings.

    ./bin/bench benchmarks/post_dispatches.py             # N = 250, 500, 1000
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "plugins"), str(REPO)]
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="bench-airflow-"))

from benchmarks.release_orders import REAL, bench_world, release  # noqa: E402
from threepl_bridge.flows.dispatches import DISPATCHES, process_dispatch_file  # noqa: E402
from threepl_bridge.flows.exchange import receive_file  # noqa: E402


def run(n: int) -> dict[str, object]:
    with bench_world(n, "bench-dispatch") as w:
        release(w)
        client, ledger, transport, partner, now = w.client, w.ledger, w.transport, w.partner, w.now
        released = client.execute("stock.picking", "read", sorted(ledger.released_pickings(partner.code)), fields=["name"])
        shipped = (now - timedelta(hours=2)).astimezone(partner.spec.tz).strftime("%Y-%m-%d %H:%M:%S")
        lines = ["order_ref,line,sku,barcode,qty_shipped,uom,lot,shipped_at,carrier,tracking_no,parcel_id"]
        moves_of: dict[int, list] = {}
        for m in client.execute("stock.move", "search_read", [["picking_id", "in", [p["id"] for p in released]]],
                                fields=["picking_id", "product_id", "product_uom_qty"], order="id"):
            moves_of.setdefault(m["picking_id"][0], []).append(m)
        for p in released:
            for i, m in enumerate(moves_of.get(p["id"], []), start=1):
                sku = m["product_id"][1].split("]")[0][1:]
                lines.append(f"{p['name']},{i},{sku},,{int(m['product_uom_qty'])},EA,,{shipped},,T{p['id']},P{p['id']}")
        inbox = w.work / "sftp" / "from_3pl" / "dispatch"
        inbox.mkdir(parents=True)
        (inbox / "DISPATCH_BENCH.csv").write_text("\r\n".join(lines) + "\r\n")
        received = receive_file(partner, DISPATCHES, "DISPATCH_BENCH.csv", transport=transport, ledger=ledger)
        client.calls.clear()
        started = time.perf_counter()
        result = process_dispatch_file(partner=partner, client=client, ledger=ledger, transport=transport, exchange_id=received.exchange_id, now=now)
        elapsed = time.perf_counter() - started
    return {"pickings": n, "rows": result.rows, "posted": result.posted, "seconds": elapsed, "calls": dict(client.calls)}


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or ([100] if REAL else [250, 500, 1000])
    print(f"Odoo: {os.environ['ODOO_URL'] if REAL else 'the stand-in'}")
    print(f"{'pickings':>8} {'rows':>6} {'posted':>7} {'wall s':>8} {'Odoo calls':>11}  by method")
    for n in sizes:
        r = run(n)
        calls = r["calls"]
        print(f"{r['pickings']:>8} {r['rows']:>6} {r['posted']:>7} {r['seconds']:>8.2f} {sum(calls.values()):>11}  "
              + ", ".join(f"{k}={v}" for k, v in sorted(calls.items())))


if __name__ == "__main__":
    main()
