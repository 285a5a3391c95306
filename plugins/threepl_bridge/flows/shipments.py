"""What a dispatch file posts, and the identities that keep it from posting twice: the shipment of one picking (its
valid rows resolved against Odoo), the fingerprint of one shipped line, and the posting record of one validation."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from threepl_bridge.formats.reader import ParsedRow
from threepl_bridge.specs.models import Partner

EPS = Decimal("0.0001")


def fingerprint(partner: Partner, row: ParsedRow) -> str:
    """The identity of one shipped line: the same shipment in any later file has the same fingerprint."""
    v = row.values
    key = [v.get("order_ref"), v.get("sku"), v.get("lot") or "", v.get("parcel") or "", str(v.get("quantity")),
           v.get("uom") or "", v["shipped_at"].isoformat() if v.get("shipped_at") else ""]
    return f"{partner.code}:" + hashlib.sha256(json.dumps(key).encode()).hexdigest()[:40]


POSTING_PREFIX = "dispatch:"  # the validation of one picking for one file (the steps after it are "dispatch-after:")


def posting_key(picking_id: int, exchange_id: int) -> str:
    return f"{POSTING_PREFIX}{picking_id}:{exchange_id}"


@dataclass
class Shipment:
    """The valid rows of one picking, resolved against Odoo."""

    picking: dict[str, Any]
    rows: list[ParsedRow]
    move_qty: dict[int, Decimal] = field(default_factory=dict)  # move id -> shipped quantity in the move's unit
    lots: dict[int, list[tuple[int, Decimal, int]]] = field(default_factory=dict)  # move id -> [(lot, qty, product uom)]
    tracking: list[str] = field(default_factory=list)
    moment: datetime | None = None  # the latest moment the goods moved (left, or arrived), in the company's time zone
    moves: dict[int, dict[str, Any]] = field(default_factory=dict)  # the picking's moves as read before posting (none when recovered)

    @property
    def in_full(self) -> bool:
        """Every open move shipped exactly its demand (no backorder can come of it); unknown for a recovered one."""
        return bool(self.moves) and all(m["state"] == "cancel" or abs(self.move_qty.get(mid, Decimal(0)) - Decimal(str(m["product_uom_qty"]))) <= EPS
                                        for mid, m in self.moves.items())

    @property
    def accounting_date(self) -> date:
        assert self.moment is not None
        return self.moment.date()

    def add_moment(self, partner: Partner, when: datetime) -> None:
        moment = when.astimezone(partner.spec.company_tz)
        self.moment = max(self.moment or moment, moment)
