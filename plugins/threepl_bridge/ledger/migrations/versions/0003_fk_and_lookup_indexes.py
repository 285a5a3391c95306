"""indexes for every foreign key and every lookup of the ledger's API not covered by a unique constraint

Only indexes: no column, constraint or data changes, so existing ledgers carry over as they are. Plain
CREATE INDEX on both SQLite and PostgreSQL (inside the migration's transaction; PostgreSQL blocks writes to
each table while its index is built, which takes seconds even for a million reconciliation lines).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

# (table, index, columns): foreign keys first, then the API's lookups
INDEXES = [
    ('ledger_exchange', 'ix_ledger_exchange_duplicate_of_id', ['duplicate_of_id']),
    ('ledger_exception', 'ix_ledger_exception_exchange_id', ['exchange_id']),
    ('ledger_posting', 'ix_ledger_posting_exchange_id', ['exchange_id']),
    ('ledger_product_version', 'ix_ledger_product_version_exchange_id', ['exchange_id']),
    ('ledger_reconciliation', 'ix_ledger_reconciliation_exchange_id', ['exchange_id']),
    ('ledger_reconciliation_line', 'ix_ledger_reconciliation_line_posting_id', ['posting_id']),
    # foreign key, and the pending pickings of a file (mark_sent)
    ('ledger_released_picking', 'ix_ledger_released_picking_exchange_id_state', ['exchange_id', 'state']),
    # unsettled_inbound
    ('ledger_exchange', 'ix_ledger_exchange_partner_direction_state', ['partner', 'direction', 'state']),
    # resolve_exceptions: the open exceptions of one object
    ('ledger_exception', 'ix_ledger_exception_partner_object_type_object_ref_status',
     ['partner', 'object_type', 'object_ref', 'status']),
    # set_line_posted finds the posting by its key alone
    ('ledger_posting', 'ix_ledger_posting_idem_key', ['idem_key']),
    # approve_lines: the pending lines of a reconciliation
    ('ledger_reconciliation_line', 'ix_ledger_reconciliation_line_reconciliation_id_approval', ['reconciliation_id', 'approval']),
]


def upgrade() -> None:
    for table, name, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for table, name, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
