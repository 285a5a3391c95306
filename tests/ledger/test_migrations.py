"""Migrations: they build exactly the schema the models describe, and upgrading keeps existing data."""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from decimal import Decimal

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.config import Config
from sqlalchemy import MetaData, UniqueConstraint, inspect, select, text

from threepl_bridge.ledger.engine import MIGRATIONS_DIR, VERSION_TABLE, current_revision, downgrade, make_engine, migrate
from threepl_bridge.ledger.models import Base
from threepl_bridge.ledger.repo import Ledger


def head() -> str:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(cfg).get_current_head()


def test_migrated_schema_matches_the_models(ledger_url):
    engine = make_engine(ledger_url)
    migrate(engine)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE, "compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == [], f"models and migrations differ; add a migration: {diff}"
    assert current_revision(engine) == head()


def test_ledger_tables_do_not_collide_with_airflow(ledger_url):
    engine = make_engine(ledger_url)
    migrate(engine)
    tables = set(inspect(engine).get_table_names())
    assert tables and all(t.startswith("ledger_") for t in tables), tables
    assert "alembic_version" not in tables  # Airflow's own version table stays untouched


def test_upgrade_again_keeps_data(ledger_url):
    ledger = Ledger.open(ledger_url)
    reg = ledger.register_inbound(partner="p", kind="stock", folder="/s", name="S.csv", sha256="c" * 64, size=3)
    ledger.advance_watermark("p", "products", "2026-11-01 00:00:00", 5)
    migrate(ledger.engine)  # e.g. a redeploy runs the upgrade again
    again = Ledger.open(ledger_url)
    assert again.exchange(reg.exchange_id).remote_name == "S.csv"
    assert again.watermark("p", "products") == ("2026-11-01 00:00:00", 5)


def test_downgrade_to_base_and_back(ledger_url):
    engine = make_engine(ledger_url)
    migrate(engine)
    downgrade(engine, "base")
    assert [t for t in inspect(engine).get_table_names() if t != VERSION_TABLE] == []
    migrate(engine)
    assert current_revision(engine) == head()


def test_concurrent_migrations_do_not_fail(ledger_url):
    """Several tasks starting at once all call migrate(); none may fail or double-create."""
    engines = [make_engine(ledger_url) for _ in range(3)]
    errors: list[BaseException] = []

    def run(engine) -> None:
        try:
            migrate(engine)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with engines[0].connect() as conn:
        assert conn.execute(text(f"SELECT count(*) FROM {VERSION_TABLE}")).scalar() == 1


def test_upgrading_from_the_first_revision_keeps_existing_rows(ledger_url):
    engine = make_engine(ledger_url)
    migrate(engine, "0001")
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO ledger_exchange (partner, direction, kind, remote_folder, remote_name, sha256, size, state, "
            "rows_total, rows_posted, rows_exception, rows_duplicate, attempts, created_at, updated_at) VALUES "
            "('demo3pl', 'inbound', 'dispatches', '/in', 'OLD.csv', :sha, 9, 'input_processed', 3, 2, 1, 0, 1, "
            "'2026-10-01 00:00:00+00:00', '2026-10-01 00:00:00+00:00')"
        ), {"sha": "d" * 64})
    migrate(engine)
    assert current_revision(engine) == head()
    ledger = Ledger(engine)
    [old] = [e for e in [ledger.exchange(1)]]
    assert (old.remote_name, old.state, old.rows_posted, old.rows_exception) == ("OLD.csv", "input_processed", 2, 1)


# ------------------------------------------------------------------------ 0002 -> 0003 (indexes)

NEW_INDEXES = {  # revision 0003: every foreign key and every lookup of the API not covered by a unique constraint
    ("ledger_exchange", "ix_ledger_exchange_duplicate_of_id", ("duplicate_of_id",)),
    ("ledger_exchange", "ix_ledger_exchange_partner_direction_state", ("partner", "direction", "state")),
    ("ledger_exception", "ix_ledger_exception_exchange_id", ("exchange_id",)),
    ("ledger_exception", "ix_ledger_exception_partner_object_type_object_ref_status", ("partner", "object_type", "object_ref", "status")),
    ("ledger_posting", "ix_ledger_posting_exchange_id", ("exchange_id",)),
    ("ledger_posting", "ix_ledger_posting_idem_key", ("idem_key",)),
    ("ledger_product_version", "ix_ledger_product_version_exchange_id", ("exchange_id",)),
    ("ledger_reconciliation", "ix_ledger_reconciliation_exchange_id", ("exchange_id",)),
    ("ledger_reconciliation_line", "ix_ledger_reconciliation_line_posting_id", ("posting_id",)),
    ("ledger_reconciliation_line", "ix_ledger_reconciliation_line_reconciliation_id_approval", ("reconciliation_id", "approval")),
    ("ledger_released_picking", "ix_ledger_released_picking_exchange_id_state", ("exchange_id", "state")),
}
T0 = datetime(2026, 10, 1, 8, tzinfo=timezone.utc)
T1 = datetime(2026, 10, 2, 9, 30, tzinfo=timezone.utc)
ORDERS_CSV = b"order_ref,sku,qty\r\n3PL/OUT/00007,SKU-1,2\r\n3PL/OUT/00008,SKU-2,1\r\n"


def write_0002_ledger(conn) -> dict[str, int]:
    """A ledger as revision 0002 knows it, with rows in every table, written through the tables of that revision."""
    meta = MetaData()
    meta.reflect(conn)
    tables = meta.tables

    def add(table: str, **values) -> int:
        return conn.execute(tables[table].insert().values(**values)).inserted_primary_key[0]

    def exchange(direction: str, kind: str, folder: str, name: str, state: str, **values) -> int:
        row = dict(partner="demo3pl", direction=direction, kind=kind, remote_folder=folder, remote_name=name, sha256=name[0].lower() * 64,
                   size=len(name), state=state, rows_total=0, rows_posted=0, rows_exception=0, rows_duplicate=0, attempts=1,
                   run_id="scheduled__2026-10-01", created_at=T0, updated_at=T1)
        return add("ledger_exchange", **{**row, **values})

    ids: dict[str, int] = {}
    ids["dispatch"] = exchange("inbound", "dispatches", "/from_3pl/dispatches", "DISPATCH_1.csv", "input_processed",
                               rows_total=2, rows_posted=1, rows_exception=1, attempts=2)
    ids["copy"] = exchange("inbound", "dispatches", "/from_3pl/dispatches", "DISPATCH_1_resent.csv", "input_duplicate",
                           sha256="d" * 64, duplicate_of_id=ids["dispatch"])
    ids["stock"] = exchange("inbound", "stock", "/from_3pl/stock", "STOCK_1.csv", "input_processed", rows_total=2, rows_posted=2)
    ids["orders"] = exchange("outbound", "orders", "/to_3pl/orders", "ORDERS_1.csv", "output_sent", payload=ORDERS_CSV, size=len(ORDERS_CSV))
    ids["products"] = exchange("outbound", "products", "/to_3pl/products", "PRODUCTS_1.csv", "output_pending", payload=b"sku\r\nSKU-1\r\n")
    for eid, states in ((ids["dispatch"], ["input_received", "input_validated", "input_processed"]),
                        (ids["orders"], ["output_pending", "output_sent"])):
        for before, after in zip([None, *states], states):
            add("ledger_exchange_event", exchange_id=eid, from_state=before, to_state=after, note=f"to {after}", run_id="r1", at=T0)
    add("ledger_row_outcome", exchange_id=ids["dispatch"], row_number=1, outcome="posted", code="", field="",
        record_key="demo3pl|3PL/OUT/00007|SKU-1", odoo_ref="stock.picking,7", data='{"order_ref": "3PL/OUT/00007"}', created_at=T0)
    add("ledger_row_outcome", exchange_id=ids["dispatch"], row_number=2, outcome="exception", code="DISPATCH_UNKNOWN_SKU", field="sku",
        message="SKU-X is not in Odoo", data='{"order_ref": "3PL/OUT/00009"}', created_at=T0)
    exception = dict(partner="demo3pl", object_type="product", occurrences=3, first_seen_at=T0, last_seen_at=T1)
    ids["exception"] = add("ledger_exception", **exception, code="DISPATCH_UNKNOWN_SKU", object_ref="sku:SKU-X", message="SKU-X unknown",
                           status="open", exchange_id=ids["dispatch"], resolved_at=None)
    add("ledger_exception", **exception, code="PRODUCT_ENCODING", object_ref="product:11", message="fixed", status="resolved", resolved_at=T1)
    ids["posting"] = add("ledger_posting", partner="demo3pl", idem_key=f"dispatch:7:{ids['dispatch']}", target="stock.picking.button_validate",
                         odoo_id=7, exchange_id=ids["dispatch"], state="done", created_at=T0, completed_at=T1)
    ids["adjust"] = add("ledger_posting", partner="demo3pl", idem_key="adjust:1:SKU-1:", target="stock.quant.inventory_quantity_auto_apply",
                        odoo_id=31, exchange_id=ids["stock"], state="done", payload_hash="p" * 64, created_at=T0, completed_at=T1)
    add("ledger_posting", partner="demo3pl", idem_key="adjust:1:SKU-3:", target="stock.quant.inventory_quantity_auto_apply",
        exchange_id=ids["stock"], state="failed", error="Odoo refused", created_at=T0)
    for pid, state in ((7, "done"), (8, "released")):
        add("ledger_released_picking", partner="demo3pl", picking_id=pid, picking_name=f"3PL/OUT/{pid:05d}", exchange_id=ids["orders"],
            content_hash=str(pid) * 64, state=state, released_at=T0, noted_at=T1 if pid == 7 else None, updated_at=T1)
    add("ledger_watermark", partner="demo3pl", stream="products", value="2026-10-01 07:00:00", last_id=41, updated_at=T0)
    add("ledger_product_version", partner="demo3pl", product_id=11, sku="SKU-1", version_hash="f" * 64,
        odoo_write_date="2026-09-30 12:00:00", exchange_id=ids["products"], sent_at=T0)
    ids["recon"] = add("ledger_reconciliation", partner="demo3pl", exchange_id=ids["stock"], as_of=T0, state="awaiting_approval",
                       currency="EUR", variance_value=Decimal("-12.50"), created_at=T1, updated_at=T1,
                       details='{"data_quality": [], "matches": 40, "unknown_rows": {"5": "SKU-Z"}}')
    line = dict(reconciliation_id=ids["recon"], product_id=11, timing_qty=Decimal(0), classification="variance")
    add("ledger_reconciliation_line", **line, sku="SKU-1", lot="", threepl_qty=Decimal("8"), odoo_qty=Decimal("10"), variance_qty=Decimal("-2"),
        unit_cost=Decimal("6.25"), variance_value=Decimal("-12.50"), approval="approved", approved_by="ops@example.com", posting_id=ids["adjust"])
    add("ledger_reconciliation_line", **line, sku="SKU-2", lot="LOT-9", threepl_qty=Decimal("3.5"), odoo_qty=Decimal("3"),
        variance_qty=Decimal("0.5"), variance_value=Decimal(0), approval="pending", explanation="count differs")
    return ids


def snapshot(engine) -> dict[str, list[dict[str, object]]]:
    """Every row of every ledger table, in primary-key order, as plain values."""
    meta = MetaData()
    with engine.connect() as conn:
        meta.reflect(conn)
        out = {}
        for name, table in sorted(meta.tables.items()):
            if name == VERSION_TABLE:
                continue
            rows = conn.execute(select(table).order_by(*table.primary_key.columns)).mappings()
            out[name] = [{k: bytes(v) if isinstance(v, memoryview) else v for k, v in row.items()} for row in rows]
    return out


def indexes(engine) -> set[tuple[str, str, tuple[str, ...]]]:
    inspector = inspect(engine)
    return {(table, ix["name"], tuple(ix["column_names"])) for table in inspector.get_table_names() for ix in inspector.get_indexes(table)}


def test_every_foreign_key_leads_an_index_or_a_unique_constraint():
    for table in Base.metadata.tables.values():
        leading = {tuple(c.name for c in ix.columns)[:1] for ix in table.indexes}
        leading |= {tuple(c.name for c in uq.columns)[:1] for uq in table.constraints if isinstance(uq, UniqueConstraint)}
        for fk in table.foreign_keys:
            assert (fk.parent.name,) in leading, f"{table.name}.{fk.parent.name} references {fk.target_fullname} without an index"


def test_upgrading_a_0002_ledger_keeps_every_row_and_adds_the_indexes(ledger_url):
    engine = make_engine(ledger_url)
    migrate(engine, "0002")
    with engine.begin() as conn:
        ids = write_0002_ledger(conn)
    before = snapshot(engine)
    assert set(before) == set(Base.metadata.tables)  # every table of the ledger...
    assert all(before.values()), {t: len(rows) for t, rows in before.items()}  # ...has rows
    assert not NEW_INDEXES & indexes(engine)

    migrate(engine)
    assert current_revision(engine) == head()
    after = snapshot(engine)
    added = {"arrival", "moved_to", "quality"}  # 0004: every old exchange is its file's first arrival; settled files were moved
    exchanges = after["ledger_exchange"]
    assert {r["arrival"] for r in exchanges} == {1}
    assert {r["quality"] for r in exchanges} == {None}  # 0007: no data-quality results were kept then
    settled = {"input_processed", "input_duplicate", "input_error"}
    assert all((r["moved_to"] is not None) == (r["direction"] == "inbound" and r["state"] in settled) for r in exchanges)
    after["ledger_exchange"] = [{k: v for k, v in r.items() if k not in added} for r in exchanges]
    windowed = ("order_ref", "shipped_at", "settled_in", "partner", "kind")  # 0005: backfilled from the rows' data (test_migration_0005.py)
    assert [tuple(r[k] for k in windowed) for r in after["ledger_row_outcome"]] == [
        ("3PL/OUT/00007", None, ids["dispatch"], "demo3pl", "dispatches"), ("3PL/OUT/00009", None, None, "demo3pl", "dispatches")]
    assert {r["suggestion"] for r in after["ledger_row_outcome"]} == {None}  # 0006: no suggestion was computed then
    after["ledger_row_outcome"] = [{k: v for k, v in r.items() if k not in (*windowed, "suggestion")} for r in after["ledger_row_outcome"]]
    lifecycle = ("resolution", "resolved_by", "suggestion")  # 0006: an exception resolved before says so, by the pipeline
    assert [tuple(r[k] for k in lifecycle) for r in after["ledger_exception"]] == [
        ("resolved before revision 0006", "threepl-bridge", None) if r["status"] == "resolved" else (None, None, None)
        for r in before["ledger_exception"]]
    after["ledger_exception"] = [{k: v for k, v in r.items() if k not in lifecycle} for r in after["ledger_exception"]]
    assert after == before
    assert NEW_INDEXES <= indexes(engine)

    # the ledger of today reads the old rows as they were written
    ledger = Ledger(engine)
    dispatch = ledger.exchange(ids["dispatch"])
    assert (dispatch.remote_name, dispatch.state, dispatch.rows_posted, dispatch.rows_exception, dispatch.created_at) == (
        "DISPATCH_1.csv", "input_processed", 1, 1, T0)
    assert ledger.exchange(ids["copy"]).duplicate_of_id == ids["dispatch"]
    assert [e.to_state for e in ledger.events(ids["dispatch"])] == ["input_received", "input_validated", "input_processed"]
    assert [(r.row_number, r.outcome, r.code) for r in ledger.row_outcomes(ids["dispatch"])] == [
        (1, "posted", ""), (2, "exception", "DISPATCH_UNKNOWN_SKU")]
    assert ledger.posted_fingerprints(["demo3pl|3PL/OUT/00007|SKU-1"]) == {
        "demo3pl|3PL/OUT/00007|SKU-1": f"DISPATCH_1.csv row 1 (exchange {ids['dispatch']})"}
    assert ledger.payload(ids["orders"]) == ORDERS_CSV
    assert [(e.id, e.code, e.occurrences, e.last_seen_at) for e in ledger.open_exceptions("demo3pl")] == [
        (ids["exception"], "DISPATCH_UNKNOWN_SKU", 3, T1)]
    assert ledger.posting_state("demo3pl", f"dispatch:7:{ids['dispatch']}") == "done"
    assert {pid: (r.state, r.noted_at) for pid, r in ledger.released_pickings("demo3pl").items()} == {7: ("done", T1), 8: ("released", None)}
    assert ledger.watermark("demo3pl", "products") == ("2026-10-01 07:00:00", 41)
    assert ledger.product_versions("demo3pl", sent_only=False) == {11: "f" * 64}
    assert ledger.product_versions("demo3pl", sent_only=True) == {}
    assert ledger.pending_outbound("demo3pl", "products") == [ids["products"]]
    recon = ledger.reconciliation(ids["recon"])
    assert (recon.state, recon.variance_value, recon.as_of) == ("awaiting_approval", Decimal("-12.50"), T0)
    assert ledger.reconciliation_counts(ids["recon"]) == {"match": 40, "variance": 2}
    assert ledger.reconciliation_unknown_rows(ids["recon"]) == {5: "SKU-Z"}
    assert [(l.sku, l.lot, l.variance_qty, l.approval, l.posting_id) for l in ledger.reconciliation_lines(ids["recon"])] == [
        ("SKU-1", "", Decimal("-2"), "approved", ids["adjust"]), ("SKU-2", "LOT-9", Decimal("0.5"), "pending", None)]

    # downgrading drops only the indexes
    downgrade(engine, "0002")
    assert snapshot(engine) == before
    assert not NEW_INDEXES & indexes(engine)

    # and upgraded again, the old rows take part in the state machines and new rows get fresh ids
    migrate(engine)
    assert ledger.approve_lines(ids["recon"], ["SKU-2|LOT-9"], "ops@example.com") == 1
    assert ledger.refresh_reconciliation_state(ids["recon"]) == "posting"
    ledger.mark_sent(ids["products"])
    assert ledger.product_versions("demo3pl", sent_only=True) == {11: "f" * 64}
    ledger.start_postings("demo3pl", [("adjust:1:SKU-3:", "stock.quant.inventory_quantity_auto_apply", 12)])
    assert ledger.posting_state("demo3pl", "adjust:1:SKU-3:") == "intent"
    new = ledger.register_inbound(partner="demo3pl", kind="stock", folder="/from_3pl/stock", name="STOCK_2.csv", sha256="9" * 64, size=4)
    assert new.created and new.exchange_id > ids["products"]
