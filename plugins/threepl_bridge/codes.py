"""Stable exception codes: what each means and what an operator does about it.

Codes are part of the product's interface (reports, alerts and people rely on them): never rename one.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class Code:
    code: str
    object_type: str
    title: str
    action: str


CODES: dict[str, Code] = {
    c.code: c
    for c in (
        # products -> 3PL
        Code(code="PRODUCT_MISSING_SKU", object_type="product", title="Storable product without an Internal Reference (SKU)",
             action="Set the product's Internal Reference in Odoo; it is sent on the next run."),
        Code(code="PRODUCT_DUPLICATE_SKU", object_type="product", title="Two storable products share one SKU",
             action="Give each product its own Internal Reference; both are held until then."),
        Code(code="PRODUCT_DUPLICATE_BARCODE", object_type="product", title="Two products share one barcode",
             action="Correct the barcode on one of them."),
        Code(code="PRODUCT_BAD_BARCODE", object_type="product", title="Barcode with a wrong GS1 check digit",
             action="Correct the EAN/UPC/GTIN in Odoo (the 3PL's scanners reject it)."),
        Code(code="PRODUCT_UOM_NOT_MAPPED", object_type="product", title="Unit of measure the 3PL has no code for",
             action="Add the Odoo UoM to the partner's uom list (with the 3PL's code and factor), or change the product's UoM."),
        Code(code="PRODUCT_ENCODING", object_type="product", title="Characters the 3PL's file encoding cannot carry",
             action="Change the product data (e.g. name) or agree another encoding with the 3PL in the layout."),
        Code(code="PRODUCT_FIELD_INVALID", object_type="product", title="A value breaks the 3PL's layout rules (too long, pattern...)",
             action="Fix the value in Odoo; the message names the column and the rule."),
        # orders -> 3PL
        Code(code="ORDER_PRODUCT_NOT_AT_3PL", object_type="picking", title="Order line for a product the 3PL has not received",
             action="Fix the product's own exception (see PRODUCT_*) so the product master goes out first; the order follows."),
        Code(code="ORDER_MISSING_SKU", object_type="picking", title="Order line for a product without SKU",
             action="Set the product's Internal Reference."),
        Code(code="ORDER_UOM_NOT_MAPPED", object_type="picking", title="Order line in a unit the 3PL has no code for",
             action="Add the unit to the partner's uom list or change the sales line's unit."),
        Code(code="ORDER_UOM_MISMATCH", object_type="picking", title="Quantity is not a whole number in the 3PL's unit (e.g. 1.5 cases)",
             action="Change the sales line to whole cases, or sell in units."),
        Code(code="ORDER_ADDRESS_INCOMPLETE", object_type="picking", title="Ship-to address misses name, street, city, zip or country",
             action="Complete the delivery address on the order's customer."),
        Code(code="ORDER_ENCODING", object_type="picking", title="Characters the 3PL's file encoding cannot carry",
             action="Change the address/order data or agree another encoding with the 3PL."),
        Code(code="ORDER_FIELD_INVALID", object_type="picking", title="A value breaks the 3PL's layout rules",
             action="Fix the value in Odoo; the message names the column and the rule."),
        Code(code="ORDER_CANCELLED_AFTER_RELEASE", object_type="picking", title="Picking cancelled in Odoo after it was released",
             action="Call the 3PL to stop the order (this partner has no cancellation file)."),
        Code(code="ORDER_CHANGED_AFTER_RELEASE", object_type="picking", title="Quantities changed in Odoo after release",
             action="Agree the change with the 3PL; the 3PL ships what it received."),
    )
}
