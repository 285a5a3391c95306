"""Migrations: they build exactly the schema the models describe, and upgrading keeps existing data."""

from __future__ import annotations

import threading

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.config import Config
from sqlalchemy import inspect, text

from threepl_bridge.ledger.engine import MIGRATIONS_DIR, VERSION_TABLE, current_revision, downgrade, make_engine, migrate
from threepl_bridge.ledger.models import Base
from threepl_bridge.ledger.repo import Ledger


def head() -> str:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(cfg).get_current_head()


def test_migrated_schema_matches_the_models(ledger_url):
    engine = make_engine(ledger_url)
    migrate(engine)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE, "compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == [], f"models and migrations differ; add a migration: {diff}"
    assert current_revision(engine) == head()


def test_ledger_tables_do_not_collide_with_airflow(ledger_url):
    engine = make_engine(ledger_url)
    migrate(engine)
    tables = set(inspect(engine).get_table_names())
    assert tables and all(t.startswith("ledger_") for t in tables), tables
    assert "alembic_version" not in tables  # Airflow's own version table stays untouched


def test_upgrade_again_keeps_data(ledger_url):
    ledger = Ledger.open(ledger_url)
    reg = ledger.register_inbound(partner="p", kind="stock", folder="/s", name="S.csv", sha256="c" * 64, size=3)
    ledger.advance_watermark("p", "products", "2026-11-01 00:00:00", 5)
    migrate(ledger.engine)  # e.g. a redeploy runs the upgrade again
    again = Ledger.open(ledger_url)
    assert again.exchange(reg.exchange_id).remote_name == "S.csv"
    assert again.watermark("p", "products") == ("2026-11-01 00:00:00", 5)


def test_downgrade_to_base_and_back(ledger_url):
    engine = make_engine(ledger_url)
    migrate(engine)
    downgrade(engine, "base")
    assert [t for t in inspect(engine).get_table_names() if t != VERSION_TABLE] == []
    migrate(engine)
    assert current_revision(engine) == head()


def test_concurrent_migrations_do_not_fail(ledger_url):
    """Several tasks starting at once all call migrate(); none may fail or double-create."""
    engines = [make_engine(ledger_url) for _ in range(3)]
    errors: list[BaseException] = []

    def run(engine) -> None:
        try:
            migrate(engine)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with engines[0].connect() as conn:
        assert conn.execute(text(f"SELECT count(*) FROM {VERSION_TABLE}")).scalar() == 1


def test_upgrading_from_the_first_revision_keeps_existing_rows(ledger_url):
    engine = make_engine(ledger_url)
    migrate(engine, "0001")
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO ledger_exchange (partner, direction, kind, remote_folder, remote_name, sha256, size, state, "
            "rows_total, rows_posted, rows_exception, rows_duplicate, attempts, created_at, updated_at) VALUES "
            "('demo3pl', 'inbound', 'dispatches', '/in', 'OLD.csv', :sha, 9, 'input_processed', 3, 2, 1, 0, 1, "
            "'2026-10-01 00:00:00+00:00', '2026-10-01 00:00:00+00:00')"
        ), {"sha": "d" * 64})
    migrate(engine)
    assert current_revision(engine) == head()
    ledger = Ledger(engine)
    [old] = [e for e in [ledger.exchange(1)]]
    assert (old.remote_name, old.state, old.rows_posted, old.rows_exception) == ("OLD.csv", "input_processed", 2, 1)
