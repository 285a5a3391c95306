"""The row-heavy benchmark (benchmarks/row_heavy.py, issue 13 item 8) runs and prints its figures; and the ledger
writes a row-heavy file's outcomes in bounded INSERTs. No timing assertions."""

from __future__ import annotations

import re
import subprocess
import sys

from sqlalchemy import event

from tests.conftest import REPO
from threepl_bridge.ledger.repo import Ledger
from threepl_bridge.ledger.states import Outcome

CHUNK = 5000  # the most row outcomes one INSERT may carry (ledger/exchanges.py CHUNK)


def test_the_row_heavy_benchmark_runs_quick_and_prints_its_figures():
    done = subprocess.run([sys.executable, "benchmarks/row_heavy.py", "--quick", "--cases", "dispatch-duplicate,stock-unreadable"],
                          cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    rows = [line for line in done.stdout.splitlines() if re.match(r"(dispatch|stock)-\w+ +\d+\.\d+ +\d+ +\d+\.\d+ ", line)]
    assert len(rows) == 4, done.stdout  # two cases x the two quick sizes: rows, seconds, rows/s, s/MB, peak MiB
    assert all("input_processed" in line for line in rows), done.stdout
    assert "dispatch-duplicate   s/MB from the smallest to the largest size" in done.stdout


def test_row_outcomes_of_a_row_heavy_file_are_inserted_in_bounded_chunks(tmp_path):
    ledger = Ledger.open(f"sqlite:///{tmp_path / 'ledger.db'}")
    exchange = ledger.register_inbound(partner="demo3pl", kind="dispatches", folder="/in", name="D.csv", sha256="a" * 64, size=1)
    largest = []

    @event.listens_for(ledger.engine, "before_cursor_execute")
    def count(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        if statement.startswith("INSERT INTO ledger_row_outcome"):
            largest.append(len(parameters) if executemany else 1)

    n = 2 * CHUNK + 7
    ledger.record_rows(exchange.exchange_id, [{"row_number": i, "outcome": Outcome.EXCEPTION, "code": "DISPATCH_DUPLICATE_ROW",
                                               "field": "key", "message": f"D.csv row {i}: duplicate"} for i in range(2, n + 2)])
    assert largest and max(largest) <= CHUNK and sum(largest) == n
    assert len(ledger.row_outcomes(exchange.exchange_id)) == n
