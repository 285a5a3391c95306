"""exception lifecycle: why and by whom an exception was resolved; suggested fixes on exceptions and exception rows

- ``ledger_exception.resolution``: why it was resolved (the cause gone, in words: "order released", "row posted in
  file X"), or the note of the person who resolved it by hand;
- ``ledger_exception.resolved_by``: ``threepl-bridge`` when the pipeline saw the cause go, else the person;
- ``ledger_exception.suggestion`` and ``ledger_row_outcome.suggestion``: a fix computed from data (a barcode with
  leading zeros, a case quantity, a lookalike SKU...) as JSON ``{"kind", "value", "reason"}``; never applied.

Existing resolved exceptions get the resolution "resolved before revision 0006" (by ``threepl-bridge``).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('ledger_exception', schema=None) as batch_op:
        batch_op.add_column(sa.Column('resolution', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('resolved_by', sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column('suggestion', sa.Text(), nullable=True))
    with op.batch_alter_table('ledger_row_outcome', schema=None) as batch_op:
        batch_op.add_column(sa.Column('suggestion', sa.Text(), nullable=True))
    exceptions = sa.table('ledger_exception', sa.column('status', sa.String), sa.column('resolution', sa.Text),
                          sa.column('resolved_by', sa.String))
    op.execute(exceptions.update().where(exceptions.c.status == 'resolved')
               .values(resolution='resolved before revision 0006', resolved_by='threepl-bridge'))


def downgrade() -> None:
    with op.batch_alter_table('ledger_row_outcome', schema=None) as batch_op:
        batch_op.drop_column('suggestion')
    with op.batch_alter_table('ledger_exception', schema=None) as batch_op:
        batch_op.drop_column('suggestion')
        batch_op.drop_column('resolved_by')
        batch_op.drop_column('resolution')
