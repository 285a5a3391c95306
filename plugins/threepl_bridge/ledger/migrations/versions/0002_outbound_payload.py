"""outbound payload; chatter-note time; row data and record-key index; reconciliation details and approvers

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('ledger_exchange', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payload', sa.LargeBinary(), nullable=True))
    with op.batch_alter_table('ledger_released_picking', schema=None) as batch_op:
        batch_op.add_column(sa.Column('noted_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('ledger_reconciliation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('details', sa.Text(), nullable=True))
    with op.batch_alter_table('ledger_reconciliation_line', schema=None) as batch_op:
        batch_op.add_column(sa.Column('approved_by', sa.String(length=128), nullable=True))
    with op.batch_alter_table('ledger_row_outcome', schema=None) as batch_op:
        batch_op.add_column(sa.Column('data', sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f('ix_ledger_row_outcome_record_key'), ['record_key'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('ledger_reconciliation_line', schema=None) as batch_op:
        batch_op.drop_column('approved_by')
    with op.batch_alter_table('ledger_reconciliation', schema=None) as batch_op:
        batch_op.drop_column('details')
    with op.batch_alter_table('ledger_row_outcome', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_row_outcome_record_key'))
        batch_op.drop_column('data')
    with op.batch_alter_table('ledger_released_picking', schema=None) as batch_op:
        batch_op.drop_column('noted_at')
    with op.batch_alter_table('ledger_exchange', schema=None) as batch_op:
        batch_op.drop_column('payload')

