"""A simulated 3PL warehouse for the demo (sandbox, not the product).

It works on the SFTP server's folders like a real WMS: picks up the order files it has not seen, ships (some
fully, some short, some not at all), writes dispatch confirmations with a ``.ok`` marker, and counts its stock.
Its memory (orders seen, stock on hand) is a JSON file, so a second demo run does not ship anything twice.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

DISPATCH_HEADER = "order_ref,line,sku,barcode,qty_shipped,uom,lot,shipped_at,carrier,tracking_no,parcel_id"
STOCK_HEADER = "sku,lot,qty_on_hand,uom,status,snapshot_at"
RECEIPT_HEADER = "asn_ref,line,sku,barcode,qty_received,uom,lot,expiry,condition,received_at"
RETURN_HEADER = "rma_ref,order_ref,line,sku,barcode,qty_returned,uom,lot,disposition,reason,returned_at"
ADJUST_HEADER = "line,sku,barcode,lot,qty_change,uom,reason_code,note,adjusted_at"


@dataclass
class OrderLine:
    order_ref: str
    line: int
    sku: str
    qty: int
    uom: str
    carrier: str


@dataclass
class WarehouseState:
    seen_files: list[str] = field(default_factory=list)
    stock: dict[str, int] = field(default_factory=dict)  # "SKU|LOT" -> on hand
    files_written: list[str] = field(default_factory=list)
    anchor: str = ""  # the moment the demo's 3PL first acted (UTC, ISO): a rerun acts on the same day again


class Simulated3PL:
    def __init__(self, sftp_root: Path, state_file: Path, *, orders_folder: str, dispatch_folder: str, stock_folder: str,
                 receipts_folder: str = "/from_3pl/receipts", returns_folder: str = "/from_3pl/returns",
                 adjustments_folder: str = "/from_3pl/adjustments", asn_folder: str = "/to_3pl/asn") -> None:
        self.root = sftp_root
        self.asn = sftp_root / asn_folder.lstrip("/")
        self.receipts = sftp_root / receipts_folder.lstrip("/")
        self.returns = sftp_root / returns_folder.lstrip("/")
        self.adjustments = sftp_root / adjustments_folder.lstrip("/")
        self.state_file = state_file
        self.orders = sftp_root / orders_folder.lstrip("/")
        self.dispatch = sftp_root / dispatch_folder.lstrip("/")
        self.stock_dir = sftp_root / stock_folder.lstrip("/")
        data = json.loads(state_file.read_text()) if state_file.exists() else {}
        self.state = WarehouseState(**data)

    def save(self) -> None:
        self.state_file.write_text(json.dumps(self.state.__dict__, indent=1, sort_keys=True))

    def anchor(self, now: datetime) -> datetime:
        """The demo's moment: ``now`` on the first run (kept), the same moment on every later run."""
        if not self.state.anchor:
            self.state.anchor = now.isoformat()
            self.save()
        return datetime.fromisoformat(self.state.anchor)

    def receive_stock(self, stock: dict[str, int]) -> None:
        """The goods physically in the warehouse when the demo starts (as in Odoo)."""
        if not self.state.stock:
            self.state.stock = dict(stock)

    def new_orders(self) -> dict[str, list[OrderLine]]:
        """Order files not seen yet, read like a WMS import would."""
        found: dict[str, list[OrderLine]] = {}
        if not self.orders.exists():
            return found
        for path in sorted(self.orders.glob("ORDERS_*.csv")):
            if path.name in self.state.seen_files:
                continue
            for row in csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))):
                found.setdefault(row["order_ref"], []).append(
                    OrderLine(order_ref=row["order_ref"], line=int(row["line"]), sku=row["sku"], qty=int(row["qty"]), uom=row["uom"],
                              carrier=row["carrier"]))
            self.state.seen_files.append(path.name)
        return found

    def ship(self, name: str, rows: list[tuple[OrderLine, int, str, str]], shipped_at: str, *, bom: bool = False) -> None:
        """Write a dispatch confirmation: rows of (order line, quantity shipped, lot, parcel)."""
        if name in self.state.files_written:
            return
        lines = [DISPATCH_HEADER]
        for order_line, qty, lot, parcel in rows:
            lines.append(",".join([order_line.order_ref, str(order_line.line), order_line.sku, "", str(qty), order_line.uom, lot, shipped_at,
                                   order_line.carrier, f"TRK-{parcel}", parcel]))
            key = f"{order_line.sku}|{lot}"
            self.state.stock[key] = self.state.stock.get(key, 0) - qty
        self._write(self.dispatch, name, ("\ufeff" if bom else "") + "\r\n".join(lines) + "\r\n", marker=True)

    def count(self, name: str, counted_at: str, *, shrinkage: dict[str, int], in_transit: dict[str, int]) -> None:
        """Write a stock snapshot: what is on the shelves (lost goods missing, goods already shipped gone)."""
        if name in self.state.files_written:
            return
        lines = [STOCK_HEADER]
        for key in sorted(self.state.stock):
            sku, lot = key.split("|")
            qty = self.state.stock[key] - shrinkage.get(key, 0) - in_transit.get(key, 0)
            lines.append(f"{sku},{lot},{qty},EA,available,{counted_at}")
        self._write(self.stock_dir, name, "\r\n".join(lines) + "\r\n", marker=False)

    def announced(self) -> set[str]:
        """The receipts the ASNs in its inbox announce (the references it receives against)."""
        folder = self.asn
        return {row["asn_ref"] for path in sorted(folder.glob("ASN_*.csv")) for row in csv.DictReader(io.StringIO(path.read_text(encoding="utf-8")))
                if row["action"] != "cancel"} if folder.exists() else set()

    def receive(self, name: str, asn: str, rows: list[tuple[int, str, int, str, str]], received_at: str) -> None:
        """Goods in against an ASN: rows of (line, SKU, quantity, lot, condition); damaged goods go to quarantine,
        not on the shelves the count covers."""
        if name in self.state.files_written:
            return
        lines = [RECEIPT_HEADER]
        for line, sku, qty, lot, condition in rows:
            lines.append(",".join([asn, str(line), sku, "", str(qty), "EA", lot, "", condition, received_at]))
            if condition == "good":
                self.state.stock[f"{sku}|{lot}"] = self.state.stock.get(f"{sku}|{lot}", 0) + qty
        self._write(self.receipts, name, "\r\n".join(lines) + "\r\n", marker=True)

    def take_back(self, name: str, rows: list[tuple[str, str, str, int, str, str]], returned_at: str) -> None:
        """Customer returns: rows of (RMA reference or "", delivery reference, SKU, quantity, disposition, reason);
        restocked goods go back on the shelves."""
        if name in self.state.files_written:
            return
        lines = [RETURN_HEADER]
        for n, (rma, order, sku, qty, disposition, reason) in enumerate(rows, start=1):
            lines.append(",".join([rma, order, str(n), sku, "", str(qty), "EA", "", disposition, reason, returned_at]))
            if disposition == "restock":
                self.state.stock[f"{sku}|"] = self.state.stock.get(f"{sku}|", 0) + qty
        self._write(self.returns, name, "\r\n".join(lines) + "\r\n", marker=True)

    def adjust(self, name: str, rows: list[tuple[str, int, str, str]], adjusted_at: str) -> None:
        """The warehouse's own corrections: rows of (SKU, signed quantity, reason code, note)."""
        if name in self.state.files_written:
            return
        lines = [ADJUST_HEADER]
        for n, (sku, qty, reason, note) in enumerate(rows, start=1):
            lines.append(",".join([str(n), sku, "", "", str(qty), "EA", reason, note, adjusted_at]))
            self.state.stock[f"{sku}|"] = self.state.stock.get(f"{sku}|", 0) + qty
        self._write(self.adjustments, name, "\r\n".join(lines) + "\r\n", marker=True)

    def _write(self, folder: Path, name: str, text: str, *, marker: bool) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{name}.part"  # written under a temporary name, renamed when complete
        tmp.write_text(text, encoding="utf-8", newline="")
        tmp.rename(folder / name)
        if marker:
            (folder / f"{name}.ok").write_bytes(b"")
        self.state.files_written.append(name)
        self.save()
