"""Benchmark: a run's cost does not grow with the ledger's history (issue 14, history-independent runs).

The same run - the pending-at-3PL check (``flag_pending``) and a stock reconciliation's timing lookup
(``_timing``), each through the Odoo stand-in and the embedded SFTP server, and the two ledger queries alone
(``reported_orders``, ``timing_rows``) - on a ledger holding only today's state and on a copy of it to which
1,000,000 historical dispatch rows were added, the two measured in turn (so the load of the machine weighs on
both alike), on SQLite and on PostgreSQL (throwaway databases on 127.0.0.1:5432, dropped after). Today's state: 200 released orders, 100 of them shipped and posted two hours ago,
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
import shutil
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
def database(backend: str, work: Path, name: str, *, template: str | None = None) -> Iterator[str]:
    """A ledger database: a SQLite file in ``work``, or a PostgreSQL database dropped on exit; ``template`` (the
    database part of another one's URL): a copy of that one (no connection to it may be open)."""
    if backend == "sqlite":
        if template:
            shutil.copyfile(template, work / f"{name}.db")
        yield f"sqlite:///{work / f'{name}.db'}"
        return
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    db = f"threepl_bench_{name}_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{db}"' + (f' TEMPLATE "{template}"' if template else "")))
    try:
        yield make_url(PG_ADMIN_URL).set(database=db).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
        admin.dispose()


def settle(ledger: Ledger) -> None:
    """After a bulk load, as a live ledger would be: SQLite's write-ahead log folded into the file, PostgreSQL's
    statistics refreshed (what autovacuum does after a load this size)."""
    with ledger.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        else:
            conn.execute(text("ANALYZE"))
    ledger.engine.dispose()


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
            "pending check (flag_pending)": lambda led: flag_pending(partner=partner, client=client, ledger=led, now=now + timedelta(hours=72)),
            "timing lookup (_timing)": lambda led: _timing(partner, StockQueries(client, partner), led, w.transport, w.as_of, w.by_id),
            "ledger.reported_orders": lambda led: led.reported_orders(partner.code, w.names),
            "ledger.timing_rows": lambda led: led.timing_rows(partner.code, w.as_of),
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
    return time.perf_counter() - started


def once(ledger: Ledger, step: Callable[[Ledger], object]) -> tuple[float, int]:
    """Wall time of one run of ``step`` on ``ledger``, and the ledger SQL statements it ran."""
    seen = [0]

    def count(*_: object) -> None:
        seen[0] += 1

    event.listen(ledger.engine, "before_cursor_execute", count)
    started = time.perf_counter()
    step(ledger)
    elapsed = time.perf_counter() - started
    event.remove(ledger.engine, "before_cursor_execute", count)
    return elapsed, seen[0]


def run(backend: str, rows: int, repeat: int) -> None:
    work = Path(tempfile.mkdtemp(prefix=f"bench-history-{backend}-"))
    with ExitStack() as stack:
        url = stack.enter_context(database(backend, work, "empty"))
        w = stack.enter_context(today(url, work))
        empty = w.ledger
        settle(empty)
        full = Ledger.open(stack.enter_context(database(backend, work, "full", template=make_url(url).database)))
        took = history(full, w.partner.code, rows, w.now)
        settle(full)
        for step in w.steps.values():  # warm up both: today's exceptions raised, shipped pickings marked done
            step(empty)
            step(full)
        figures: dict[str, dict[str, list[tuple[float, int]]]] = {name: {"empty": [], "full": []} for name in w.steps}
        for _ in range(repeat):  # in turn, so a busy moment of the machine weighs on both ledgers alike
            for name, step in w.steps.items():
                figures[name]["empty"].append(once(empty, step))
                figures[name]["full"].append(once(full, step))
        started = time.perf_counter()
        scanned = len(full.dispatch_rows(w.partner.code))
        scan = time.perf_counter() - started
        full.engine.dispose()
    print(f"\n{backend}: {rows:,} historical rows inserted in {took:.1f} s ({rows / took:,.0f} rows/s); median of {repeat} runs")
    print(f"  {'step':<30} {'empty s':>9} {'full s':>9} {'ratio':>6} {'SQL empty':>10} {'SQL full':>9}")
    for name, runs in figures.items():
        (t0, q0), (t1, q1) = ((statistics.median(t for t, _ in runs[k]), sorted({q for _, q in runs[k]})) for k in ("empty", "full"))
        if len(q0) != 1 or len(q1) != 1:
            raise AssertionError(f"{name}: a different number of statements from one run to the next: {q0} {q1}")
        print(f"  {name:<30} {t0:>9.4f} {t1:>9.4f} {t1 / t0:>5.2f}x {q0[0]:>10} {q1[0]:>9}")
    print(f"  old full scan (dispatch_rows): {scanned:,} rows in {scan:.1f} s, every run, before this change")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="historical dispatch rows (default 1,000,000)")
    parser.add_argument("--backends", default="sqlite,postgresql", help="sqlite, postgresql or both (default)")
    parser.add_argument("--repeat", type=int, default=25, help="runs per step and ledger (the median is printed)")
    args = parser.parse_args()
    print(f"history benchmark: {ORDERS} released orders, {SHIPPED} posted today, {HELD} held, {ORDERS - SHIPPED - HELD} pending; "
          f"goal: full/empty within 1.2x")
    for backend in args.backends.split(","):
        run(backend.strip(), args.rows, args.repeat)


if __name__ == "__main__":
    main()
