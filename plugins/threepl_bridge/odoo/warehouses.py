"""A partner's Odoo warehouses, looked up once per question and checked: every flow that asks goes through here.

A partner names its warehouses by code (``odoo.warehouses``). A code that Odoo does not know is a set-up error,
never an empty answer: an empty warehouse list would make a reconciliation or a month end report on nothing and
call it ready.
"""

from __future__ import annotations

from typing import Any

from threepl_bridge.odoo.client import OdooClient
from threepl_bridge.specs.models import Partner

WAREHOUSE_FIELDS = ["code", "name", "lot_stock_id", "out_type_id", "in_type_id", "view_location_id", "company_id"]


class PartnerSetupError(LookupError):
    """The partner's spec names something Odoo does not have; the message says what to fix where."""


def partner_warehouses(client: OdooClient, partner: Partner) -> list[dict[str, Any]]:
    """The partner's warehouses in the order its spec names them; raises PartnerSetupError for a missing code."""
    codes = list(partner.spec.odoo.warehouses)
    found = {w["code"]: w for w in client.execute("stock.warehouse", "search_read", [["code", "in", codes]], fields=WAREHOUSE_FIELDS)}
    missing = [c for c in codes if c not in found]
    if missing:
        raise PartnerSetupError(
            f"partner {partner.code}: Odoo has no warehouse with code(s) {missing} (odoo.warehouses in {partner.source}); "
            "create the warehouse in Odoo or correct the code"
        )
    return [found[c] for c in codes]


def stock_roots(client: OdooClient, partner: Partner) -> list[int]:
    return [w["lot_stock_id"][0] for w in partner_warehouses(client, partner)]


def stock_locations(client: OdooClient, partner: Partner) -> list[int]:
    """The partner's warehouses' stock locations and everything under them."""
    return client.execute("stock.location", "search", [["id", "child_of", stock_roots(client, partner)]])


def out_picking_types(client: OdooClient, partner: Partner) -> list[int]:
    return [w["out_type_id"][0] for w in partner_warehouses(client, partner)]
