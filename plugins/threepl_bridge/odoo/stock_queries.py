"""The Odoo gateway of the stock flows: every question the inbound flows, the reconciliation and the month end ask
Odoo, answered in one place, each asked at most once per gateway (one gateway per task).

The flows read as business logic over these answers; a test may hand a flow a small fake with the same methods
instead of a real Odoo (or the stand-in). Nothing here writes to Odoo.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from functools import cached_property
from typing import Any

from threepl_bridge.odoo.client import OdooClient
from threepl_bridge.odoo.warehouses import partner_warehouses
from threepl_bridge.specs.models import Partner

PICKING_FIELDS = ["name", "state", "picking_type_id", "carrier_id", "batch_id", "backorder_id", "company_id"]
MOVE_FIELDS = ["picking_id", "product_id", "product_uom_qty", "quantity", "picked", "product_uom", "state", "move_line_ids"]


@dataclass(frozen=True, kw_only=True)
class Warehouse:
    id: int
    code: str
    lot_stock: int  # the warehouse's stock location (lot_stock_id)
    out_type: int  # its delivery picking type
    in_type: int | None
    view_location: int | None


@dataclass(frozen=True, kw_only=True)
class Company:
    id: int
    currency: str  # the company currency's name (EUR, USD...)


@dataclass(frozen=True, kw_only=True)
class Unit:
    id: int
    name: str
    category: int
    ratio: float  # units of the category's reference unit in one of this unit (1 / factor)


def _m2o(value: Any) -> int | None:
    return value[0] if value else None


class StockQueries:
    """One partner's view of one Odoo database."""

    def __init__(self, client: OdooClient, partner: Partner) -> None:
        self.client = client
        self.partner = partner

    # ------------------------------------------------------------------------------- warehouses

    @cached_property
    def warehouses(self) -> list[Warehouse]:
        """The partner's warehouses in the order its spec names them (PartnerSetupError for a code Odoo lacks)."""
        return [Warehouse(id=w["id"], code=w["code"], lot_stock=w["lot_stock_id"][0], out_type=w["out_type_id"][0],
                          in_type=_m2o(w.get("in_type_id")), view_location=_m2o(w.get("view_location_id")))
                for w in partner_warehouses(self.client, self.partner)]

    @property
    def stock_roots(self) -> list[int]:
        return [w.lot_stock for w in self.warehouses]

    @property
    def out_picking_types(self) -> set[int]:
        return {w.out_type for w in self.warehouses}

    @property
    def in_picking_types(self) -> set[int]:
        return {w.in_type for w in self.warehouses if w.in_type}

    @cached_property
    def stock_locations(self) -> list[int]:
        """The stock locations of all the partner's warehouses and everything under them."""
        return list(self.client.execute("stock.location", "search", [["id", "child_of", self.stock_roots]]))

    # ---------------------------------------------------------------------------------- company

    @cached_property
    def company(self) -> Company:
        [user] = self.client.execute("res.users", "read", [self.client.uid], fields=["company_id"])
        [company] = self.client.execute("res.company", "read", [user["company_id"][0]], fields=["currency_id"])
        return Company(id=company["id"], currency=company["currency_id"][1] if company.get("currency_id") else "")

    # -------------------------------------------------------------------------- units and lots

    def lock_dates(self, company_ids: Iterable[int]) -> dict[int, str | None]:
        """company id -> the date up to which the API user may not post (contract F4: Odoo silently re-dates an entry
        in a locked period): the later of the journal-entries and the all-users lock dates, as Odoo applies them to a
        user who is not an accounting adviser."""
        ids = sorted(set(company_ids))
        fields = list(self.client.dialect.lock_date_fields)
        found = self.client.read("res.company", ids, fields) if ids else []
        return {c["id"]: max((c[f] for f in fields if c.get(f)), default=None) for c in found}

    @cached_property
    def units(self) -> dict[int, Unit]:
        dialect = self.client.dialect
        records = self.client.execute("uom.uom", "search_read", [], fields=dialect.unit_fields)
        return {u["id"]: Unit(id=u["id"], name=u["name"], category=dialect.unit_family(u), ratio=dialect.unit_ratio(u)) for u in records}

    def unit_named(self, name: str) -> Unit | None:
        return next((u for u in self.units.values() if u.name == name), None)

    def lots(self, names: Iterable[str], product_ids: Iterable[int]) -> dict[tuple[int, str], int]:
        """(product id, lot name) -> lot id, for the given lot names of the given products."""
        names, product_ids = sorted(set(names)), sorted(set(product_ids))
        if not names or not product_ids:
            return {}
        found = self.client.execute("stock.lot", "search_read", [["name", "in", names], ["product_id", "in", product_ids]], fields=["name", "product_id"])
        return {(lot["product_id"][0], lot["name"]): lot["id"] for lot in found}

    # ----------------------------------------------------------------------------------- products

    def products(self, ids: Iterable[int], fields: list[str]) -> dict[int, dict[str, Any]]:
        return self.client.read_by_id("product.product", sorted(set(ids)), fields)

    def storable_by_sku(self) -> dict[str, dict[str, Any]]:
        """Every storable product with a SKU, by SKU."""
        records = self.client.search_read_all("product.product", [self.client.dialect.storable_domain], ["default_code", "tracking", "standard_price", "uom_id"])
        return {p["default_code"]: p for p in records if p.get("default_code")}

    # ----------------------------------------------------------------------------------- pickings

    def pickings_named(self, names: Iterable[str]) -> dict[str, dict[str, Any]]:
        names = sorted(set(names))
        if not names:
            return {}
        return {p["name"]: p for p in self.client.search_read_in("stock.picking", "name", names, PICKING_FIELDS)}

    def picking_states(self, ids: Iterable[int]) -> dict[int, str]:
        return {p["id"]: p["state"] for p in self.client.read("stock.picking", sorted(set(ids)), ["state"])}

    def open_backorders(self, done_ids: list[int]) -> dict[int, dict[str, Any]]:
        """done picking id -> its open backorder (following the chain), for shipments of the rest of an order."""
        out: dict[int, dict[str, Any]] = {}
        frontier = list(done_ids)
        origin_of = {pid: pid for pid in done_ids}
        while frontier:
            found = self.client.execute("stock.picking", "search_read", [["backorder_id", "in", frontier]], fields=PICKING_FIELDS)
            frontier = []
            for b in found:
                root = origin_of[b["backorder_id"][0]]
                if b["state"] == "done":
                    origin_of[b["id"]] = root
                    frontier.append(b["id"])
                elif b["state"] != "cancel":
                    out[root] = b
        return out

    def moves_of(self, picking_ids: Iterable[int], extra: tuple[str, ...] = ()) -> dict[int, list[dict[str, Any]]]:
        """picking id -> its moves (every state), in id order (``extra``: more fields than MOVE_FIELDS)."""
        ids = sorted(set(picking_ids))
        out: dict[int, list[dict[str, Any]]] = {pid: [] for pid in ids}
        if ids:
            for m in self.client.search_read_in("stock.move", "picking_id", ids, [*MOVE_FIELDS, *extra]):
                out[m["picking_id"][0]].append(m)
        return out

    # ------------------------------------------------------------------------ stock and valuation

    def quantities_at(self, as_of: datetime, products: dict[int, dict[str, Any]]) -> dict[tuple[str, str], Decimal]:
        """On-hand per (SKU, lot) in all the partner's warehouses at ``as_of``, from done move lines dated up to
        then (never today's quants, so a late reconciliation gives the same answer)."""
        locations = self.stock_locations
        inside = set(locations)
        stamp = as_of.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        domain = [["state", "=", "done"], ["date", "<=", stamp], "|", ["location_id", "in", locations], ["location_dest_id", "in", locations]]
        totals: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        for line in self.client.search_read_all("stock.move.line", domain, ["product_id", "lot_id", "quantity_product_uom", "location_id", "location_dest_id"]):
            product = products.get(line["product_id"][0])
            if product is None:
                continue
            src_in, dest_in = line["location_id"][0] in inside, line["location_dest_id"][0] in inside
            if src_in == dest_in:
                continue
            key = (product["default_code"], line["lot_id"][1] if line.get("lot_id") else "")
            totals[key] += Decimal(str(line["quantity_product_uom"])) * (1 if dest_in else -1)
        return totals

    def unit_costs(self, product_ids: Iterable[int]) -> dict[int, Decimal]:
        """FIFO unit cost per product in stock: remaining value / remaining quantity of its valuation layers (17,
        18); Odoo 19 has no layers and computes that figure itself as the product's ``avg_cost`` (total value /
        quantity valued; its moves' ``remaining_qty`` can only be searched "is set")."""
        ids = sorted(set(product_ids))
        if ids and not self.client.dialect.has_valuation_layers:
            rows = self.client.read("product.product", ids, ["avg_cost", "qty_available"])
            return {r["id"]: Decimal(str(r["avg_cost"])).quantize(Decimal("0.000001")) for r in rows if r["qty_available"] > 0}
        qty: dict[int, Decimal] = defaultdict(Decimal)
        value: dict[int, Decimal] = defaultdict(Decimal)
        if ids:  # the open FIFO layers
            for layer in self.client.search_read_all("stock.valuation.layer", [["remaining_qty", ">", 0], ["product_id", "in", ids]],
                                                     ["product_id", "remaining_qty", "remaining_value"]):
                pid = layer["product_id"][0]
                qty[pid] += Decimal(str(layer["remaining_qty"]))
                value[pid] += Decimal(str(layer["remaining_value"]))
        return {pid: (value[pid] / qty[pid]).quantize(Decimal("0.000001")) for pid in qty if qty[pid] > 0}

    def quants(self, product_id: int, lot_id: int | bool) -> list[dict[str, Any]]:
        """The product's (lot's) quants at the partner's warehouses' stock locations, in the spec's warehouse order."""
        roots = self.stock_roots
        found = self.client.execute("stock.quant", "search_read", [["product_id", "=", product_id], ["location_id", "in", roots], ["lot_id", "=", lot_id]],
                                    fields=["quantity", "location_id"])
        return sorted(found, key=lambda q: (roots.index(q["location_id"][0]), q["id"]))
