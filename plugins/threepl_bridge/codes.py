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
        Code(code="ORDER_PRODUCT_NOT_STOCKED", object_type="picking", title="Order line for a product this 3PL does not stock",
             action="Ship the order from a warehouse that stocks the product, or add the product to the partner's products "
                    "selection (partner YAML) so it is sent to the 3PL; the order is released on the next run after the fix."),
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
        # dispatch confirmations <- 3PL (row exceptions; replay the file after fixing)
        Code(code="DISPATCH_FILE_UNREADABLE", object_type="file", title="The file cannot be read with the partner's layout",
             action="The file is in the error folder with the reason on its exchange; ask the 3PL for a corrected file (or fix the layout YAML) and drop it again."),
        Code(code="DISPATCH_FIELD_INVALID", object_type="row", title="A value cannot be read (not a number, wrong date format, wrong column count)",
             action="Ask the 3PL to correct the row; the rest of the file was processed."),
        Code(code="DISPATCH_REQUIRED_MISSING", object_type="row", title="Order reference, SKU, quantity or ship date is empty",
             action="Ask the 3PL to resend the line complete."),
        Code(code="DISPATCH_QTY_NOT_POSITIVE", object_type="row", title="Shipped quantity is 0 or negative", action="Ask the 3PL to correct the line."),
        Code(code="DISPATCH_FUTURE_DATE", object_type="row", title="Ship date in the future", action="Check the 3PL's clock/time zone (partner timezone) and ask for a corrected line."),
        Code(code="DISPATCH_UNKNOWN_UOM", object_type="row", title="Unit code not in the partner's uom list", action="Add the code to the partner spec or ask the 3PL to use a known code."),
        Code(code="DISPATCH_DUPLICATE_ROW", object_type="row", title="The same order/line/lot/parcel appears twice in the file", action="Ask the 3PL which line is right."),
        Code(code="DISPATCH_UNKNOWN_ORDER", object_type="row", title="Order reference matches no Odoo picking", action="Check the reference with the 3PL."),
        Code(code="DISPATCH_NOT_RELEASED", object_type="row", title="The picking was never released to this 3PL", action="Check why the 3PL shipped it; post manually if right."),
        Code(code="DISPATCH_PICKING_CANCELLED", object_type="row", title="The picking is cancelled in Odoo", action="The goods left anyway: create a new delivery in Odoo or recall the shipment."),
        Code(code="DISPATCH_CONFLICT", object_type="row", title="The picking is already done in Odoo with other quantities", action="Compare with the posted delivery; correct by return or new delivery."),
        Code(code="DISPATCH_SKU_NOT_ON_PICKING", object_type="row", title="SKU/barcode is not on the picking", action="Check the order with the 3PL (wrong item shipped?)."),
        Code(code="DISPATCH_UOM_NOT_CONVERTIBLE", object_type="row", title="The reported unit cannot be converted to the order's unit", action="Fix the partner's uom mapping or ask the 3PL."),
        Code(code="DISPATCH_OVER_SHIPMENT", object_type="row", title="More shipped than open on the picking", action="Check with the 3PL; Odoo would accept it silently, so nothing was posted."),
        Code(code="DISPATCH_LOT_MISSING", object_type="row", title="Lot-tracked product reported without a lot", action="Ask the 3PL for the lot."),
        Code(code="DISPATCH_LOT_UNKNOWN", object_type="row", title="The lot does not exist in Odoo for the product", action="Check the lot with the 3PL or create it in Odoo (receipt missing?)."),
        Code(code="DISPATCH_TRACKING_MISSING", object_type="row", title="The carrier requires a tracking number and the line has none", action="Ask the 3PL for the tracking number."),
        Code(code="DISPATCH_LOCKED_PERIOD", object_type="row", title="The ship date falls in a locked accounting period", action="Finance decides: reopen the period and replay the file, or post manually in the open period."),
        Code(code="DISPATCH_ORDER_HELD", object_type="row", title="A valid line held because another line of the same order failed", action="Fix the failing line; the whole order posts on replay (or set policy.post_valid_part)."),
        Code(code="DISPATCH_POST_FAILED", object_type="row", title="Odoo refused to validate the picking", action="Read Odoo's message on the row, fix in Odoo, replay the file."),
        Code(code="DISPATCH_PENDING_AT_3PL", object_type="picking", title="Released order not dispatched within the partner's SLA", action="Chase the 3PL; closes by itself when the dispatch arrives."),
        # stock snapshots <- 3PL
        Code(code="STOCK_FILE_UNREADABLE", object_type="file", title="The snapshot cannot be read with the partner's layout",
             action="The file is in the error folder with the reason; ask the 3PL for a corrected snapshot."),
        Code(code="STOCK_FIELD_INVALID", object_type="row", title="A snapshot value cannot be read (quantity, timestamp)", action="Ask the 3PL to correct the line."),
        Code(code="STOCK_REQUIRED_MISSING", object_type="row", title="SKU, quantity or snapshot time missing", action="Ask the 3PL to resend the line complete."),
        Code(code="STOCK_QTY_NEGATIVE", object_type="row", title="Negative quantity on hand", action="Ask the 3PL to correct its count."),
        Code(code="STOCK_FUTURE_DATE", object_type="row", title="Snapshot time in the future", action="Check the partner's timezone setting and the 3PL's clock."),
        Code(code="STOCK_UNKNOWN_UOM", object_type="row", title="Unit code not in the partner's uom list", action="Add the code to the partner spec or ask the 3PL."),
        Code(code="STOCK_DUPLICATE_ROW", object_type="row", title="The same SKU and lot appear twice", action="Ask the 3PL which count is right."),
        Code(code="STOCK_UNKNOWN_SKU", object_type="row", title="The 3PL holds a SKU Odoo does not know", action="Create the product in Odoo (then it reconciles next time) or have the 3PL return/relabel the goods."),
        Code(code="STOCK_ADJUSTMENT_FAILED", object_type="reconciliation_line", title="Odoo refused an inventory adjustment",
             action="Read Odoo's message; fix and approve the line again (the adjustment is never applied twice)."),
    )
}
