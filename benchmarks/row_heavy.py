"""Benchmark: row-heavy inbound files through the real lifecycle (issue 13, item 8; issue 14).

Cases, for each size in MB: a dispatch file where every row is the same valid line (so every row is a duplicate),
a dispatch file where every row is unreadable, and stock snapshots of the same two shapes. Each case runs in a
child process of its own (a clean peak memory): the Odoo stand-in with one released order, the embedded SFTP
server playing the 3PL, a SQLite ledger in a temporary directory, and ``handle_file`` from the download to
archive/. Prints per case: rows, wall time of ``handle_file``, peak RSS of the child (and the baseline before the
file was handled), rows/s and seconds per MB (linear when that ratio stays flat as the size grows), and for the
largest size the figures against issue 14's goals: within the task timeout, and bounded memory (a peak under
1.5 GiB, growing less than the file: MiB of peak per MB of file falling as the size grows).

    ./bin/bench benchmarks/row_heavy.py                 # 1 10 50 200 MB
    ./bin/bench benchmarks/row_heavy.py 1 10            # chosen sizes (MB, decimals allowed)
    ./bin/bench benchmarks/row_heavy.py --quick         # CI smoke: tiny files
    ./bin/bench benchmarks/row_heavy.py --cases dispatch-duplicate,stock-unreadable 1
    ./bin/bench benchmarks/row_heavy.py --profile dispatch-duplicate 1   # cProfile of one case, top 25
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "plugins"), str(REPO)]
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="bench-airflow-"))

CASES = ("dispatch-duplicate", "dispatch-unreadable", "stock-duplicate", "stock-unreadable")
DEFAULT_SIZES = (1.0, 10.0, 50.0, 200.0)
QUICK_SIZES = (0.02, 0.05)
TASK_TIMEOUT_S = 3600  # plugins/threepl_bridge/airflow/dags.py DEFAULT_ARGS["execution_timeout"]
PEAK_GOAL_MIB = 1536  # issue 14: bounded memory, e.g. under 1.5 GB at 200 MB
SHIPPED = "2026-11-19 16:00:00"  # the demo partner's local time, before the run (2026-11-20 09:30 UTC)


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def line_for(case: str, picking: str) -> tuple[str, str]:
    """(header, the one row repeated) of a case."""
    if case.startswith("dispatch"):
        header = "order_ref,line,sku,barcode,qty_shipped,uom,lot,shipped_at,carrier,tracking_no,parcel_id"
        if case.endswith("duplicate"):
            return header, f"{picking},1,FURN_7800,,2,EA,,{SHIPPED},,T1,P1"
        return header, f"{picking},1,FURN_7800,,two,EA,,19/11/2026 4pm,,T1,P1"
    header = "sku,lot,qty_on_hand,uom,status,snapshot_at"
    if case.endswith("duplicate"):
        return header, f"FURN_7800,,10,EA,ok,{SHIPPED}"
    return header, "FURN_7800,,ten,EA,ok,19/11/2026 4pm"


def write_file(path: Path, header: str, row: str, megabytes: float) -> int:
    """A file of about ``megabytes`` MiB: the header, then ``row`` repeated; returns the number of data rows."""
    line = (row + "\r\n").encode()
    rows = max(1, int(megabytes * 2**20) // len(line))
    chunk = line * 10_000
    with path.open("wb") as f:
        f.write((header + "\r\n").encode())
        for _ in range(rows // 10_000):
            f.write(chunk)
        f.write(line * (rows % 10_000))
    return rows


def run_case(case: str, megabytes: float) -> dict[str, object]:
    """One case, in this process: set up the world, write the file, time handle_file."""
    from benchmarks.release_orders import bench_world, release
    from threepl_bridge.flows.dispatches import DISPATCHES
    from threepl_bridge.flows.exchange import handle_file
    from threepl_bridge.flows.stock import STOCK

    with bench_world(1, f"bench-rows-{case}") as w:
        release(w)
        [picking] = w.client.execute("stock.picking", "search_read", [["id", "in", sorted(w.ledger.released_pickings(w.partner.code))]],
                                     fields=["name"])
        kind = DISPATCHES if case.startswith("dispatch") else STOCK
        doc = w.partner.document(kind.name)
        inbox = w.work / "sftp" / doc.folder.lstrip("/")
        inbox.mkdir(parents=True, exist_ok=True)
        name = f"{case.upper().replace('-', '_')}.csv"
        header, row = line_for(case, picking["name"])
        rows = write_file(inbox / name, header, row, megabytes)
        if doc.complete.rule == "marker":
            (inbox / f"{name}{doc.complete.marker_suffix}").write_bytes(b"")
        size = (inbox / name).stat().st_size
        baseline = rss_mib()
        started = time.perf_counter()
        result = handle_file(kind, w.partner, name, transport=w.transport, ledger=w.ledger, client=w.client, now=w.now,
                             options={"reports_dir": w.work / "reports"})
        elapsed = time.perf_counter() - started
    return {"case": case, "mb": size / 2**20, "rows": rows, "seconds": elapsed, "baseline_mib": baseline, "peak_mib": rss_mib(),
            "state": result.state, "posted": result.posted, "duplicate": result.duplicate, "exception": result.exception,
            "rows_recorded": result.rows, "error": result.error}


def child(case: str, megabytes: float, timeout: float) -> dict[str, object]:
    """``run_case`` in a child process of its own (its peak RSS is the case's alone)."""
    args = [sys.executable, str(Path(__file__).resolve()), "--child", case, str(megabytes)]
    try:
        done = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"case": case, "mb": megabytes, "error": f"over {timeout:.0f} s"}
    if done.returncode != 0 or not done.stdout.strip():
        return {"case": case, "mb": megabytes, "error": f"exit {done.returncode}: {done.stderr.strip()[-400:]}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=float, help="file sizes in MB (default 1 10 50 200)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for a CI smoke run")
    parser.add_argument("--cases", default=",".join(CASES), help=f"comma-separated, of {', '.join(CASES)}")
    parser.add_argument("--timeout", type=float, default=TASK_TIMEOUT_S, help="seconds per case (default: the task timeout)")
    parser.add_argument("--child", nargs=2, metavar=("CASE", "MB"), help=argparse.SUPPRESS)
    parser.add_argument("--profile", metavar="CASE", help="run one case in this process under cProfile (first size)")
    a = parser.parse_args(argv)
    if a.child:
        print(json.dumps(run_case(a.child[0], float(a.child[1]))))
        return 0
    sizes = a.sizes or (QUICK_SIZES if a.quick else DEFAULT_SIZES)
    if a.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        result = profiler.runcall(run_case, a.profile, sizes[0])
        print(result)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
        return 0
    cases = [c for c in a.cases.split(",") if c]
    unknown = sorted(set(cases) - set(CASES))
    if unknown:
        parser.error(f"unknown case(s) {', '.join(unknown)}; known: {', '.join(CASES)}")
    print(f"row-heavy files through handle_file (stand-in Odoo, embedded SFTP, SQLite ledger); task timeout {TASK_TIMEOUT_S} s")
    print(f"{'case':<20} {'MB':>7} {'rows':>10} {'seconds':>9} {'rows/s':>10} {'s/MB':>7} {'peak MiB':>9} {'base MiB':>9}  outcome")
    failed = False
    for case in cases:
        per_mb: list[float] = []
        measured: list[tuple[float, float, float]] = []  # (MB, seconds, peak MiB)
        for mb in sizes:
            r = child(case, mb, a.timeout)
            if r.get("seconds") is None:
                failed = True
                print(f"{case:<20} {mb:>7.2f} {'-':>10} {'-':>9} {'-':>10} {'-':>7} {'-':>9} {'-':>9}  FAILED: {r['error']}")
                continue
            secs, rows, size = float(r["seconds"]), int(r["rows"]), float(r["mb"])  # type: ignore[arg-type]
            refused = r["state"] == "input_error" and "limit (THREEPL_MAX_FILE_MB)" in str(r.get("error"))  # not even read
            if not refused:
                per_mb.append(secs / size)
                measured.append((size, secs, float(r["peak_mib"])))  # type: ignore[arg-type]
            outcome = f"{r['state']}: posted {r['posted']}, duplicate {r['duplicate']}, exception {r['exception']} of {r['rows_recorded']}"
            if r.get("error"):
                label = "REFUSED UP FRONT" if refused else "QUARANTINED WHOLE" if r["state"] == "input_error" else outcome
                outcome = f"{label}: ({str(r['error'])[:90]})"
            print(f"{case:<20} {size:>7.2f} {rows:>10} {secs:>9.2f} {rows / secs:>10.0f} {secs / size:>7.2f} {r['peak_mib']:>9.0f} "
                  f"{r['baseline_mib']:>9.0f}  {outcome}")
        if len(per_mb) > 1:
            growth = per_mb[-1] / per_mb[0]
            print(f"{case:<20} s/MB from the smallest to the largest size x{growth:.2f} "
                  f"({'linear' if growth < 1.5 else 'NOT linear'})")
        if measured:
            size, secs, peak = measured[-1]
            within = secs <= TASK_TIMEOUT_S and peak < PEAK_GOAL_MIB
            memory = ", ".join(f"{p / s:.1f}" for s, _, p in measured)
            print(f"{case:<20} {size:.0f} MB: {secs:.0f} s (goal <= {TASK_TIMEOUT_S}), peak {peak:.0f} MiB (goal < {PEAK_GOAL_MIB}): "
                  f"{'MET' if within else 'MISSED'}; peak MiB per MB by size: {memory}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
