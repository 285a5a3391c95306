"""A world for the flow tests: the Odoo stand-in (clock frozen), an SFTP server playing the 3PL, a ledger."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest

from sandbox.odoo_standin import OdooStandIn, build
from sandbox.sftp_server import EmbeddedSftpServer
from tests.conftest import REPO
from threepl_bridge.flows import orders as orders_flow
from threepl_bridge.flows import products as products_flow
from threepl_bridge.flows.outbound import deliver_pending
from threepl_bridge.ledger.repo import Ledger
from threepl_bridge.odoo.client import OdooClient, OdooSettings
from threepl_bridge.specs.loader import load_partner
from threepl_bridge.specs.models import Partner
from threepl_bridge.transport.sftp import SftpTransport

FIXTURES = REPO / "tests" / "fixtures"
ODOO_NOW = datetime(2026, 11, 20, 9, 0)  # the stand-in's frozen clock (UTC)
RUN_AT = datetime(2026, 11, 20, 9, 30, tzinfo=timezone.utc)


@dataclass
class World:
    env: object  # the stand-in's world: tests move its clock with env.frozen_now
    odoo: OdooClient
    ledger: Ledger
    sftp_root: Path
    demo: Partner
    semi: Partner
    sftp: EmbeddedSftpServer | None = None  # counts sessions and reads (tests/flows/test_exchange.py)

    def transport(self, partner: Partner) -> SftpTransport:
        return SftpTransport(partner.spec.sftp.conn_id)

    def files(self, partner: Partner, kind: str) -> dict[str, bytes]:
        folder = self.sftp_root / partner.document(kind).folder.lstrip("/")
        return {p.name: p.read_bytes() for p in sorted(folder.glob("*"))} if folder.exists() else {}

    def run_products(self, partner: Partner, *, full_resend: bool = False, now: datetime = RUN_AT) -> dict:
        prepared = products_flow.prepare_products(partner=partner, client=self.odoo, ledger=self.ledger, now=now, full_resend=full_resend)
        deliver_pending(self.ledger, self.transport(partner), partner, "products")
        products_flow.finalize_products(partner=partner, ledger=self.ledger, prepared=prepared.as_dict())
        return prepared.as_dict()

    def run_orders(self, partner: Partner, *, now: datetime = RUN_AT) -> dict:
        deliver_pending(self.ledger, self.transport(partner), partner, "orders")
        watched = orders_flow.watch_released(partner=partner, client=self.odoo, ledger=self.ledger, now=now)
        deliver_pending(self.ledger, self.transport(partner), partner, "cancellations")
        prepared = orders_flow.prepare_orders(partner=partner, client=self.odoo, ledger=self.ledger, now=now)
        for delivery in deliver_pending(self.ledger, self.transport(partner), partner, "orders"):
            orders_flow.note_released(partner=partner, client=self.odoo, ledger=self.ledger, exchange_id=delivery.exchange_id)
        return {**prepared.as_dict(), "watch": watched}

    def x(self, model: str, method: str, *args, **kwargs):
        return self.odoo.execute(model, method, *args, **kwargs)

    def sell(self, lines: list[tuple[str, float]], *, partner_id: int = 10, uom: int | None = None, ref: str = "PO-1") -> dict:
        """A confirmed sale order in the 3PL warehouse; returns its picking."""
        order_lines = []
        for sku, qty in lines:
            [pid] = self.x("product.product", "search", [["default_code", "=", sku]])
            order_lines.append([0, 0, {"product_id": pid, "product_uom_qty": qty, **({"product_uom": uom} if uom else {})}])
        so = self.x("sale.order", "create", {"partner_id": partner_id, "warehouse_id": 3, "client_order_ref": ref, "carrier_id": 2, "order_line": order_lines})
        self.x("sale.order", "action_confirm", [so])
        [picking] = self.x("stock.picking", "search_read", [["sale_id", "=", so]], fields=["name", "state"])
        return picking

    def open_codes(self, partner: Partner) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for e in self.ledger.open_exceptions(partner.code):
            out.setdefault(e.object_ref, set()).add(e.code)
        return out


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    env = build(etl_email="etl@example.com", frozen_now=ODOO_NOW)
    with OdooStandIn(env) as odoo, EmbeddedSftpServer(tmp_path / "sftp") as sftp:
        for conn_id in ("demo3pl_sftp", "semi3pl_sftp"):
            monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", sftp.airflow_connection())
        client = OdooClient(OdooSettings(url=odoo.url, database="odoo3pl", login="etl", password="standin-etl-api-key"))
        yield World(
            env=env, odoo=client, ledger=Ledger.open(f"sqlite:///{tmp_path / 'ledger.db'}"), sftp_root=tmp_path / "sftp",
            demo=load_partner(REPO / "sftp_formats" / "partners" / "demo3pl.yaml"),
            semi=load_partner(FIXTURES / "partners" / "semi3pl.yaml"), sftp=sftp,
        )


@pytest.fixture
def released(world):
    """Products at the 3PL and three released orders: plain (2 FURN_7800), two lines (10 FURN_8855 + 4 E-COM11),
    lot-tracked (10 FURN_5555)."""
    world.run_products(world.demo)
    one = world.sell([("FURN_7800", 2)])
    two = world.sell([("FURN_8855", 10), ("E-COM11", 4)])
    lots = world.sell([("FURN_5555", 10)])
    world.run_orders(world.demo)
    return {"one": one, "two": two, "lots": lots}


def ship_one(world: World, *, also: list[tuple[str, float]] | None = None) -> tuple[dict, list[dict]]:
    """Products at the 3PL, an order of 2 FURN_7800 (plus one order per ``also`` line) released, and the 3PL's
    dispatch of the first one on 2 November posted; returns the shipped picking and the other pickings."""
    world.run_products(world.demo)
    picking = world.sell([("FURN_7800", 2)])
    others = [world.sell([line]) for line in also or []]
    world.run_orders(world.demo)
    drop(world, world.demo, "dispatches", "DISPATCH_1.csv", dispatch_csv(
        [f"{picking['name']},1,FURN_7800,,2,EA,,2026-11-02 10:00:00,The Poste,TP1,P1"]))
    [result] = run_dispatches(world, world.demo)
    assert result.posted == 1
    return picking, others


def dispatch_csv(lines: list[str], *, bom: bool = False) -> bytes:
    header = "order_ref,line,sku,barcode,qty_shipped,uom,lot,shipped_at,carrier,tracking_no,parcel_id"
    text = "\r\n".join([header, *lines]) + "\r\n"
    return (("\ufeff" if bom else "") + text).encode("utf-8")


def drop(world: World, partner: Partner, kind: str, name: str, data: bytes) -> None:
    """The 3PL writes a file and its marker (demo3pl's complete-file rule for dispatches)."""
    doc = partner.document(kind)
    folder = world.sftp_root / doc.folder.lstrip("/")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    if doc.complete.rule == "marker":
        (folder / f"{name}{doc.complete.marker_suffix}").write_bytes(b"")


def run_dispatches(world: World, partner: Partner, *, now: datetime = RUN_AT) -> list:
    from threepl_bridge.flows.dispatches import DISPATCHES
    from threepl_bridge.flows.exchange import handle_file, list_files

    transport = world.transport(partner)
    return [handle_file(DISPATCHES, partner, name, transport=transport, ledger=world.ledger, client=world.odoo, now=now)
            for name in list_files(partner, DISPATCHES, transport, world.ledger)]


def stock_csv(lines: list[str]) -> bytes:
    return ("sku,lot,qty_on_hand,uom,status,snapshot_at\r\n" + "".join(f"{l}\r\n" for l in lines)).encode("utf-8")


def run_stock(world: World, partner: Partner, *, now: datetime = RUN_AT, reports: Path | None = None) -> list:
    from threepl_bridge.flows.exchange import handle_file, list_files
    from threepl_bridge.flows.stock import STOCK

    transport = SftpTransport(partner.spec.sftp.conn_id, sleep=lambda s: None)
    options = {"reports_dir": reports or world.sftp_root.parent / "reports"}
    return [handle_file(STOCK, partner, name, transport=transport, ledger=world.ledger, client=world.odoo, now=now, options=options)
            for name in list_files(partner, STOCK, transport, world.ledger)]


# --------------------------------------------------------------------------- goods in: receipts, returns, adjustments

RECEIPT_HEADER = "asn_ref,line,sku,barcode,qty_received,uom,lot,expiry,condition,received_at"
RETURN_HEADER = "rma_ref,order_ref,line,sku,barcode,qty_returned,uom,lot,disposition,reason,returned_at"
ADJUST_HEADER = "line,sku,barcode,lot,qty_change,uom,reason_code,note,adjusted_at"


def csv_file(header: str, lines: list[str]) -> bytes:
    return ("\r\n".join([header, *lines]) + "\r\n").encode("utf-8")


def quarantine(world: World) -> int:
    """The partner's damaged_location (3PL/Quarantine), made as an operator would: internal, under the warehouse's view."""
    found = world.x("stock.location", "search", [["complete_name", "=", "3PL/Quarantine"]])
    return found[0] if found else world.x("stock.location", "create", {"name": "Quarantine", "location_id": 34, "usage": "internal"})


def purchase(world: World, lines: list[tuple[str, float, float]], *, ref: str = "EXT-PO") -> dict:
    """A confirmed purchase order into the 3PL warehouse (contract F8): its receipt picking."""
    order_lines = []
    for sku, qty, price in lines:
        [pid] = world.x("product.product", "search", [["default_code", "=", sku]])
        order_lines.append([0, 0, {"product_id": pid, "product_qty": qty, "price_unit": price}])
    po = world.x("purchase.order", "create", {"partner_id": 9, "picking_type_id": 11, "partner_ref": ref, "order_line": order_lines})
    world.x("purchase.order", "button_confirm", [po])
    [picking] = world.x("stock.picking", "search_read", [["purchase_id", "=", po]], fields=["name", "state", "purchase_id"])
    return picking


def run_kind(world: World, partner: Partner, kind: str, *, now: datetime = RUN_AT) -> list:
    """Every complete file of an inbound kind through the lifecycle (what the kind's DAG does)."""
    from threepl_bridge.flows.inbound_types import inbound_kind
    from threepl_bridge.flows.exchange import handle_file, list_files

    declared = inbound_kind(kind)
    transport = world.transport(partner)
    options = {"reports_dir": world.sftp_root.parent / "reports"}
    return [handle_file(declared, partner, name, transport=transport, ledger=world.ledger, client=world.odoo, now=now, options=options)
            for name in list_files(partner, declared, transport, world.ledger)]


def outcomes(world: World, result) -> dict[int, tuple[str, str]]:
    return {o.row_number: (o.outcome, o.code or "") for o in world.ledger.row_outcomes(result.exchange_id)}


def run_asns(world: World, partner: Partner, *, now: datetime = RUN_AT) -> dict:
    """What <partner>_receipts_to_3pl does: settle, watch announced receipts, prepare, deliver, note."""
    from threepl_bridge.flows import asn
    from threepl_bridge.flows.orders import note_released

    deliver_pending(world.ledger, world.transport(partner), partner, "asn")
    watched = asn.watch_asns(partner=partner, client=world.odoo, ledger=world.ledger, now=now)
    deliver_pending(world.ledger, world.transport(partner), partner, "asn")
    prepared = asn.prepare_asns(partner=partner, client=world.odoo, ledger=world.ledger, now=now)
    for delivery in deliver_pending(world.ledger, world.transport(partner), partner, "asn"):
        note_released(partner=partner, client=world.odoo, ledger=world.ledger, exchange_id=delivery.exchange_id)
    return {**prepared, "watch": watched}
