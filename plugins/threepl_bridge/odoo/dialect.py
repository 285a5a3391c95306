"""What differs between the Odoo versions we support, in one place: field names, product kinds, units of measure,
lock dates and valuation. The client picks the dialect from the server's ``version()``
(:attr:`~threepl_bridge.odoo.client.OdooClient.dialect`); flows ask it and never branch on a version themselves.

Facts per version are in ``sandbox/odoo_standin/contract`` (17.0 at the top, ``18.0/``, ``19.0/``), captured
from live servers through their external API:

- 17: a storable product is ``detailed_type = 'product'``; units belong to a ``uom.category`` and ``factor`` is
  reference units per unit inverted (a dozen: 1/12); lock dates ``period_lock_date`` and ``fiscalyear_lock_date``;
  valuation in ``stock.valuation.layer``, journal entries point to their move (``account.move.stock_move_id``).
- 18: ``detailed_type`` is gone: storable is ``is_storable`` on a ``consu`` product; the period lock date became
  ``sale_lock_date``/``purchase_lock_date`` and a ``hard_lock_date`` came (a stock entry's journal is neither sale
  nor purchase: the fiscal-year and hard lock dates apply).
- 19: no ``uom.category``: a unit is ``relative_factor`` of its ``relative_uom_id`` and ``factor`` is its absolute
  quantity of the root unit (a dozen: 12); users' groups are ``group_ids``; order lines' unit is
  ``product_uom_id``; ``stock.valuation.layer`` is gone: a move carries its ``value`` and remaining quantity and
  value, and points to its journal entry (``stock.move.account_move_id``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

SUPPORTED = (17, 18, 19)


@dataclass(frozen=True)
class Dialect:
    major: int

    # ------------------------------------------------------------------------------------ products

    @property
    def storable_domain(self) -> list[Any]:
        """product.product domain leaf of the products whose stock Odoo tracks."""
        return ["detailed_type", "=", "product"] if self.major < 18 else ["is_storable", "=", True]

    @property
    def storable_values(self) -> dict[str, Any]:
        """Values that make a new product storable."""
        return {"detailed_type": "product"} if self.major < 18 else {"type": "consu", "is_storable": True}

    @property
    def service_values(self) -> dict[str, Any]:
        return {"detailed_type": "service"} if self.major < 18 else {"type": "service"}

    @property
    def product_kind_fields(self) -> list[str]:
        return ["detailed_type"] if self.major < 18 else ["type", "is_storable"]

    def is_storable(self, product: dict[str, Any]) -> bool:
        return product.get("detailed_type") == "product" if self.major < 18 else bool(product.get("is_storable"))

    def product_kind(self, product: dict[str, Any]) -> str:
        """A product's kind in words, for messages."""
        if self.major < 18:
            return str(product.get("detailed_type"))
        return "storable" if product.get("is_storable") else str(product.get("type"))

    # --------------------------------------------------------------------------------------- units

    @property
    def unit_fields(self) -> list[str]:
        return ["name", "category_id", "factor"] if self.major < 19 else ["name", "factor", "parent_path"]

    def unit_family(self, unit: dict[str, Any]) -> int:
        """Units of one family convert into each other: 17/18 the category, 19 the root of the reference chain."""
        if self.major < 19:
            return int(unit["category_id"][0])
        return int(str(unit.get("parent_path") or unit["id"]).strip("/").split("/")[0])

    def unit_ratio(self, unit: dict[str, Any]) -> float:
        """Reference (root) units in one of this unit."""
        return 1.0 / unit["factor"] if self.major < 19 else float(unit["factor"])

    def bigger_unit_values(self, name: str, reference: dict[str, Any], ratio: float) -> dict[str, Any]:
        """Values of a new unit worth ``ratio`` of ``reference`` (a unit record read with :attr:`unit_fields`)."""
        if self.major < 19:
            return {"name": name, "category_id": reference["category_id"][0], "uom_type": "bigger", "factor_inv": ratio}
        return {"name": name, "relative_uom_id": reference["id"], "relative_factor": ratio}

    @property
    def order_line_uom(self) -> str:
        """The unit field of sale and purchase order lines."""
        return "product_uom" if self.major < 19 else "product_uom_id"

    # ---------------------------------------------------------------------------------- accounting

    @property
    def lock_date_fields(self) -> tuple[str, ...]:
        """res.company dates that lock a stock journal entry for a user who is not an accounting adviser."""
        return ("period_lock_date", "fiscalyear_lock_date") if self.major < 18 else ("fiscalyear_lock_date", "hard_lock_date")

    @property
    def user_groups_field(self) -> str:
        return "groups_id" if self.major < 19 else "group_ids"

    @property
    def has_valuation_layers(self) -> bool:
        return self.major < 19

    @property
    def create_returns_method(self) -> str:
        """The return wizard's button: ``create_returns`` in 17 (contract F9: ``action_create_returns`` does not exist
        there), ``action_create_returns`` from 18 on."""
        return "create_returns" if self.major < 18 else "action_create_returns"

    @property
    def books_stock_moves(self) -> bool:
        """Whether valued stock moves get journal entries of their own (17, 18). Odoo 19 books a move only when it
        crosses a location with a valuation account, which none has by default (contract/19.0/README.md)."""
        return self.major < 19


@lru_cache(maxsize=None)
def dialect_for(major: int) -> Dialect:
    """The dialect of a major version; a newer one than we know speaks the newest dialect (and the connection
    test says it is not tested)."""
    if major < SUPPORTED[0]:
        raise ValueError(f"Odoo {major} is not supported ({SUPPORTED[0]} or later is)")
    return Dialect(min(major, SUPPORTED[-1]))
