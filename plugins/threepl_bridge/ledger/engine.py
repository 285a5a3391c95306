"""Where the ledger lives and how its schema is brought up to date.

Resolution order of the database URL:
1. ``THREEPL_LEDGER_URL`` (any SQLAlchemy URL; for tools and tests),
2. the Airflow connection ``threepl_ledger`` (postgres/sqlite conn types, or extra ``sqlalchemy_url``),
3. ``sqlite:///$AIRFLOW_HOME/threepl_ledger.db``, the embedded default.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url

log = logging.getLogger(__name__)

LEDGER_CONN_ID = "threepl_ledger"
LEDGER_URL_ENV = "THREEPL_LEDGER_URL"
MIGRATIONS_DIR = Path(__file__).with_name("migrations")
VERSION_TABLE = "ledger_alembic_version"
_PG_LOCK_KEY = 0x3B1_ED6E  # advisory lock serialising concurrent migrations on PostgreSQL


def airflow_home() -> Path:
    return Path(os.environ.get("AIRFLOW_HOME", Path.home() / "airflow"))


def _url_from_airflow() -> URL | None:
    try:
        from airflow.sdk import BaseHook
        from airflow.sdk.exceptions import AirflowNotFoundException  # type: ignore[attr-defined]
    except ImportError:  # pragma: no cover - Airflow always present in deployments
        return None
    try:
        conn = BaseHook.get_connection(LEDGER_CONN_ID)
    except AirflowNotFoundException:
        return None
    extra = conn.extra_dejson or {}
    if extra.get("sqlalchemy_url"):
        return make_url(extra["sqlalchemy_url"])
    conn_type = (conn.conn_type or "").lower()
    if conn_type in {"postgres", "postgresql"}:
        return URL.create(
            "postgresql+psycopg2",
            username=conn.login or None,
            password=conn.password or None,
            host=conn.host or None,
            port=conn.port or None,
            database=conn.schema or None,
        )
    if conn_type == "sqlite":
        return make_url(f"sqlite:///{conn.host or conn.schema}")
    raise ValueError(
        f"connection {LEDGER_CONN_ID!r} has conn_type {conn.conn_type!r}; use postgres or sqlite, "
        "or give extra.sqlalchemy_url"
    )


def ledger_url() -> URL:
    env = os.environ.get(LEDGER_URL_ENV)
    if env:
        return make_url(env)
    from_airflow = _url_from_airflow()
    if from_airflow is not None:
        return from_airflow
    return make_url(f"sqlite:///{airflow_home() / 'threepl_ledger.db'}")


def make_engine(url: str | URL | None = None) -> Engine:
    url = make_url(url) if url is not None else ledger_url()
    if url.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def _alembic_config(connection):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = connection
    return cfg


_PROCESS_LOCK = threading.Lock()  # alembic loads its scripts through module-global state


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    """Serialise migrations: in-process, and across processes (a file lock for SQLite files; on PostgreSQL
    an advisory lock taken inside the migration's transaction)."""
    with _PROCESS_LOCK:
        database = engine.url.database if engine.url.get_backend_name() == "sqlite" else None
        if not database or database == ":memory:":
            yield
            return
        with open(f"{database}.migrate.lock", "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the ledger schema to ``revision``; safe to call from many tasks at once."""
    from alembic import command

    with _migration_lock(engine), _foreign_keys_after(engine) as conn, conn.begin():
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
        command.upgrade(_alembic_config(conn), revision)
        _check_foreign_keys(conn)


@contextmanager
def _foreign_keys_after(engine: Engine) -> Iterator[Connection]:
    """A connection for a migration. SQLite changes a constraint by rebuilding the table, which per-statement
    foreign-key checks refuse (the rows referencing it): there they are switched off for the migration (only
    possible outside a transaction) and checked as a whole before the commit (:func:`_check_foreign_keys`)."""
    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.commit()
        try:
            yield conn
        finally:
            if sqlite:
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                conn.commit()


def _check_foreign_keys(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"ledger migration left rows whose foreign keys point nowhere: {broken[:5]}")


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    with _migration_lock(engine), _foreign_keys_after(engine) as conn, conn.begin():
        command.downgrade(_alembic_config(conn), revision)
        _check_foreign_keys(conn)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        return ctx.get_current_revision()


def safe_url(url: URL) -> str:
    """The URL with its password hidden, for logs."""
    return url.render_as_string(hide_password=True)
