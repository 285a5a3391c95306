"""The document kinds exchanged with a 3PL and their canonical fields.

A layout maps these canonical names to the 3PL's own column names; the flows only ever speak canonical names.
A layout used for a document kind must map every required canonical field of that kind, and may only map
canonical fields the kind knows (a typo in a layout is caught when the spec loads, not in the middle of a run).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Direction(StrEnum):
    OUTBOUND = "outbound"  # Odoo -> 3PL
    INBOUND = "inbound"  # 3PL -> Odoo


@dataclass(frozen=True, kw_only=True)
class DocumentKind:
    name: str
    direction: Direction
    required: frozenset[str]
    optional: frozenset[str]
    description: str

    @property
    def fields(self) -> frozenset[str]:
        return self.required | self.optional


def _kind(name: str, direction: Direction, required: str, optional: str, description: str) -> DocumentKind:
    return DocumentKind(
        name=name,
        direction=direction,
        required=frozenset(required.split()),
        optional=frozenset(optional.split()),
        description=description,
    )


DOCUMENT_KINDS: dict[str, DocumentKind] = {
    k.name: k
    for k in (
        _kind(
            "products",
            Direction.OUTBOUND,
            "sku name uom tracking",
            "barcode weight volume length width height category",
            "product master sent to the 3PL",
        ),
        _kind(
            "orders",
            Direction.OUTBOUND,
            "order_ref sku quantity uom ship_name ship_street ship_city ship_zip ship_country",
            "line_no barcode sale_order customer_ref customer_number ship_street2 ship_state ship_phone ship_email "
            "carrier carrier_service requested_date lot",
            "outgoing pickings released for fulfilment",
        ),
        _kind(
            "cancellations",
            Direction.OUTBOUND,
            "order_ref",
            "reason cancelled_at",
            "orders withdrawn after release",
        ),
        _kind(
            "asn",
            Direction.OUTBOUND,
            "asn_ref line_no sku quantity uom",
            "barcode expected_date supplier purchase_order lot action kind",
            "advance shipping notices: receipts the 3PL should expect (purchase receipts, transfers, announced returns); "
            "action new, change or cancel where the layout carries it",
        ),
        _kind(
            "dispatches",
            Direction.INBOUND,
            "order_ref sku quantity shipped_at",
            "line_no barcode uom lot tracking_ref carrier parcel",
            "dispatch confirmations: what left the 3PL's warehouse",
        ),
        _kind(
            "receipts",
            Direction.INBOUND,
            "asn_ref sku quantity received_at",
            "line_no barcode uom lot expiry condition",
            "receipt confirmations: what the 3PL received against an incoming picking (condition good or damaged)",
        ),
        _kind(
            "returns",
            Direction.INBOUND,
            "sku quantity returned_at disposition",
            "return_ref order_ref line_no barcode uom lot reason",
            "return receipts: goods a customer sent back (an announced return picking, or a done delivery) and what "
            "the 3PL did with them (restock, quarantine, scrap)",
        ),
        _kind(
            "adjustments",
            Direction.INBOUND,
            "sku quantity adjusted_at reason",
            "line_no barcode uom lot note",
            "stock adjustments the 3PL made on its own (damage found, recount, found pallet): signed quantities",
        ),
        _kind(
            "stock",
            Direction.INBOUND,
            "sku quantity as_of",
            "barcode lot uom status",
            "stock snapshots: the 3PL's physical count",
        ),
    )
}
