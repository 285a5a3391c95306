"""row outcomes carry what the pending check and the timing lookup filter on: partner, kind, order_ref, shipped_at, settled_in

The pending-at-3PL check and the stock reconciliation's timing lookup used to read every dispatch row of a
partner and parse its JSON ``data`` on every run. Now they query indexed columns for the window they need
(ledger/dispatch_rows.py):

- ``partner`` and ``kind``: copied from the row's exchange, so the queries read one table from the row's indexes;
- ``order_ref`` and ``shipped_at`` (UTC): copied from ``data`` when a row is recorded;
- ``settled_in``: the exchange that settled the row - its own, except for an exception row of a shipment (an
  order reference or a ship time), which stays empty until a file posts the same shipment (the same order, SKU,
  lot, parcel, quantity, unit and ship time: a retry, a replay, a corrected copy) and then names that file.

Existing rows are backfilled from their ``data`` in batches of ``BATCH`` rows (PostgreSQL updates each batch in
one ``UPDATE ... FROM (VALUES ...)``, SQLite in one executemany; 1,000,000 rows take one to two minutes), then the
indexes are built, then the open
exception rows of each partner's files are matched with the posted rows of the same orders. This file keeps its
own copy of the column and shipment rules, as they were at revision 0005.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

BATCH = 5000
IN_CHUNK = 500
SHIPMENT = ('order_ref', 'sku', 'lot', 'parcel', 'quantity', 'uom', 'shipped_at')
INDEXES = [
    ('ix_ledger_row_outcome_order_ref', ['order_ref']),
    ('ix_ledger_row_outcome_settled_in_shipped_at', ['settled_in', 'shipped_at']),
    ('ix_ledger_row_outcome_outcome_created_at', ['outcome', 'created_at']),
]

rows = sa.table('ledger_row_outcome', sa.column('id', sa.Integer), sa.column('exchange_id', sa.Integer), sa.column('outcome', sa.String),
                sa.column('partner', sa.String), sa.column('kind', sa.String),
                sa.column('data', sa.Text), sa.column('order_ref', sa.String), sa.column('shipped_at', sa.DateTime(timezone=True)),
                sa.column('settled_in', sa.Integer))
exchanges = sa.table('ledger_exchange', sa.column('id', sa.Integer), sa.column('partner', sa.String), sa.column('kind', sa.String))


def _values(data):  # type: ignore[no-untyped-def]
    try:
        values = json.loads(data) if data else {}
    except ValueError:
        return {}
    return values if isinstance(values, dict) else {}


def _utc(text):  # type: ignore[no-untyped-def]
    if not isinstance(text, str) or not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _update(conn, changes, **columns) -> None:  # type: ignore[no-untyped-def]
    """Set ``columns`` (column name -> PostgreSQL type) of the rows in ``changes`` ({"rid": id, column: value}):
    on PostgreSQL through psycopg2 one ``UPDATE ... FROM (VALUES ...)`` per batch, elsewhere one executemany."""
    if not changes:
        return
    if conn.dialect.name == 'postgresql' and conn.dialect.driver == 'psycopg2':
        from psycopg2.extras import execute_values

        names = list(columns)
        sets = ', '.join(f'{n} = given.{n}::{t}' for n, t in columns.items())
        execute_values(conn.connection.dbapi_connection.cursor(),
                       f'UPDATE ledger_row_outcome SET {sets} FROM (VALUES %s) AS given (rid, {", ".join(names)}) '
                       'WHERE ledger_row_outcome.id = given.rid',
                       [(c['rid'], *(c[n] for n in names)) for c in changes], page_size=len(changes))
        return
    conn.execute(rows.update().where(rows.c.id == sa.bindparam('rid')).values({n: sa.bindparam(f'v_{n}') for n in columns}),
                 [{'rid': c['rid'], **{f'v_{n}': c[n] for n in columns}} for c in changes])


def _backfill_columns(conn) -> None:  # type: ignore[no-untyped-def]
    last = 0
    while True:
        batch = conn.execute(sa.select(rows.c.id, rows.c.exchange_id, rows.c.outcome, rows.c.data, exchanges.c.partner, exchanges.c.kind)
                             .join(exchanges, exchanges.c.id == rows.c.exchange_id).where(rows.c.id > last)
                             .order_by(rows.c.id).limit(BATCH)).all()
        if not batch:
            return
        last = batch[-1][0]
        changes = []
        for rid, eid, outcome, data, partner, kind in batch:
            values = _values(data)
            ref = values.get('order_ref')
            ref = str(ref)[:255] if ref not in (None, '') else None
            shipped = _utc(values.get('shipped_at'))
            shipment_open = outcome == 'exception' and (ref is not None or shipped is not None)
            changes.append({'rid': rid, 'partner': partner, 'kind': kind, 'order_ref': ref, 'shipped_at': shipped,
                            'settled_in': None if shipment_open else eid})
        _update(conn, changes, partner='varchar', kind='varchar', order_ref='varchar', shipped_at='timestamptz', settled_in='integer')


def _settle_shipments(conn) -> None:  # type: ignore[no-untyped-def]
    """The open exception rows with an order reference, batch by batch: the posted rows of the same orders, partner
    and kind; an open row whose shipment is among them is settled in the exchange that posted it first."""
    def shipment(data):  # type: ignore[no-untyped-def]
        values = _values(data)
        return tuple(str(values.get(f) or '') for f in SHIPMENT)

    last = 0
    while True:
        batch = conn.execute(
            sa.select(rows.c.id, rows.c.order_ref, rows.c.data, rows.c.partner, rows.c.kind)
            .where(rows.c.id > last, rows.c.settled_in.is_(None), rows.c.order_ref.is_not(None)).order_by(rows.c.id).limit(BATCH)
        ).all()
        if not batch:
            return
        last = batch[-1][0]
        scopes: dict[tuple[str, str], list[tuple[int, str, str]]] = {}
        for rid, ref, data, partner, kind in batch:
            scopes.setdefault((partner, kind), []).append((rid, ref, data))
        changes = []
        for (partner, kind), items in scopes.items():
            refs = sorted({ref for _, ref, _ in items})
            posted_by: dict[tuple[str, ...], int] = {}
            for start in range(0, len(refs), IN_CHUNK):
                for eid, outcome, data in conn.execute(  # no condition on the outcome: SQLite would read the outcome index
                    sa.select(rows.c.exchange_id, rows.c.outcome, rows.c.data)
                    .where(rows.c.order_ref.in_(refs[start : start + IN_CHUNK]), rows.c.partner == partner, rows.c.kind == kind)
                    .order_by(rows.c.id)
                ):
                    if outcome == 'posted':
                        posted_by.setdefault(shipment(data), eid)
            changes += [{'rid': rid, 'settled_in': posted_by[key]} for rid, _, data in items if (key := shipment(data)) in posted_by]
        _update(conn, changes, settled_in='integer')


def upgrade() -> None:
    with op.batch_alter_table('ledger_row_outcome', schema=None) as batch_op:
        batch_op.add_column(sa.Column('partner', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('kind', sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column('order_ref', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('shipped_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('settled_in', sa.Integer(), nullable=True))
    conn = op.get_bind()
    _backfill_columns(conn)
    for name, columns in INDEXES:  # after the backfill: built once, not kept up to date row by row
        op.create_index(name, 'ledger_row_outcome', columns, unique=False)
    _settle_shipments(conn)


def downgrade() -> None:
    for name, _ in reversed(INDEXES):
        op.drop_index(name, table_name='ledger_row_outcome')
    with op.batch_alter_table('ledger_row_outcome', schema=None) as batch_op:
        batch_op.drop_column('settled_in')
        batch_op.drop_column('shipped_at')
        batch_op.drop_column('order_ref')
        batch_op.drop_column('kind')
        batch_op.drop_column('partner')
