"""Which Odoo products a partner stocks: its product selection (``products:`` in the partner YAML) as a domain.

The selection is applied where products meet the partner: the products file (only these are sent) and the order
pre-flight (an order for another product is held). A category name Odoo does not know is a set-up error.
"""

from __future__ import annotations

from typing import Any

from threepl_bridge.odoo.client import OdooClient
from threepl_bridge.odoo.warehouses import PartnerSetupError, partner_warehouses
from threepl_bridge.specs.models import Partner

def product_domain(client: OdooClient, partner: Partner) -> list[Any]:
    """product.product domain of the storable products this partner stocks (every condition ANDed)."""
    selection = partner.spec.products
    domain: list[Any] = [client.dialect.storable_domain]
    if selection.categories:
        found = client.execute("product.category", "search_read", [["complete_name", "in", list(selection.categories)]],
                               fields=["complete_name"])
        missing = sorted(set(selection.categories) - {c["complete_name"] for c in found})
        if missing:
            raise PartnerSetupError(f"partner {partner.code}: Odoo has no product categor{'y' if len(missing) == 1 else 'ies'} "
                                    f"{missing} (products.categories in {partner.source}); use the full name, e.g. 'All / Saleable'")
        domain.append(["categ_id", "child_of", sorted(c["id"] for c in found)])
    if selection.routes:
        domain.append(["route_ids.name", "in", list(selection.routes)])
    if selection.warehouse_routes:
        domain.append(["route_ids.warehouse_ids", "in", [w["id"] for w in partner_warehouses(client, partner)]])
    domain.extend(list(leaf) if isinstance(leaf, tuple) else leaf for leaf in selection.domain)
    return domain


def stocked_among(client: OdooClient, partner: Partner, product_ids: list[int]) -> set[int] | None:
    """The ids among ``product_ids`` the partner stocks; None when the partner stocks every storable product."""
    if not partner.spec.products.restricted:
        return None
    if not product_ids:
        return set()
    return set(client.execute("product.product", "search", [["id", "in", sorted(product_ids)], *product_domain(client, partner)]))
