"""A real Airflow DAG run (dag.test) of an intake DAG against a real SFTP server and a real ledger."""

from __future__ import annotations

import subprocess
import sys

import pytest

from sandbox.sftp_server import EmbeddedSftpServer
from tests.dags.test_dag_integrity import load_dagbag
from threepl_bridge.ledger.repo import Ledger


@pytest.fixture(scope="module")
def airflow_db():
    """dag.test() needs an initialised metadata database (SQLite in the test Airflow home)."""
    out = subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]


def test_dispatch_intake_dag_registers_complete_files_once(airflow_db, tmp_path, monkeypatch):
    root = tmp_path / "sftp"
    inbox = root / "from_3pl" / "dispatch"
    inbox.mkdir(parents=True)
    (inbox / "DISPATCH_001.csv").write_bytes(b"order_ref,sku,qty_shipped,shipped_at\r\n3PL/OUT/00001,FURN_7800,2,2026-10-31 23:00:00\r\n")
    (inbox / "DISPATCH_001.csv.ok").write_bytes(b"")
    (inbox / "DISPATCH_002.csv").write_bytes(b"order_ref,sku,qty_shipped,shipped_at\r\n3PL/OUT/00002,FURN_8855,1,2026-11-01 09:00:00\r\n")
    (inbox / "DISPATCH_002.csv.ok").write_bytes(b"")
    (inbox / "DISPATCH_001_resent.csv").write_bytes((inbox / "DISPATCH_001.csv").read_bytes())
    (inbox / "DISPATCH_001_resent.csv.ok").write_bytes(b"")
    (inbox / "DISPATCH_003.csv").write_bytes(b"order_ref,sku,qty_sh")  # no marker yet: still being written

    ledger_url = f"sqlite:///{tmp_path / 'ledger.db'}"
    monkeypatch.setenv("THREEPL_LEDGER_URL", ledger_url)
    with EmbeddedSftpServer(root) as server:
        monkeypatch.setenv("AIRFLOW_CONN_DEMO3PL_SFTP", server.airflow_connection())
        dag = load_dagbag().dags["demo3pl_dispatches_from_3pl"]
        first = dag.test()
        assert first.state == "success"
        second = dag.test()  # a second run finds the same files: nothing new happens
        assert second.state == "success"

    ledger = Ledger.open(ledger_url)
    with ledger.session() as s:
        from sqlalchemy import select

        from threepl_bridge.ledger.models import Exchange

        rows = {(e.remote_name, e.state, e.duplicate_of_id is not None) for e in s.scalars(select(Exchange))}
    assert rows == {
        ("DISPATCH_001.csv", "input_received", False),
        ("DISPATCH_002.csv", "input_received", False),
        ("DISPATCH_001_resent.csv", "input_duplicate", True),
    }
    assert sorted(p.name for p in (root / "archive").iterdir()) == ["DISPATCH_001_resent.csv", "DISPATCH_001_resent.csv.ok"]
    assert (inbox / "DISPATCH_003.csv").exists()
    assert sorted(p.name for p in inbox.iterdir()) == [
        "DISPATCH_001.csv", "DISPATCH_001.csv.ok", "DISPATCH_002.csv", "DISPATCH_002.csv.ok", "DISPATCH_003.csv",
    ]
