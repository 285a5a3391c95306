"""The ledger's tables: the pipeline's own state, kept apart from Airflow's metadata.

Every table is prefixed ``ledger_`` and Alembic keeps its version in ``ledger_alembic_version``, so the ledger
can share a database with Airflow without clashing. Schema changes go through migrations only
(``threepl_bridge/ledger/migrations``); ``tests/ledger/test_migrations.py`` fails when models and migrations drift.

State columns hold the values of the enums in :mod:`threepl_bridge.ledger.states`. Every foreign key and every
lookup the ledger's API makes has an index (or a unique constraint that starts with its columns).
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from sqlalchemy import (
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from threepl_bridge.ledger.states import ApprovalState, ExceptionStatus, PostingState, ReleaseState

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the offset; we put it back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the ledger; pass an aware (UTC) datetime")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


QTY = Numeric(18, 4)
MONEY = Numeric(18, 2)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Exchange(Base):
    """One file exchanged with a partner, in either direction (an OCA-style exchange record)."""

    __tablename__ = "ledger_exchange"
    __table_args__ = (
        UniqueConstraint("partner", "direction", "kind", "remote_folder", "remote_name", "sha256", "arrival", name="uq_ledger_exchange_file"),
        Index("ix_ledger_exchange_partner_kind_state", "partner", "kind", "state"),
        Index("ix_ledger_exchange_partner_sha256", "partner", "sha256"),
        Index("ix_ledger_exchange_partner_direction_state", "partner", "direction", "state"),  # unsettled inbound
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partner: Mapped[str] = mapped_column(String(32))
    direction: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(24))
    remote_folder: Mapped[str] = mapped_column(String(512))
    remote_name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    arrival: Mapped[int] = mapped_column(Integer, default=1, server_default="1")  # the same file dropped again is a new arrival
    size: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(32))  # states.State
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_exchange.id"), default=None, index=True)
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    rows_posted: Mapped[int] = mapped_column(Integer, default=0)
    rows_exception: Mapped[int] = mapped_column(Integer, default=0)
    rows_duplicate: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    run_id: Mapped[str | None] = mapped_column(String(250), default=None)
    # outbound: the exact bytes, kept until sent, so a retry re-sends the same file under the same name
    moved_to: Mapped[str | None] = mapped_column(String(1024), default=None)  # where its file went (archive/, error/)
    payload: Mapped[bytes | None] = mapped_column(LargeBinary, default=None, deferred=True)
    quality: Mapped[str | None] = mapped_column(Text, default=None, deferred=True)  # the last validation's GX results (JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class ExchangeEvent(Base):
    """Audit trail: every state change of an exchange, with who/why."""

    __tablename__ = "ledger_exchange_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    exchange_id: Mapped[int] = mapped_column(ForeignKey("ledger_exchange.id"), index=True)
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text, default=None)
    run_id: Mapped[str | None] = mapped_column(String(250), default=None)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class RowOutcome(Base):
    """What became of one row of a file: posted, duplicate, or an exception with a stable code."""

    __tablename__ = "ledger_row_outcome"
    __table_args__ = (
        UniqueConstraint("exchange_id", "row_number", "outcome", "code", "field", name="uq_ledger_row_outcome_key"),
        Index("ix_ledger_row_outcome_order_ref", "order_ref"),  # the pending check; the same shipment in other files
        Index("ix_ledger_row_outcome_settled_in_shipped_at", "settled_in", "shipped_at"),  # shipments not posted
        Index("ix_ledger_row_outcome_outcome_created_at", "outcome", "created_at"),  # rows posted lately
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    exchange_id: Mapped[int] = mapped_column(ForeignKey("ledger_exchange.id"), index=True)
    row_number: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(String(48), default="")
    field: Mapped[str] = mapped_column(String(64), default="")
    record_key: Mapped[str | None] = mapped_column(String(255), default=None, index=True)
    message: Mapped[str | None] = mapped_column(Text, default=None)
    odoo_ref: Mapped[str | None] = mapped_column(String(255), default=None)
    data: Mapped[str | None] = mapped_column(Text, default=None)  # the row's canonical values (JSON), for reconciliations
    # the window queries' columns (ledger/dispatch_rows.py), set when the row is recorded: its exchange's partner and
    # kind (so they read one table), and from ``data`` its order reference and ship time (so they parse no JSON)
    partner: Mapped[str | None] = mapped_column(String(32), default=None)
    kind: Mapped[str | None] = mapped_column(String(24), default=None)
    order_ref: Mapped[str | None] = mapped_column(String(255), default=None)
    shipped_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    # the exchange that settled the row: its own, except for an exception row of a shipment (an order reference or a
    # ship time), which stays empty until a file posts that shipment (a retry, a replay, a corrected copy), then
    # names that file. Empty = a shipment Odoo does not carry; one column, so planners estimate it right
    # (a plain number, never joined on)
    settled_in: Mapped[int | None] = mapped_column(Integer, default=None)
    suggestion: Mapped[str | None] = mapped_column(Text, default=None)  # a fix computed from data (JSON), never applied
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class RecordException(Base):
    """A record-level problem operations must see (held order, unknown SKU, order pending at the 3PL...).

    One row per (partner, code, object); it stays ``open`` while the problem is seen again and is resolved
    when the cause goes away.
    """

    __tablename__ = "ledger_exception"
    __table_args__ = (
        UniqueConstraint("partner", "code", "object_type", "object_ref", name="uq_ledger_exception_key"),
        Index("ix_ledger_exception_partner_status", "partner", "status"),
        Index("ix_ledger_exception_partner_object_type_object_ref_status", "partner", "object_type", "object_ref", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partner: Mapped[str] = mapped_column(String(32))
    code: Mapped[str] = mapped_column(String(48))
    object_type: Mapped[str] = mapped_column(String(32))
    object_ref: Mapped[str] = mapped_column(String(255))
    message: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=ExceptionStatus.OPEN.value)
    occurrences: Mapped[int] = mapped_column(Integer, default=1)
    exchange_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_exchange.id"), default=None, index=True)
    first_seen_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    resolution: Mapped[str | None] = mapped_column(Text, default=None)  # why: the cause gone (in words) or a person's note
    resolved_by: Mapped[str | None] = mapped_column(String(128), default=None)  # AUTOMATIC, or the person
    suggestion: Mapped[str | None] = mapped_column(Text, default=None)  # a fix computed from data (JSON), never applied


class ReleasedPicking(Base):
    """An outgoing picking released to a partner: released at most once per partner."""

    __tablename__ = "ledger_released_picking"
    __table_args__ = (
        UniqueConstraint("partner", "picking_id", name="uq_ledger_released_picking_key"),
        Index("ix_ledger_released_picking_partner_state", "partner", "state"),
        Index("ix_ledger_released_picking_exchange_id_state", "exchange_id", "state"),  # the foreign key; pending of a file
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partner: Mapped[str] = mapped_column(String(32))
    picking_id: Mapped[int] = mapped_column(Integer)
    picking_name: Mapped[str] = mapped_column(String(64))
    exchange_id: Mapped[int] = mapped_column(ForeignKey("ledger_exchange.id"))
    content_hash: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default=ReleaseState.RELEASED.value)  # states.ReleaseState
    released_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    noted_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class ProductVersion(Base):
    """A version (hash of the fields sent) of a product that a partner has received."""

    __tablename__ = "ledger_product_version"
    __table_args__ = (
        UniqueConstraint("partner", "product_id", "version_hash", "exchange_id", name="uq_ledger_product_version_key"),
        Index("ix_ledger_product_version_partner_sku", "partner", "sku"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partner: Mapped[str] = mapped_column(String(32))
    product_id: Mapped[int] = mapped_column(Integer)
    sku: Mapped[str] = mapped_column(String(64))
    version_hash: Mapped[str] = mapped_column(String(64))
    odoo_write_date: Mapped[str] = mapped_column(String(32))
    exchange_id: Mapped[int] = mapped_column(ForeignKey("ledger_exchange.id"), index=True)
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Watermark(Base):
    """Incremental extraction position: Odoo write_date plus id as tie-breaker."""

    __tablename__ = "ledger_watermark"

    partner: Mapped[str] = mapped_column(String(32), primary_key=True)
    stream: Mapped[str] = mapped_column(String(48), primary_key=True)
    value: Mapped[str] = mapped_column(String(32))
    last_id: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class Posting(Base):
    """Write-ahead record of one write to Odoo, keyed by an idempotency key.

    ``intent`` is committed before Odoo is called and ``done`` after; a retry that finds ``intent`` checks
    Odoo for the outcome instead of posting again.
    """

    __tablename__ = "ledger_posting"
    __table_args__ = (
        UniqueConstraint("partner", "idem_key", name="uq_ledger_posting_key"),
        Index("ix_ledger_posting_idem_key", "idem_key"),  # a reconciliation line finds its posting by key alone
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partner: Mapped[str] = mapped_column(String(32))
    idem_key: Mapped[str] = mapped_column(String(255))
    target: Mapped[str] = mapped_column(String(64))
    odoo_id: Mapped[int | None] = mapped_column(Integer, default=None)
    exchange_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_exchange.id"), default=None, index=True)
    state: Mapped[str] = mapped_column(String(16), default=PostingState.INTENT.value)
    payload_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)


class Reconciliation(Base):
    """A stock snapshot compared with Odoo at the snapshot's as-of time."""

    __tablename__ = "ledger_reconciliation"
    __table_args__ = (UniqueConstraint("partner", "exchange_id", name="uq_ledger_reconciliation_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partner: Mapped[str] = mapped_column(String(32))
    exchange_id: Mapped[int] = mapped_column(ForeignKey("ledger_exchange.id"), index=True)
    as_of: Mapped[datetime] = mapped_column(UtcDateTime)
    state: Mapped[str] = mapped_column(String(24))  # states.ReconciliationState
    currency: Mapped[str | None] = mapped_column(String(8), default=None)
    variance_value: Mapped[Decimal] = mapped_column(MONEY, default=Decimal(0))
    details: Mapped[str | None] = mapped_column(Text, default=None)  # JSON: data-quality results, unknown rows
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class ReconciliationLine(Base):
    """One (SKU, lot) of a reconciliation, its classification and, for variances, its approval."""

    __tablename__ = "ledger_reconciliation_line"
    __table_args__ = (
        UniqueConstraint("reconciliation_id", "sku", "lot", name="uq_ledger_reconciliation_line_key"),
        Index("ix_ledger_reconciliation_line_reconciliation_id_approval", "reconciliation_id", "approval"),  # pending lines
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reconciliation_id: Mapped[int] = mapped_column(ForeignKey("ledger_reconciliation.id"), index=True)
    sku: Mapped[str] = mapped_column(String(64))
    lot: Mapped[str] = mapped_column(String(64), default="")
    product_id: Mapped[int | None] = mapped_column(Integer, default=None)
    threepl_qty: Mapped[Decimal | None] = mapped_column(QTY, default=None)
    odoo_qty: Mapped[Decimal | None] = mapped_column(QTY, default=None)
    timing_qty: Mapped[Decimal] = mapped_column(QTY, default=Decimal(0))
    variance_qty: Mapped[Decimal] = mapped_column(QTY, default=Decimal(0))
    unit_cost: Mapped[Decimal | None] = mapped_column(Numeric(18, 6), default=None)
    variance_value: Mapped[Decimal] = mapped_column(MONEY, default=Decimal(0))
    classification: Mapped[str] = mapped_column(String(24))
    explanation: Mapped[str | None] = mapped_column(Text, default=None)
    approval: Mapped[str] = mapped_column(String(16), default=ApprovalState.NONE.value)  # states.ApprovalState
    approved_by: Mapped[str | None] = mapped_column(String(128), default=None)
    posting_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_posting.id"), default=None, index=True)
