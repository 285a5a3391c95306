"""Alembic environment for the ledger. Run through threepl_bridge.ledger.engine.migrate(), which hands us an
open connection; the version table is ledger_alembic_version so the ledger can share Airflow's database."""

from __future__ import annotations

from alembic import context

from threepl_bridge.ledger.engine import VERSION_TABLE
from threepl_bridge.ledger.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - guarded by engine.migrate()
    raise RuntimeError("run ledger migrations through threepl_bridge.ledger.engine.migrate()")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    version_table=VERSION_TABLE,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
