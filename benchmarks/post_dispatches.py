"""Benchmark: post N dispatched pickings (1-2 lines each) from one 3PL file, against the floor Odoo itself allows.

For each N (and each validation batch size asked for), every repetition seeds and releases the orders, writes a
dispatch file shipping N pickings in full (one ship time, a tracking number per picking) and runs the real
lifecycle on it (download from the SFTP server, GX suite, checks, posting, archive). Prints wall time per picking,
the Odoo calls per method (chatter included) and the goal of issue 14: at most 10 + 3 * ceil(N / 100) calls.

Where an Odoo shell is available (``ODOO_SHELL``: a command that runs Python read from stdin inside Odoo with
``env`` in scope, e.g. ``odoo-bin shell -d mydb --no-http``), each repetition also measures the floor on N more
pickings of the same kind: the same writes plus ONE ``button_validate`` on all of them, inside Odoo, as the API
user, with no RPC; then the ratio (goal <= 1.10). Repetitions alternate which of the two runs first, and
PostgreSQL statistics are refreshed (ANALYZE) before each.

    ./bin/bench benchmarks/post_dispatches.py                       # stand-in: N = 100, 500
    ODOO_URL=... ODOO_DB=... ODOO_USER=... ODOO_PASSWORD=... [ODOO_SHELL='...'] \\
        ./bin/bench benchmarks/post_dispatches.py 100 500 --reps 3   # a real Odoo (its own warehouse BNCH)
    ./bin/bench benchmarks/post_dispatches.py 500 --batches 50,100,250,500,all --reps 1
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "plugins"), str(REPO)]
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="bench-airflow-"))

from benchmarks.release_orders import REAL, bench_world, release  # noqa: E402
from threepl_bridge.flows.dispatches import DISPATCHES, process_dispatch_file  # noqa: E402
from threepl_bridge.flows.exchange import receive_file  # noqa: E402
from threepl_bridge.odoo.client import OdooClient  # noqa: E402

FLOOR = """
import json, time
ids, stamp, day, login = json.loads({args!r})
user = env["res.users"].search([("login", "=", login)])
e = env(user=user.id, su=False, context=user.with_user(user).context_get())  # as an RPC call of the API user runs (its lang and tz)
pickings = e["stock.picking"].browse(ids)
started = time.perf_counter()
pickings.move_ids.write({{"picked": True}})
for p in pickings:
    p.carrier_tracking_ref = "T%d" % p.id
pickings.with_context(skip_sms=True, skip_backorder=True, force_period_date=day).button_validate()
pickings.write({{"date_done": stamp}})
pickings.move_ids.write({{"date": stamp}})
pickings.move_ids.move_line_ids.write({{"date": stamp}})
e["mail.message"].create([{{"model": "stock.picking", "res_id": p.id, "message_type": "comment",
                            "body": "Shipped by 3PL: file FLOOR, tracking T%d." % p.id}} for p in pickings])
e.cr.commit()
print("FLOOR", json.dumps({{"seconds": time.perf_counter() - started, "done": len(pickings.filtered(lambda p: p.state == "done"))}}))
"""


def goal(n: int) -> int:
    """Issue 14: a posting of N pickings in at most 10 + 3 * ceil(N / 100) Odoo calls."""
    return 10 + 3 * math.ceil(n / 100)


def shell(code: str) -> str:
    done = subprocess.run(os.environ["ODOO_SHELL"], shell=True, input=code, capture_output=True, text=True, timeout=3600)  # noqa: S602
    if done.returncode:
        raise RuntimeError(f"ODOO_SHELL failed ({done.returncode}): {done.stderr[-2000:]}")
    return done.stdout


def analyze() -> None:
    shell("env.cr.execute('ANALYZE')\nenv.cr.commit()\n")


def floor(ids: list[int], stamp: str, day: str) -> dict[str, float]:
    out = shell(FLOOR.format(args=json.dumps([ids, stamp, day, os.environ["ODOO_USER"]])))
    [line] = [ln for ln in out.splitlines() if ln.startswith("FLOOR ")]
    return json.loads(line[6:])


def run(n: int, batch: int | None, *, with_floor: bool, floor_first: bool, real: bool | None = None) -> dict[str, object]:
    with bench_world(n, "bench-dispatch", real=real, extra=n if with_floor else 0) as w:
        release(w)
        client, ledger, transport, partner, now = w.client, w.ledger, w.transport, w.partner, w.now
        released = client.execute("stock.picking", "read", sorted(ledger.released_pickings(partner.code)), fields=["name"])
        ours, theirs = released[:n], released[n:]
        shipped_at = now - timedelta(hours=2)
        shipped = shipped_at.astimezone(partner.spec.tz).strftime("%Y-%m-%d %H:%M:%S")
        lines = ["order_ref,line,sku,barcode,qty_shipped,uom,lot,shipped_at,carrier,tracking_no,parcel_id"]
        moves_of: dict[int, list] = {}
        for m in client.search_read_in("stock.move", "picking_id", [p["id"] for p in ours], ["picking_id", "product_id", "product_uom_qty"]):
            moves_of.setdefault(m["picking_id"][0], []).append(m)
        for p in ours:
            for i, m in enumerate(moves_of.get(p["id"], []), start=1):
                sku = m["product_id"][1].split("]")[0][1:]
                lines.append(f"{p['name']},{i},{sku},,{int(m['product_uom_qty'])},EA,,{shipped},,T{p['id']},P{p['id']}")
        inbox = w.work / "sftp" / "from_3pl" / "dispatch"
        inbox.mkdir(parents=True)
        (inbox / "DISPATCH_BENCH.csv").write_text("\r\n".join(lines) + "\r\n")
        received = receive_file(partner, DISPATCHES, "DISPATCH_BENCH.csv", transport=transport, ledger=ledger)
        if batch is not None:
            client = OdooClient(replace(client.settings, validate_batch=batch))
        base: dict[str, float] | None = None

        def the_floor() -> dict[str, float]:
            from datetime import timezone

            return floor([p["id"] for p in theirs], shipped_at.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S"),
                         shipped_at.astimezone(partner.spec.company_tz).date().isoformat())

        if with_floor:
            analyze()
            if floor_first:
                base = the_floor()
        client.calls.clear()
        client.seconds.clear()
        if w.server_calls is not None:
            w.server_calls.clear()
        started = time.perf_counter()
        result = process_dispatch_file(partner=partner, client=client, ledger=ledger, transport=transport, exchange_id=received.exchange_id, now=now)
        elapsed = time.perf_counter() - started
        calls, spent = dict(client.calls), dict(client.seconds)
        if w.server_calls is not None:  # the stand-in's own count must be what the client sent
            assert dict(w.server_calls) == calls, (w.server_calls, calls)
        if with_floor and not floor_first:
            base = the_floor()
        states = {p["state"] for p in client.read("stock.picking", [p["id"] for p in ours], ["state"])}
    return {"pickings": n, "rows": result.rows, "posted": result.posted, "states": sorted(states), "seconds": elapsed,
            "calls": calls, "spent": spent, "floor": base}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sizes", nargs="*", type=int)
    parser.add_argument("--batches", default="", help="validation batch sizes to compare, e.g. 50,100,250,500,all (default: the client's)")
    parser.add_argument("--reps", type=int, default=1)
    args = parser.parse_args()
    sizes = args.sizes or [100, 500]
    batches: list[int | None] = [None if b == "all" else int(b) for b in args.batches.split(",") if b] or [0]
    with_floor = REAL and bool(os.environ.get("ODOO_SHELL"))
    where = f"{os.environ['ODOO_URL']} (a real Odoo)" if REAL else "the stand-in"
    print(f"Odoo: {where}; floor: {'measured in the same run (ODOO_SHELL)' if with_floor else 'not measured (needs a real Odoo and ODOO_SHELL)'}")
    print(f"{'pickings':>8} {'batch':>5} {'reps':>4} {'s/picking':>9} {'floor':>7} {'x floor':>7} {'calls':>5} {'goal':>6}  by method (last rep)")
    for n in sizes:
        for batch in batches:
            size = None if batch == 0 else (batch or n)  # 0: the client's default; None ("all"): the whole file
            runs = [run(n, size, with_floor=with_floor, floor_first=bool(rep % 2)) for rep in range(args.reps)]
            for r in runs:
                assert r["posted"] == r["rows"] and r["states"] == ["done"], r
            ours = statistics.median(r["seconds"] / n for r in runs)  # type: ignore[operator]
            floors = [r["floor"]["seconds"] / n for r in runs if r["floor"]]  # type: ignore[index]
            base = statistics.median(floors) if floors else None
            calls = runs[-1]["calls"]
            total = sum(calls.values())  # type: ignore[union-attr]
            label = "dflt" if batch == 0 else ("all" if batch is None else str(batch))
            ratio = f"{ours / base:>7.2f}" if base else f"{'-':>7}"
            print(f"{n:>8} {label:>5} {args.reps:>4} {ours:>9.3f} {base if base else float('nan'):>7.3f} {ratio} {total:>5} {'<= ' + str(goal(n)):>6} "
                  f"{'met' if total <= goal(n) else 'MISSED'}  " + ", ".join(f"{k}={v}" for k, v in sorted(calls.items())))  # type: ignore[union-attr]
            spent = runs[-1]["spent"]
            top = sorted(spent.items(), key=lambda kv: -kv[1])[:5]  # type: ignore[union-attr]
            print(f"{'':>8} time (last rep): {runs[-1]['seconds']:.1f} s, of which Odoo calls {sum(spent.values()):.1f} s: "  # type: ignore[union-attr]
                  + ", ".join(f"{k} {v:.1f}" for k, v in top))
            if floors:
                each = ", ".join(f"{r['seconds'] / n:.3f}" for r in runs)  # type: ignore[operator]
                print(f"{'':>8} per rep: ours {each}; floor {', '.join(f'{f:.3f}' for f in floors)}")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
