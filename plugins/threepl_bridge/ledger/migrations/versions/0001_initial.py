"""initial ledger schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op




revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ledger_exchange',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner', sa.String(length=32), nullable=False),
    sa.Column('direction', sa.String(length=8), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('remote_folder', sa.String(length=512), nullable=False),
    sa.Column('remote_name', sa.String(length=255), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('duplicate_of_id', sa.Integer(), nullable=True),
    sa.Column('rows_total', sa.Integer(), nullable=False),
    sa.Column('rows_posted', sa.Integer(), nullable=False),
    sa.Column('rows_exception', sa.Integer(), nullable=False),
    sa.Column('rows_duplicate', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.String(length=250), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['duplicate_of_id'], ['ledger_exchange.id'], name=op.f('fk_ledger_exchange_duplicate_of_id')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_exchange')),
    sa.UniqueConstraint('partner', 'direction', 'kind', 'remote_folder', 'remote_name', 'sha256', name='uq_ledger_exchange_file')
    )
    with op.batch_alter_table('ledger_exchange', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_exchange_partner_kind_state', ['partner', 'kind', 'state'], unique=False)
        batch_op.create_index('ix_ledger_exchange_partner_sha256', ['partner', 'sha256'], unique=False)

    op.create_table('ledger_watermark',
    sa.Column('partner', sa.String(length=32), nullable=False),
    sa.Column('stream', sa.String(length=48), nullable=False),
    sa.Column('value', sa.String(length=32), nullable=False),
    sa.Column('last_id', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('partner', 'stream', name=op.f('pk_ledger_watermark'))
    )
    op.create_table('ledger_exception',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner', sa.String(length=32), nullable=False),
    sa.Column('code', sa.String(length=48), nullable=False),
    sa.Column('object_type', sa.String(length=32), nullable=False),
    sa.Column('object_ref', sa.String(length=255), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('occurrences', sa.Integer(), nullable=False),
    sa.Column('exchange_id', sa.Integer(), nullable=True),
    sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['exchange_id'], ['ledger_exchange.id'], name=op.f('fk_ledger_exception_exchange_id')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_exception')),
    sa.UniqueConstraint('partner', 'code', 'object_type', 'object_ref', name='uq_ledger_exception_key')
    )
    with op.batch_alter_table('ledger_exception', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_exception_partner_status', ['partner', 'status'], unique=False)

    op.create_table('ledger_exchange_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('exchange_id', sa.Integer(), nullable=False),
    sa.Column('from_state', sa.String(length=32), nullable=True),
    sa.Column('to_state', sa.String(length=32), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('run_id', sa.String(length=250), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['exchange_id'], ['ledger_exchange.id'], name=op.f('fk_ledger_exchange_event_exchange_id')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_exchange_event'))
    )
    with op.batch_alter_table('ledger_exchange_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_exchange_event_exchange_id'), ['exchange_id'], unique=False)

    op.create_table('ledger_posting',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner', sa.String(length=32), nullable=False),
    sa.Column('idem_key', sa.String(length=255), nullable=False),
    sa.Column('target', sa.String(length=64), nullable=False),
    sa.Column('odoo_id', sa.Integer(), nullable=True),
    sa.Column('exchange_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('payload_hash', sa.String(length=64), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['exchange_id'], ['ledger_exchange.id'], name=op.f('fk_ledger_posting_exchange_id')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_posting')),
    sa.UniqueConstraint('partner', 'idem_key', name='uq_ledger_posting_key')
    )
    op.create_table('ledger_product_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner', sa.String(length=32), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('version_hash', sa.String(length=64), nullable=False),
    sa.Column('odoo_write_date', sa.String(length=32), nullable=False),
    sa.Column('exchange_id', sa.Integer(), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['exchange_id'], ['ledger_exchange.id'], name=op.f('fk_ledger_product_version_exchange_id')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_product_version')),
    sa.UniqueConstraint('partner', 'product_id', 'version_hash', 'exchange_id', name='uq_ledger_product_version_key')
    )
    with op.batch_alter_table('ledger_product_version', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_product_version_partner_sku', ['partner', 'sku'], unique=False)

    op.create_table('ledger_reconciliation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner', sa.String(length=32), nullable=False),
    sa.Column('exchange_id', sa.Integer(), nullable=False),
    sa.Column('as_of', sa.DateTime(timezone=True), nullable=False),
    sa.Column('state', sa.String(length=24), nullable=False),
    sa.Column('currency', sa.String(length=8), nullable=True),
    sa.Column('variance_value', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['exchange_id'], ['ledger_exchange.id'], name=op.f('fk_ledger_reconciliation_exchange_id')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_reconciliation')),
    sa.UniqueConstraint('partner', 'exchange_id', name='uq_ledger_reconciliation_key')
    )
    op.create_table('ledger_released_picking',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner', sa.String(length=32), nullable=False),
    sa.Column('picking_id', sa.Integer(), nullable=False),
    sa.Column('picking_name', sa.String(length=64), nullable=False),
    sa.Column('exchange_id', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('released_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['exchange_id'], ['ledger_exchange.id'], name=op.f('fk_ledger_released_picking_exchange_id')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_released_picking')),
    sa.UniqueConstraint('partner', 'picking_id', name='uq_ledger_released_picking_key')
    )
    with op.batch_alter_table('ledger_released_picking', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_released_picking_partner_state', ['partner', 'state'], unique=False)

    op.create_table('ledger_row_outcome',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('exchange_id', sa.Integer(), nullable=False),
    sa.Column('row_number', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('code', sa.String(length=48), nullable=False),
    sa.Column('field', sa.String(length=64), nullable=False),
    sa.Column('record_key', sa.String(length=255), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('odoo_ref', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['exchange_id'], ['ledger_exchange.id'], name=op.f('fk_ledger_row_outcome_exchange_id')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_row_outcome')),
    sa.UniqueConstraint('exchange_id', 'row_number', 'outcome', 'code', 'field', name='uq_ledger_row_outcome_key')
    )
    with op.batch_alter_table('ledger_row_outcome', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_row_outcome_exchange_id'), ['exchange_id'], unique=False)

    op.create_table('ledger_reconciliation_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reconciliation_id', sa.Integer(), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('lot', sa.String(length=64), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=True),
    sa.Column('threepl_qty', sa.Numeric(precision=18, scale=4), nullable=True),
    sa.Column('odoo_qty', sa.Numeric(precision=18, scale=4), nullable=True),
    sa.Column('timing_qty', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('variance_qty', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('unit_cost', sa.Numeric(precision=18, scale=6), nullable=True),
    sa.Column('variance_value', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('classification', sa.String(length=24), nullable=False),
    sa.Column('explanation', sa.Text(), nullable=True),
    sa.Column('approval', sa.String(length=16), nullable=False),
    sa.Column('posting_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['posting_id'], ['ledger_posting.id'], name=op.f('fk_ledger_reconciliation_line_posting_id')),
    sa.ForeignKeyConstraint(['reconciliation_id'], ['ledger_reconciliation.id'], name=op.f('fk_ledger_reconciliation_line_reconciliation_id')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_reconciliation_line')),
    sa.UniqueConstraint('reconciliation_id', 'sku', 'lot', name='uq_ledger_reconciliation_line_key')
    )
    with op.batch_alter_table('ledger_reconciliation_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_reconciliation_line_reconciliation_id'), ['reconciliation_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('ledger_reconciliation_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_reconciliation_line_reconciliation_id'))

    op.drop_table('ledger_reconciliation_line')
    with op.batch_alter_table('ledger_row_outcome', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_row_outcome_exchange_id'))

    op.drop_table('ledger_row_outcome')
    with op.batch_alter_table('ledger_released_picking', schema=None) as batch_op:
        batch_op.drop_index('ix_ledger_released_picking_partner_state')

    op.drop_table('ledger_released_picking')
    op.drop_table('ledger_reconciliation')
    with op.batch_alter_table('ledger_product_version', schema=None) as batch_op:
        batch_op.drop_index('ix_ledger_product_version_partner_sku')

    op.drop_table('ledger_product_version')
    op.drop_table('ledger_posting')
    with op.batch_alter_table('ledger_exchange_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_exchange_event_exchange_id'))

    op.drop_table('ledger_exchange_event')
    with op.batch_alter_table('ledger_exception', schema=None) as batch_op:
        batch_op.drop_index('ix_ledger_exception_partner_status')

    op.drop_table('ledger_exception')
    op.drop_table('ledger_watermark')
    with op.batch_alter_table('ledger_exchange', schema=None) as batch_op:
        batch_op.drop_index('ix_ledger_exchange_partner_sha256')
        batch_op.drop_index('ix_ledger_exchange_partner_kind_state')

    op.drop_table('ledger_exchange')
