"""data quality kept with the exchange: the Great Expectations results of the file's last validation

- ``ledger_exchange.quality``: JSON ``{"suite", "rows", "validated_at", "checks": [...]}``, one check per
  expectation (type, column, code, GX's own description, threshold, rows checked and failing, sample values).
  Written each time the file is validated (a replay overwrites it); files validated before this revision have none.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('ledger_exchange', schema=None) as batch_op:
        batch_op.add_column(sa.Column('quality', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('ledger_exchange', schema=None) as batch_op:
        batch_op.drop_column('quality')
