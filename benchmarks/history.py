"""Benchmark: a run's cost does not grow with the ledger's history (issue 14, history-independent runs).

The same run - the pending-at-3PL check (``flag_pending``) and a stock reconciliation's timing lookup
(``_timing``), each through the Odoo stand-in and the embedded SFTP server, and the two ledger queries alone
(``reported_orders``, ``timing_rows``) - on a ledger holding only today's state and on the same ledger after
1,000,000 historical dispatch rows were added, on SQLite and on PostgreSQL (a throwaway database on
127.0.0.1:5432, dropped after). Today's state: 200 released orders, 100 of them shipped and posted two hours ago,
10 reported with a held row (an exception), 90 still pending. The history: 2,000 older files of the same partner
(500 rows each, a year back): posted rows, duplicates, and exception rows that a replay posted since (exception
rows never posted are not history: they are today's open work, and the timing lookup reads them by design).

Prints, per backend: the history insert (rows/s), then per step the median wall time of ``--repeat`` runs and the
ledger SQL statements of one run (counted with a ``before_cursor_execute`` event) on the empty and on the full
ledger, and their ratio (goal: within 1.2x); and what the old full scan (``Ledger.dispatch_rows``) costs there.

    ./bin/bench benchmarks/history.py                          # 1,000,000 rows, SQLite and PostgreSQL
    ./bin/bench benchmarks/history.py --rows 100000 --backends sqlite
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "plugins"), str(REPO)]
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="bench-airflow-"))

from sqlalchemy import create_engine, event, insert, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from benchmarks.release_orders import release, seed_orders  # noqa: E402
from sandbox.odoo_standin import OdooStandIn  # noqa: E402
from sandbox.sftp_server import EmbeddedSftpServer  # noqa: E402
from threepl_bridge.flows.dispatches import DISPATCHES, flag_pending, process_dispatch_file  # noqa: E402
from threepl_bridge.flows.exchange import receive_file  # noqa: E402
from threepl_bridge.flows.outbound import deliver_pending  # noqa: E402
from threepl_bridge.flows.products import prepare_products  # noqa: E402
from threepl_bridge.flows.stock import _timing  # noqa: E402
from threepl_bridge.ledger.models import Exchange, RowOutcome  # noqa: E402
from threepl_bridge.ledger.repo import Ledger  # noqa: E402
from threepl_bridge.odoo.client import OdooClient, OdooSettings  # noqa: E402
from threepl_bridge.odoo.stock_queries import StockQueries  # noqa: E402
from threepl_bridge.specs.loader import load_partner  # noqa: E402
from threepl_bridge.transport.sftp import SftpTransport  # noqa: E402

PG_ADMIN_URL = os.environ.get("THREEPL_TEST_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")
ORDERS, SHIPPED, HELD = 200, 100, 10
HEADER = "order_ref,line,sku,barcode,qty_shipped,uom,lot,shipped_at,carrier,tracking_no,parcel_id"
ROWS_PER_FILE = 500
INSERT_BATCH = 50_000


@contextmanager
def database(backend: str, work: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{work / 'ledger.db'}"
        return
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"threepl_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def today(url: str, work: Path) -> Iterator[SimpleNamespace]:
    """The stand-in with ORDERS released orders, SHIPPED of them posted from one file, HELD reported in a file whose
    rows are held (a SKU not on the order), the rest pending; the SFTP server; the ledger at ``url``."""
    partner = load_partner(REPO / "sftp_formats" / "partners" / "demo3pl.yaml")
    with ExitStack() as stack:
        odoo = stack.enter_context(OdooStandIn(seed_orders(ORDERS)))
        client = OdooClient(OdooSettings(url=odoo.url, database="odoo3pl", login="etl", password="standin-etl-api-key"))
        sftp = stack.enter_context(EmbeddedSftpServer(work / "sftp"))
        os.environ["AIRFLOW_CONN_DEMO3PL_SFTP"] = sftp.airflow_connection()
        now = datetime.now(timezone.utc)
        w = SimpleNamespace(work=work, partner=partner, transport=SftpTransport("demo3pl_sftp"), ledger=Ledger.open(url), client=client, now=now)
        prepare_products(partner=partner, client=client, ledger=w.ledger, now=now)
        deliver_pending(w.ledger, w.transport, partner, "products")
        release(w)
        released = client.execute("stock.picking", "read", sorted(w.ledger.released_pickings(partner.code)), fields=["name"])
        moves: dict[int, list] = {}
        for m in client.execute("stock.move", "search_read", [["picking_id", "in", [p["id"] for p in released]]],
                                fields=["picking_id", "product_id", "product_uom_qty"], order="id"):
            moves.setdefault(m["picking_id"][0], []).append(m)
        shipped = (now - timedelta(hours=2)).astimezone(partner.spec.tz).strftime("%Y-%m-%d %H:%M:%S")
        ship = [HEADER] + [f"{p['name']},{i},{m['product_id'][1].split(']')[0][1:]},,{int(m['product_uom_qty'])},EA,,{shipped},,T{p['id']},P{p['id']}"
                           for p in released[:SHIPPED] for i, m in enumerate(moves[p["id"]], start=1)]
        held = [HEADER] + [f"{p['name']},1,FURN_6666,,1,EA,,{shipped},,T{p['id']},P{p['id']}" for p in released[SHIPPED : SHIPPED + HELD]]
        inbox = work / "sftp" / "from_3pl" / "dispatch"
        inbox.mkdir(parents=True, exist_ok=True)
        for name, lines in (("DISPATCH_TODAY.csv", ship), ("DISPATCH_HELD.csv", held)):
            (inbox / name).write_text("\r\n".join(lines) + "\r\n")
            received = receive_file(partner, DISPATCHES, name, transport=w.transport, ledger=w.ledger)
            process_dispatch_file(partner=partner, client=client, ledger=w.ledger, transport=w.transport, exchange_id=received.exchange_id, now=now)
        odoo_q = StockQueries(client, partner)
        w.by_id = {p["id"]: p for p in odoo_q.storable_by_sku().values()}
        w.as_of = now - timedelta(hours=1)
        w.names = [p["name"] for p in released]
        w.steps = {
            "pending check (flag_pending)": lambda: flag_pending(partner=partner, client=client, ledger=w.ledger, now=now + timedelta(hours=72)),
            "timing lookup (_timing)": lambda: _timing(partner, StockQueries(client, partner), w.ledger, w.transport, w.as_of, w.by_id),
            "ledger.reported_orders": lambda: w.ledger.reported_orders(partner.code, w.names),
            "ledger.timing_rows": lambda: w.ledger.timing_rows(partner.code, w.as_of),
        }
        yield w


COLUMNS = ("exchange_id", "partner", "kind", "row_number", "outcome", "code", "field", "record_key", "message", "odoo_ref", "data", "order_ref", "shipped_at",
           "settled_in", "created_at")


def history_rows(partner: str, first: int, files: int, start: datetime, span: timedelta, stamp: Callable[[datetime], object]
                 ) -> Iterator[tuple[object, ...]]:
    """The rows of ``files`` older files (ids from ``first``), in COLUMNS order, as record_rows would store them: every
    50th row an exception a replay posted since (the next file), every 25th a duplicate, the rest posted."""
    n = 0
    for f in range(files):
        recorded = start + span * f
        shipped = recorded - timedelta(hours=3)
        at, when, iso = stamp(recorded), stamp(shipped), shipped.isoformat()
        for r in range(ROWS_PER_FILE):
            ref = f"WH/OUT/H{f:06d}{r // 2:03d}"
            data = (f'{{"order_ref": "{ref}", "parcel": "P{r}", "quantity": "2", "shipped_at": "{iso}", "sku": "FURN_7800", '
                    f'"tracking_ref": "T{n}", "uom": "EA"}}')
            if r % 50 == 49:
                yield (first + f, partner, "dispatches", r + 2, "exception", "DISPATCH_LOCKED_PERIOD", "", None, f"row {r + 2}: period locked", None, data, ref, when,
                       first + f + 1, at)  # settled by the next file
            else:
                key = f"{partner}:{hashlib.sha1(data.encode()).hexdigest()}"
                posted = r % 25 != 24
                yield (first + f, partner, "dispatches", r + 2, "posted" if posted else "duplicate", "", "", key, None, f"stock.picking,{10**7 + n}" if posted else None,
                       data, ref, when, first + f, at)
            n += 1


def history(ledger: Ledger, partner: str, rows: int, now: datetime) -> float:
    """``rows`` dispatch rows of older files (a year back, before today's), inserted in bulk (SQLite: one
    executemany per 50,000 rows of values in the ledger's own storage format; PostgreSQL: COPY); returns seconds."""
    files = max(1, rows // ROWS_PER_FILE)
    span = timedelta(days=365) / files
    start = now - timedelta(days=400)
    ex = Exchange.__table__
    started = time.perf_counter()
    with ledger.engine.begin() as conn:
        first = (conn.execute(text("SELECT coalesce(max(id), 0) FROM ledger_exchange")).scalar() or 0) + 1
        conn.execute(insert(ex), [dict(
            id=first + f, partner=partner, direction="inbound", kind="dispatches", remote_folder="/from_3pl/dispatch",
            remote_name=f"DISPATCH_H{f:06d}.csv", sha256=hashlib.sha256(b"%d" % f).hexdigest(), arrival=1, size=ROWS_PER_FILE * 90,
            state="input_processed", rows_total=ROWS_PER_FILE, rows_posted=0, rows_exception=0, rows_duplicate=0, attempts=1,
            moved_to=f"/archive/DISPATCH_H{f:06d}.csv", created_at=start + span * f, updated_at=start + span * f) for f in range(files)])
        names = ", ".join(COLUMNS)
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT setval(pg_get_serial_sequence('ledger_exchange', 'id'), (SELECT max(id) FROM ledger_exchange))"))
            cursor = conn.connection.dbapi_connection.cursor()
            buffer = io.StringIO()
            out = csv.writer(buffer)
            total = files * ROWS_PER_FILE
            for n, row in enumerate(history_rows(partner, first, files, start, span, lambda d: d.isoformat()), start=1):
                out.writerow(["\\N" if v is None else v for v in row])
                if n % INSERT_BATCH == 0 or n == total:
                    buffer.seek(0)
                    cursor.copy_expert(f"COPY ledger_row_outcome ({names}) FROM STDIN WITH (FORMAT csv, NULL '\\N')", buffer)
                    buffer.seek(0)
                    buffer.truncate()
        else:
            stamp = RowOutcome.__table__.c.created_at.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
            sql = f"INSERT INTO ledger_row_outcome ({names}) VALUES ({', '.join('?' * len(COLUMNS))})"
            batch: list[tuple[object, ...]] = []
            for row in history_rows(partner, first, files, start, span, stamp):
                batch.append(row)
                if len(batch) == INSERT_BATCH:
                    conn.exec_driver_sql(sql, batch)
                    batch = []
            if batch:
                conn.exec_driver_sql(sql, batch)
    elapsed = time.perf_counter() - started
    if ledger.engine.dialect.name == "postgresql":  # as autovacuum would after a load this size
        with ledger.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE ledger_row_outcome"))
            conn.execute(text("ANALYZE ledger_exchange"))
    return elapsed


def measure(ledger: Ledger, step: Callable[[], object], repeat: int) -> tuple[float, int]:
    """Median wall time of ``repeat`` runs, and the ledger statements of one run (the same in every run)."""
    counts: list[int] = []
    seconds: list[float] = []
    for _ in range(repeat):
        seen = [0]

        def count(*_: object) -> None:
            seen[0] += 1

        event.listen(ledger.engine, "before_cursor_execute", count)
        started = time.perf_counter()
        step()
        seconds.append(time.perf_counter() - started)
        event.remove(ledger.engine, "before_cursor_execute", count)
        counts.append(seen[0])
    if len(set(counts)) != 1:
        raise AssertionError(f"a step ran a different number of statements from one run to the next: {counts}")
    return statistics.median(seconds), counts[0]


def run(backend: str, rows: int, repeat: int) -> None:
    work = Path(tempfile.mkdtemp(prefix=f"bench-history-{backend}-"))
    with database(backend, work) as url, today(url, work) as w:
        for step in w.steps.values():  # warm up: today's exceptions raised, shipped pickings marked done
            step()
        empty = {name: measure(w.ledger, step, repeat) for name, step in w.steps.items()}
        took = history(w.ledger, w.partner.code, rows, w.now)
        full = {name: measure(w.ledger, step, repeat) for name, step in w.steps.items()}
        started = time.perf_counter()
        scanned = len(w.ledger.dispatch_rows(w.partner.code))
        scan = time.perf_counter() - started
    print(f"\n{backend}: {rows:,} historical rows inserted in {took:.1f} s ({rows / took:,.0f} rows/s); median of {repeat} runs")
    print(f"  {'step':<30} {'empty s':>9} {'full s':>9} {'ratio':>6} {'SQL empty':>10} {'SQL full':>9}")
    for name in w.steps:
        (t0, q0), (t1, q1) = empty[name], full[name]
        print(f"  {name:<30} {t0:>9.4f} {t1:>9.4f} {t1 / t0:>5.2f}x {q0:>10} {q1:>9}")
    print(f"  old full scan (dispatch_rows): {scanned:,} rows in {scan:.1f} s, every run, before this change")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="historical dispatch rows (default 1,000,000)")
    parser.add_argument("--backends", default="sqlite,postgresql", help="sqlite, postgresql or both (default)")
    parser.add_argument("--repeat", type=int, default=15, help="runs per step and ledger (the median is printed)")
    args = parser.parse_args()
    print(f"history benchmark: {ORDERS} released orders, {SHIPPED} posted today, {HELD} held, {ORDERS - SHIPPED - HELD} pending; "
          f"goal: full/empty within 1.2x")
    for backend in args.backends.split(","):
        run(backend.strip(), args.rows, args.repeat)


if __name__ == "__main__":
    main()
