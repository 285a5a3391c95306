"""replay model: an inbound file can arrive again (``arrival``), and the ledger knows where its file went (``moved_to``)

The same name with the same content used to be the same exchange for ever, so a file dropped again after a fix
(a reopened period, a layout fix for an unreadable file) could only ever be "already processed". Now an exchange
is one *arrival* of a file: while its file is still in the inbox (``moved_to`` empty) a new listing is the same
arrival (a retry); once the file has been archived or quarantined, the same name and content in the inbox again
is a new arrival, whose earlier arrivals' outcomes decide whether it is a duplicate or a replay.

SQLite rebuilds the table to change the constraint: ``engine.migrate`` runs migrations there with foreign keys
checked after the migration (``PRAGMA foreign_key_check``) instead of per statement.

Existing settled exchanges get ``moved_to = '(before 0004)'``: their files were moved (or will be by the next
listing, which then records a duplicate or a replay exactly as for a new arrival).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

FILE_KEY = ['partner', 'direction', 'kind', 'remote_folder', 'remote_name', 'sha256']
SETTLED = ('input_processed', 'input_duplicate', 'input_error')


def upgrade() -> None:
    with op.batch_alter_table('ledger_exchange', schema=None) as batch_op:
        batch_op.add_column(sa.Column('arrival', sa.Integer(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('moved_to', sa.String(length=1024), nullable=True))
        batch_op.drop_constraint('uq_ledger_exchange_file', type_='unique')
        batch_op.create_unique_constraint('uq_ledger_exchange_file', [*FILE_KEY, 'arrival'])
    exchange = sa.table('ledger_exchange', sa.column('state', sa.String), sa.column('direction', sa.String),
                        sa.column('moved_to', sa.String))
    op.execute(exchange.update().where(exchange.c.direction == 'inbound', exchange.c.state.in_(SETTLED))
               .values(moved_to='(before 0004)'))


def downgrade() -> None:
    with op.batch_alter_table('ledger_exchange', schema=None) as batch_op:
        batch_op.drop_constraint('uq_ledger_exchange_file', type_='unique')
        batch_op.create_unique_constraint('uq_ledger_exchange_file', FILE_KEY)
        batch_op.drop_column('moved_to')
        batch_op.drop_column('arrival')
