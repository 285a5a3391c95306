"""Stable exception codes, one catalogue: what each means, how its message reads, how bad it is, what to do.

Codes are part of the product's interface (reports, alerts and people rely on them): never rename one. Each code
is an object the flows refer to (``codes.DISPATCH_UNKNOWN_ORDER``), never a string literal; calling it makes the
one problem type, :class:`Problem`, with the message rendered from the code's template::

    codes.DISPATCH_UNKNOWN_ORDER(file="D1.csv", row=3, field="order_ref", value="WH/OUT/9")

A :class:`Code` is also a ``str`` equal to its name, so the ledger stores it and reports compare it as text.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    ERROR = "error"  # the record or row is held: nothing was sent or posted for it
    WARNING = "warning"  # something already happened that a person should look at


class Code(str):
    """One exception code: ``title`` and ``action`` for operators, ``template`` for the message (``str.format``
    fields: ``value``, ``field`` and the parameters given when the problem is made)."""

    object_type: str
    title: str
    action: str
    template: str
    severity: Severity

    def __new__(cls, code: str, *, object_type: str, title: str, action: str, template: str,
                severity: Severity = Severity.ERROR) -> "Code":
        self = super().__new__(cls, code)
        self.object_type, self.title, self.action, self.template, self.severity = object_type, title, action, template, severity
        return self

    @property
    def code(self) -> str:
        return str.__str__(self)

    # one object per code: copies (dataclasses.asdict, pickling for XCom or processes) are the catalogue's entry
    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return _catalogued, (self.code,)

    def __copy__(self) -> "Code":
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> "Code":
        return self

    def message(self, *, value: Any = None, field: str = "", **params: Any) -> str:
        try:
            return self.template.format(value=value, field=field, **params)
        except (KeyError, IndexError, ValueError) as exc:  # a template bug must not hide the problem itself
            return f"{self.title} ({field} {value!r}; {params}; template error {exc})"

    def __call__(self, *, file: str = "", row: int | None = None, field: str = "", value: Any = None, **params: Any) -> "Problem":
        return Problem(code=self, file=file, row=row, field=field, value=value, message=self.message(value=value, field=field, **params))


@dataclass(frozen=True, kw_only=True)
class Problem:
    """Why one record, row or file could not be sent or posted: the one problem type of every flow."""

    code: Code
    message: str
    file: str = ""
    row: int | None = None
    field: str = ""
    value: Any = None
    suggestion: str = ""  # a fix computed from data (JSON of formats.suggest.Suggestion), shown next to it, never applied

    def __str__(self) -> str:
        where = f"{self.file} row {self.row}: " if self.file and self.row is not None else (f"{self.file}: " if self.file else "")
        return f"{where}{self.message}"

    def located(self, file: str) -> "Problem":
        """The same problem, naming the file it was found in."""
        return dataclasses.replace(self, file=file)

    def reported_as(self, code: Code, *, row: int | None = None) -> "Problem":
        """The same problem under a flow's own code (a value-level problem of the formats layer, say)."""
        return dataclasses.replace(self, code=code, row=self.row if row is None else row)


# products -> 3PL
PRODUCT_MISSING_SKU = Code(
    "PRODUCT_MISSING_SKU", object_type='product', title='Storable product without an Internal Reference (SKU)',
    template='product {product_id} {name!r} has no Internal Reference',
    action="Set the product's Internal Reference in Odoo; it is sent on the next run.",
)
PRODUCT_DUPLICATE_SKU = Code(
    "PRODUCT_DUPLICATE_SKU", object_type='product', title='Two storable products share one SKU',
    template='{label}: SKU {sku} is used by {count} storable products',
    action='Give each product its own Internal Reference; both are held until then.',
)
PRODUCT_DUPLICATE_BARCODE = Code(
    "PRODUCT_DUPLICATE_BARCODE", object_type='product', title='Two products share one barcode',
    template='{label}: barcode {barcode} is used by {count} products',
    action='Correct the barcode on one of them.', severity=Severity.WARNING,
)
PRODUCT_BAD_BARCODE = Code(
    "PRODUCT_BAD_BARCODE", object_type='product', title='Barcode with a wrong GS1 check digit',
    template='{label}: {why}',
    action="Correct the EAN/UPC/GTIN in Odoo (the 3PL's scanners reject it).",
)
PRODUCT_UOM_NOT_MAPPED = Code(
    "PRODUCT_UOM_NOT_MAPPED", object_type='product', title='Unit of measure the 3PL has no code for',
    template='{label}: unit {uom!r} has no code in {source} (uom)',
    action="Add the Odoo UoM to the partner's uom list (with the 3PL's code and factor), or change the product's UoM.",
)
PRODUCT_ENCODING = Code(
    "PRODUCT_ENCODING", object_type='product', title="Characters the 3PL's file encoding cannot carry",
    template='{label}: {detail}',
    action='Change the product data (e.g. name) or agree another encoding with the 3PL in the layout.',
)
PRODUCT_FIELD_INVALID = Code(
    "PRODUCT_FIELD_INVALID", object_type='product', title="A value breaks the 3PL's layout rules (too long, pattern...)",
    template='{label}: {detail}',
    action='Fix the value in Odoo; the message names the column and the rule.',
)
# orders -> 3PL
ORDER_PRODUCT_NOT_AT_3PL = Code(
    "ORDER_PRODUCT_NOT_AT_3PL", object_type='picking', title='Order line for a product the 3PL has not received',
    template='{where}: the 3PL has not received product {sku} yet',
    action="Fix the product's own exception (see PRODUCT_*) so the product master goes out first; the order follows.",
)
ORDER_PRODUCT_NOT_STOCKED = Code(
    "ORDER_PRODUCT_NOT_STOCKED", object_type='picking', title='Order line for a product this 3PL does not stock',
    template='{where}: {partner} does not stock product {sku} (products selection in {source})',
    action="Ship the order from a warehouse that stocks the product, or add the product to the partner's products selection (partner YAML) so it is sent to the 3PL; the order is released on the next run after the fix.",
)
ORDER_MISSING_SKU = Code(
    "ORDER_MISSING_SKU", object_type='picking', title='Order line for a product without SKU',
    template='{where}: product has no Internal Reference',
    action="Set the product's Internal Reference.",
)
ORDER_UOM_NOT_MAPPED = Code(
    "ORDER_UOM_NOT_MAPPED", object_type='picking', title='Order line in a unit the 3PL has no code for',
    template='{where}: unit {uom!r} has no code in {source}',
    action="Add the unit to the partner's uom list or change the sales line's unit.",
)
ORDER_UOM_MISMATCH = Code(
    "ORDER_UOM_MISMATCH", object_type='picking', title="Quantity is not a whole number in the 3PL's unit (e.g. 1.5 cases)",
    template='{where}: {qty} {uom} is not a whole number of {unit}',
    action='Change the sales line to whole cases, or sell in units.',
)
ORDER_ADDRESS_INCOMPLETE = Code(
    "ORDER_ADDRESS_INCOMPLETE", object_type='picking', title='Ship-to address misses name, street, city, zip or country',
    template='{picking}: ship-to address lacks {missing}',
    action="Complete the delivery address on the order's customer.",
)
ORDER_ENCODING = Code(
    "ORDER_ENCODING", object_type='picking', title="Characters the 3PL's file encoding cannot carry",
    template='{where}: {detail}',
    action='Change the address/order data or agree another encoding with the 3PL.',
)
ORDER_FIELD_INVALID = Code(
    "ORDER_FIELD_INVALID", object_type='picking', title="A value breaks the 3PL's layout rules",
    template='{where}: {detail}',
    action='Fix the value in Odoo; the message names the column and the rule.',
)
ORDER_CANCELLED_AFTER_RELEASE = Code(
    "ORDER_CANCELLED_AFTER_RELEASE", object_type='picking', title='Picking cancelled in Odoo after it was released',
    template='{picking} was cancelled in Odoo after release in exchange {exchange}; tell the 3PL',
    action='Call the 3PL to stop the order (this partner has no cancellation file).', severity=Severity.WARNING,
)
ORDER_CHANGED_AFTER_RELEASE = Code(
    "ORDER_CHANGED_AFTER_RELEASE", object_type='picking', title='Quantities changed in Odoo after release',
    template='{picking}: quantities changed in Odoo after release in exchange {exchange}',
    action='Agree the change with the 3PL; the 3PL ships what it received.', severity=Severity.WARNING,
)
# advance shipping notices -> 3PL (incoming pickings held back, or changed after release)
ASN_MISSING_SKU = Code(
    "ASN_MISSING_SKU", object_type='picking', title='A product of the receipt has no internal reference (SKU)',
    template='{where}: the product has no internal reference',
    action='Give the product an internal reference in Odoo; the ASN is sent on the next run.',
)
ASN_PRODUCT_NOT_AT_3PL = Code(
    "ASN_PRODUCT_NOT_AT_3PL", object_type='picking', title='The 3PL has not received the product master yet',
    template='{where}: the 3PL has not received product {sku} yet',
    action='Wait for the next products run (or trigger it); the ASN is sent once the product is at the 3PL.',
)
ASN_MISSING_BARCODE = Code(
    "ASN_MISSING_BARCODE", object_type='picking', title="A product of the receipt has no barcode and the partner's ASN layout requires one",
    template='{where}: product {sku} has no barcode; the 3PL scans receipts by barcode',
    action='Give the product its barcode in Odoo; the ASN is sent on the next run.',
)
ASN_UOM_NOT_MAPPED = Code(
    "ASN_UOM_NOT_MAPPED", object_type='picking', title="The receipt's unit has no code in the partner spec",
    template='{where}: unit {uom!r} has no code in {source}',
    action='Add the unit to the partner spec (uom) or change the purchase line; the ASN is sent on the next run.',
)
ASN_UOM_MISMATCH = Code(
    "ASN_UOM_MISMATCH", object_type='picking', title="The expected quantity is not whole in the 3PL's unit",
    template='{where}: {qty} {uom} is not a whole number of {unit}',
    action='Correct the purchase quantity or unit in Odoo.',
)
ASN_FIELD_INVALID = Code(
    "ASN_FIELD_INVALID", object_type='picking', title="A value of the ASN breaks the partner's layout (length, characters, encoding)",
    template='{where}: {detail}',
    action='Correct the value in Odoo (or the layout); the ASN is sent on the next run.',
)
ASN_CANCELLED_AFTER_RELEASE = Code(
    "ASN_CANCELLED_AFTER_RELEASE", object_type='picking', title='A receipt announced to the 3PL was cancelled in Odoo',
    template="{picking} was cancelled in Odoo after its ASN (exchange {exchange}), and the partner's ASN layout carries no action: tell the 3PL",
    action='Tell the 3PL not to expect the goods; resolve the exception when done.', severity=Severity.WARNING,
)
ASN_CHANGED_AFTER_RELEASE = Code(
    "ASN_CHANGED_AFTER_RELEASE", object_type='picking', title='A receipt announced to the 3PL changed in Odoo',
    template="{picking}: expected quantities changed in Odoo after its ASN (exchange {exchange}), and the partner's ASN layout carries no action",
    action='Tell the 3PL the new quantities; the receipt confirmation is checked against what Odoo expects now.', severity=Severity.WARNING,
)
# dispatch confirmations <- 3PL (row exceptions; replay the file after fixing)
DISPATCH_FILE_UNREADABLE = Code(
    "DISPATCH_FILE_UNREADABLE", object_type='file', title="The file cannot be read with the partner's layout",
    template='{detail}',
    action='The file is in the error folder with the reason on its exchange; ask the 3PL for a corrected file (or fix the layout YAML) and drop it again.',
)
DISPATCH_FIELD_INVALID = Code(
    "DISPATCH_FIELD_INVALID", object_type='row', title='A value cannot be read (not a number, wrong date format, wrong column count)',
    template='{detail}',
    action='Ask the 3PL to correct the row; the rest of the file was processed.',
)
DISPATCH_REQUIRED_MISSING = Code(
    "DISPATCH_REQUIRED_MISSING", object_type='row', title='Order reference, SKU, quantity or ship date is empty',
    template='{field} is empty',
    action='Ask the 3PL to resend the line complete.',
)
DISPATCH_QTY_NOT_POSITIVE = Code(
    "DISPATCH_QTY_NOT_POSITIVE", object_type='row', title='Shipped quantity is 0 or negative',
    template='quantity {value} must be greater than 0',
    action='Ask the 3PL to correct the line.',
)
DISPATCH_FUTURE_DATE = Code(
    "DISPATCH_FUTURE_DATE", object_type='row', title='Ship date in the future',
    template='{field} {value} is in the future',
    action="Check the 3PL's clock/time zone (partner timezone) and ask for a corrected line.",
)
DISPATCH_UNKNOWN_UOM = Code(
    "DISPATCH_UNKNOWN_UOM", object_type='row', title="Unit code not in the partner's uom list",
    template='{field} {value!r} is not one of {allowed}',
    action='Add the code to the partner spec or ask the 3PL to use a known code.',
)
DISPATCH_DUPLICATE_ROW = Code(
    "DISPATCH_DUPLICATE_ROW", object_type='row', title='The same order/line/lot/parcel appears twice in the file',
    template='the same ({columns}) appears more than once in the file',
    action='Ask the 3PL which line is right.',
)
DISPATCH_UNKNOWN_ORDER = Code(
    "DISPATCH_UNKNOWN_ORDER", object_type='row', title='Order reference matches no Odoo picking',
    template='no Odoo picking named {value!r}',
    action='Check the reference with the 3PL.',
)
DISPATCH_NOT_RELEASED = Code(
    "DISPATCH_NOT_RELEASED", object_type='row', title='The picking was never released to this 3PL',
    template='{value} was never released to {partner}',
    action='Check why the 3PL shipped it; post manually if right.',
)
DISPATCH_PICKING_CANCELLED = Code(
    "DISPATCH_PICKING_CANCELLED", object_type='row', title='The picking is cancelled in Odoo',
    template='{value} is cancelled in Odoo',
    action='The goods left anyway: create a new delivery in Odoo or recall the shipment.',
)
DISPATCH_CONFLICT = Code(
    "DISPATCH_CONFLICT", object_type='row', title='The picking is already done in Odoo with other quantities',
    template='{value} is already done in Odoo and this line differs from what was posted',
    action='Compare with the posted delivery; correct by return or new delivery.',
)
DISPATCH_SKU_NOT_ON_PICKING = Code(
    "DISPATCH_SKU_NOT_ON_PICKING", object_type='row', title='SKU/barcode is not on the picking',
    template='{value} is not on {picking}',
    action='Check the order with the 3PL (wrong item shipped?).',
)
DISPATCH_UOM_NOT_CONVERTIBLE = Code(
    "DISPATCH_UOM_NOT_CONVERTIBLE", object_type='row', title="The reported unit cannot be converted to the order's unit",
    template='{qty} {value} cannot be expressed in {move_uom} for {sku}',
    action="Fix the partner's uom mapping or ask the 3PL.",
)
DISPATCH_OVER_SHIPMENT = Code(
    "DISPATCH_OVER_SHIPMENT", object_type='row', title='More shipped than open on the picking',
    template='{shipped} shipped for {product} on {picking}, only {open} open',
    action='Check with the 3PL; Odoo would accept it silently, so nothing was posted.',
)
DISPATCH_LOT_MISSING = Code(
    "DISPATCH_LOT_MISSING", object_type='row', title='Lot-tracked product reported without a lot',
    template='{sku} is tracked by lot: the line needs one',
    action='Ask the 3PL for the lot.',
)
DISPATCH_LOT_UNKNOWN = Code(
    "DISPATCH_LOT_UNKNOWN", object_type='row', title='The lot does not exist in Odoo for the product',
    template='lot {value!r} of {sku} is unknown in Odoo',
    action='Check the lot with the 3PL or create it in Odoo (receipt missing?).',
)
DISPATCH_SERIAL_QTY = Code(
    "DISPATCH_SERIAL_QTY", object_type='row', title='A serial number shipped for more or less than one unit',
    template='{sku} is tracked by serial number: serial {lot!r} is one unit, the line ships {units}',
    action='Ask the 3PL for one line per serial number (quantity 1 each).',
)
DISPATCH_SERIAL_DUPLICATE = Code(
    "DISPATCH_SERIAL_DUPLICATE", object_type='row', title='The same serial number shipped twice in the file',
    template='serial {value!r} of {sku} is already on row {first} of this file',
    action='Ask the 3PL which shipment the serial number really left with; nothing of the second row was posted.',
)
DISPATCH_TRACKING_MISSING = Code(
    "DISPATCH_TRACKING_MISSING", object_type='row', title='The carrier requires a tracking number and the line has none',
    template='carrier {carrier} requires a tracking number',
    action='Ask the 3PL for the tracking number.',
)
DISPATCH_LOCKED_PERIOD = Code(
    "DISPATCH_LOCKED_PERIOD", object_type='row', title='The ship date falls in a locked accounting period',
    template='shipped on {day} but the books are locked until {lock}; reopen the period or post manually',
    action='Finance decides: reopen the period and replay the file, or post manually in the open period.',
)
DISPATCH_ORDER_HELD = Code(
    "DISPATCH_ORDER_HELD", object_type='row', title='A valid line held because another line of the same order failed',
    template='order {value} held whole: row(s) {failed} failed',
    action='Fix the failing line; the whole order posts on replay (or set policy.post_valid_part).',
)
DISPATCH_POST_FAILED = Code(
    "DISPATCH_POST_FAILED", object_type='row', title='Odoo refused to validate the picking',
    template='Odoo refused to validate {picking}: {odoo_message}',
    action="Read Odoo's message on the row, fix in Odoo, replay the file.",
)
DISPATCH_PENDING_AT_3PL = Code(
    "DISPATCH_PENDING_AT_3PL", object_type='picking', title="Released order not dispatched within the partner's SLA",
    template='{value} released {age:.0f} h ago (SLA {sla:g} h), no dispatch yet',
    action='Chase the 3PL; closes by itself when the dispatch arrives.', severity=Severity.WARNING,
)
# stock snapshots <- 3PL
STOCK_FILE_UNREADABLE = Code(
    "STOCK_FILE_UNREADABLE", object_type='file', title="The snapshot cannot be read with the partner's layout",
    template='{detail}',
    action='The file is in the error folder with the reason; ask the 3PL for a corrected snapshot.',
)
STOCK_FIELD_INVALID = Code(
    "STOCK_FIELD_INVALID", object_type='row', title='A snapshot value cannot be read (quantity, timestamp)',
    template='{detail}',
    action='Ask the 3PL to correct the line.',
)
STOCK_REQUIRED_MISSING = Code(
    "STOCK_REQUIRED_MISSING", object_type='row', title='SKU, quantity or snapshot time missing',
    template='{field} is empty',
    action='Ask the 3PL to resend the line complete.',
)
STOCK_QTY_NEGATIVE = Code(
    "STOCK_QTY_NEGATIVE", object_type='row', title='Negative quantity on hand',
    template='quantity {value} must not be negative',
    action='Ask the 3PL to correct its count.',
)
STOCK_FUTURE_DATE = Code(
    "STOCK_FUTURE_DATE", object_type='row', title='Snapshot time in the future',
    template='{field} {value} is in the future',
    action="Check the partner's timezone setting and the 3PL's clock.",
)
STOCK_UNKNOWN_UOM = Code(
    "STOCK_UNKNOWN_UOM", object_type='row', title="Unit code not in the partner's uom list",
    template='{field} {value!r} is not one of {allowed}',
    action='Add the code to the partner spec or ask the 3PL.',
)
STOCK_DUPLICATE_ROW = Code(
    "STOCK_DUPLICATE_ROW", object_type='row', title='The same SKU and lot appear twice',
    template='the same ({columns}) appears more than once in the file',
    action='Ask the 3PL which count is right.',
)
STOCK_UNKNOWN_SKU = Code(
    "STOCK_UNKNOWN_SKU", object_type='row', title='The 3PL holds a SKU Odoo does not know',
    template='SKU {value} is unknown to Odoo',
    action='Create the product in Odoo (then it reconciles next time) or have the 3PL return/relabel the goods.',
)
STOCK_ADJUSTMENT_FAILED = Code(
    "STOCK_ADJUSTMENT_FAILED", object_type='reconciliation_line', title='Odoo refused an inventory adjustment',
    template='Odoo refused the adjustment: {odoo_message}',
    action="Read Odoo's message; fix and approve the line again (the adjustment is never applied twice).",
)
STOCK_SNAPSHOT_EMPTY = Code(
    "STOCK_SNAPSHOT_EMPTY", object_type='file', title='The snapshot has a header and no row',
    template='{name}: the snapshot lists no row at all; it is not reconciled and nothing is adjusted',
    action='Ask the 3PL for the complete snapshot (a real count of nothing still lists the products at 0).',
)
STOCK_NO_VALID_ROWS = Code(
    "STOCK_NO_VALID_ROWS", object_type='file', title='No row of the snapshot could be used',
    template='{name}: none of its {rows} row(s) is valid (each is its own exception); it is not reconciled and nothing is adjusted',
    action="Read the rows' exceptions (often a timestamp format or timezone setting); have the 3PL resend the snapshot corrected.",
)
STOCK_LOT_MISSING = Code(
    "STOCK_LOT_MISSING", object_type='row', title='A lot-tracked product counted without a lot',
    template='SKU {value} is tracked by {tracking} in Odoo; the count names no lot, so it is not adjusted',
    action='Ask the 3PL to count the product per lot (serial); the product is reconciled from the next snapshot.',
)
STOCK_LOT_UNKNOWN = Code(
    "STOCK_LOT_UNKNOWN", object_type='row', title='A lot Odoo does not know for a lot-tracked product',
    template='lot {value!r} of SKU {sku} is not a lot of it in Odoo; the product is not adjusted from this snapshot',
    action='Check the lot with the 3PL (a typo would create a phantom lot and write the real one off); create the lot in Odoo if it is real, then replay the snapshot.',
)

STOCK_VARIANCE_TO_APPROVE = Code(
    "STOCK_VARIANCE_TO_APPROVE", object_type='reconciliation', title='Variance lines above tolerance wait for approval',
    template='{name}: {count} variance line(s) above tolerance wait for approval in reconciliation R{value} ({keys})',
    action='Read the reconciliation report, then approve or reject the lines (Required Actions in the Airflow UI, or the stock DAG\'s params).',
)
STOCK_VARIANCE_REJECTED = Code(
    "STOCK_VARIANCE_REJECTED", object_type='reconciliation_line', title='Finance rejected a variance line',
    template='R{value}: {count} of the 3PL ({variance} vs Odoo, {amount}) rejected by {by}; not adjusted',
    action='Ask the 3PL to recount the product; approve the line later (stock DAG) if the count stands. Closes when approved.',
)


def _intake(prefix: str, what: str, moment: str, columns: str) -> tuple[Code, ...]:
    """The codes every inbound kind has for a file or value it cannot read and the suite's row checks."""
    return (
        Code(f"{prefix}_FILE_UNREADABLE", object_type="file", title=f"The {what} file cannot be read with the partner's layout",
             template="{detail}", action="The file is in the error folder with the reason on its exchange; ask the 3PL for a corrected "
             "file (or fix the layout YAML) and drop it again."),
        Code(f"{prefix}_FIELD_INVALID", object_type="row", title="A value cannot be read (not a number, wrong date format, wrong column count)",
             template="{detail}", action="Ask the 3PL to correct the row; the rest of the file was processed."),
        Code(f"{prefix}_REQUIRED_MISSING", object_type="row", title=f"A required value of the {what} line is empty",
             template="{field} is empty", action="Ask the 3PL to resend the line complete."),
        Code(f"{prefix}_QTY_INVALID", object_type="row", title="The quantity is 0 (or negative where only positive ones make sense)",
             template="quantity {value} is not allowed here", action="Ask the 3PL to correct the line."),
        Code(f"{prefix}_FUTURE_DATE", object_type="row", title=f"{moment} in the future", template="{field} {value} is in the future",
             action="Check the 3PL's clock/time zone (partner timezone) and ask for a corrected line."),
        Code(f"{prefix}_UNKNOWN_UOM", object_type="row", title="Unit code not in the partner's uom list", template="{field} {value!r} is not one of {allowed}",
             action="Add the code to the partner spec or ask the 3PL to use a known code."),
        Code(f"{prefix}_DUPLICATE_ROW", object_type="row", title=f"The same {columns} appears twice in the file",
             template="the same ({columns}) appears more than once in the file", action="Ask the 3PL which line is right."),
        Code(f"{prefix}_VALUE_NOT_ALLOWED", object_type="row", title="A value is not one the partner's spec allows (condition, disposition)",
             template="{field} {value!r} is not one of {allowed}", action="Ask the 3PL to use one of the allowed values."),
    )


# receipt confirmations <- 3PL (goods in against an incoming picking)
(RECEIPT_FILE_UNREADABLE, RECEIPT_FIELD_INVALID, RECEIPT_REQUIRED_MISSING, RECEIPT_QTY_INVALID, RECEIPT_FUTURE_DATE,
 RECEIPT_UNKNOWN_UOM, RECEIPT_DUPLICATE_ROW, RECEIPT_VALUE_NOT_ALLOWED) = _intake("RECEIPT", "receipt", "Receipt moment", "receipt/line/lot/condition")
RECEIPT_UNKNOWN_ASN = Code(
    "RECEIPT_UNKNOWN_ASN", object_type='row', title='The ASN reference matches no Odoo receipt',
    template='no Odoo picking named {value!r}',
    action='Check the reference with the 3PL (the ASN we sent names the picking).',
)
RECEIPT_NOT_OURS = Code(
    "RECEIPT_NOT_OURS", object_type='row', title="The picking is not a receipt of the partner's warehouses",
    template="{value} is not an incoming picking of {partner}'s warehouse(s) ({kind})",
    action='Check the reference with the 3PL; receive the goods in Odoo by hand if they are right.',
)
RECEIPT_PICKING_CANCELLED = Code(
    "RECEIPT_PICKING_CANCELLED", object_type='row', title='The receipt is cancelled in Odoo',
    template='{value} is cancelled in Odoo',
    action='The goods arrived anyway: purchasing decides (a new purchase order, or send them back).',
)
RECEIPT_CONFLICT = Code(
    "RECEIPT_CONFLICT", object_type='row', title='The receipt is already done in Odoo and nothing of it is open',
    template='{value} is already done in Odoo with nothing left to receive',
    action='Compare with the posted receipt; a second delivery of the supplier needs its own purchase order.',
)
RECEIPT_SKU_NOT_ON_ASN = Code(
    "RECEIPT_SKU_NOT_ON_ASN", object_type='row', title='SKU/barcode is not expected on the receipt',
    template='{value} is not expected on {picking}',
    action='Check with the 3PL (wrong item delivered?); purchasing adds it to the order if right.',
)
RECEIPT_UOM_NOT_CONVERTIBLE = Code(
    "RECEIPT_UOM_NOT_CONVERTIBLE", object_type='row', title="The reported unit cannot be converted to the receipt's unit",
    template='{qty} {value} cannot be expressed in {move_uom} for {sku}',
    action="Fix the partner's uom mapping or ask the 3PL.",
)
RECEIPT_OVER_TOLERANCE = Code(
    "RECEIPT_OVER_TOLERANCE", object_type='row', title="More received than expected, beyond the partner's tolerance",
    template='{received} received for {product} on {picking}, {open} expected (tolerance {pct}%: at most {limit})',
    action='Purchasing decides: raise the order quantity (then replay the file) or have the 3PL send the surplus back.',
)
RECEIPT_LOT_MISSING = Code(
    "RECEIPT_LOT_MISSING", object_type='row', title='Lot- or serial-tracked product received without a lot/serial',
    template='{sku} is tracked by {tracking}: the line needs one',
    action='Ask the 3PL for the lot or serial number.',
)
RECEIPT_SERIAL_QTY = Code(
    "RECEIPT_SERIAL_QTY", object_type='row', title='A serial number received for more or less than one unit',
    template='{sku} is tracked by serial number: serial {lot!r} is one unit, the line receives {units}',
    action='Ask the 3PL for one line per serial number (quantity 1 each).',
)
RECEIPT_SERIAL_DUPLICATE = Code(
    "RECEIPT_SERIAL_DUPLICATE", object_type='row', title='The same serial number received twice in the file',
    template='serial {value!r} of {sku} is already on row {first} of this file',
    action='Ask the 3PL which unit really carries the serial number; nothing of the second row was posted.',
)
RECEIPT_LOCATION_MISSING = Code(
    "RECEIPT_LOCATION_MISSING", object_type='row', title='Damaged goods have no location to go to',
    template='{why}',
    action="Create the location in Odoo (Inventory > Configuration > Locations: an internal location under the 3PL warehouse, "
           "outside its stock location) and name it in the partner spec (policy.damaged_location); replay the file.",
)
RECEIPT_LOCKED_PERIOD = Code(
    "RECEIPT_LOCKED_PERIOD", object_type='row', title='The receipt moment falls in a locked accounting period',
    template='received on {day} but the books are locked until {lock}; reopen the period or post manually',
    action='Finance decides: reopen the period and replay the file, or post manually in the open period.',
)
RECEIPT_ASN_HELD = Code(
    "RECEIPT_ASN_HELD", object_type='row', title='A valid line held because another line of the same receipt failed',
    template='receipt {value} held whole: row(s) {failed} failed',
    action='Fix the failing line; the whole receipt posts on replay (or set policy.post_valid_part).',
)
RECEIPT_POST_FAILED = Code(
    "RECEIPT_POST_FAILED", object_type='row', title='Odoo refused to validate the receipt',
    template='Odoo refused to validate {picking}: {odoo_message}',
    action="Read Odoo's message on the row, fix in Odoo, replay the file.",
)
# return receipts <- 3PL (goods back from customers)
(RETURN_FILE_UNREADABLE, RETURN_FIELD_INVALID, RETURN_REQUIRED_MISSING, RETURN_QTY_INVALID, RETURN_FUTURE_DATE,
 RETURN_UNKNOWN_UOM, RETURN_DUPLICATE_ROW, RETURN_VALUE_NOT_ALLOWED) = _intake("RETURN", "return", "Return moment", "reference/line/lot/disposition")
RETURN_NO_REFERENCE = Code(
    "RETURN_NO_REFERENCE", object_type='row', title='A return line names neither a return (RMA) nor a delivery',
    template='the line has no return_ref and no order_ref',
    action='Ask the 3PL which return or order the goods came back from.',
)
RETURN_UNKNOWN_REFERENCE = Code(
    "RETURN_UNKNOWN_REFERENCE", object_type='row', title='The reference matches no return or delivery of the partner',
    template='{value!r} is no return picking and no delivery of {partner} in Odoo',
    action='Check the reference with the 3PL.',
)
RETURN_NOT_RETURNABLE = Code(
    "RETURN_NOT_RETURNABLE", object_type='row', title='The referenced picking cannot take this return',
    template='{value} {why}',
    action='Check the reference with the 3PL; create the return in Odoo by hand if the goods are really back.',
)
RETURN_SKU_NOT_DELIVERED = Code(
    "RETURN_SKU_NOT_DELIVERED", object_type='row', title='The returned SKU was not delivered (or announced) on the referenced picking',
    template='{value} is not on {picking}',
    action='Check with the 3PL (wrong item back, or another order?).',
)
RETURN_MORE_THAN_DELIVERED = Code(
    "RETURN_MORE_THAN_DELIVERED", object_type='row', title='More returned than was delivered (less what came back before)',
    template='{returned} returned for {product} on {picking}, only {open} can come back',
    action='Check the count with the 3PL; nothing of the line was posted.',
)
RETURN_UOM_NOT_CONVERTIBLE = Code(
    "RETURN_UOM_NOT_CONVERTIBLE", object_type='row', title="The reported unit cannot be converted to the delivery's unit",
    template='{qty} {value} cannot be expressed in {move_uom} for {sku}',
    action="Fix the partner's uom mapping or ask the 3PL.",
)
RETURN_LOT_MISSING = Code(
    "RETURN_LOT_MISSING", object_type='row', title='Lot- or serial-tracked product returned without a lot/serial',
    template='{sku} is tracked by {tracking}: the line needs one',
    action='Ask the 3PL for the lot or serial number.',
)
RETURN_LOCATION_MISSING = Code(
    "RETURN_LOCATION_MISSING", object_type='row', title='The disposition has no location in Odoo',
    template='{why}',
    action="Create the location in Odoo and name it in the partner spec (policy.damaged_location for quarantine, "
           "policy.scrap_location for scrap); replay the file.",
)
RETURN_LOCKED_PERIOD = Code(
    "RETURN_LOCKED_PERIOD", object_type='row', title='The return moment falls in a locked accounting period',
    template='returned on {day} but the books are locked until {lock}; reopen the period or post manually',
    action='Finance decides: reopen the period and replay the file, or post manually in the open period.',
)
RETURN_HELD = Code(
    "RETURN_HELD", object_type='row', title='A valid line held because another line of the same return failed',
    template='return {value} held whole: row(s) {failed} failed',
    action='Fix the failing line; the whole return posts on replay (or set policy.post_valid_part).',
)
RETURN_POST_FAILED = Code(
    "RETURN_POST_FAILED", object_type='row', title='Odoo refused to create or validate the return',
    template='Odoo refused the return {picking}: {odoo_message}',
    action="Read Odoo's message on the row, fix in Odoo, replay the file.",
)
# adjustments the 3PL made on its own <- 3PL
(ADJUSTMENT_FILE_UNREADABLE, ADJUSTMENT_FIELD_INVALID, ADJUSTMENT_REQUIRED_MISSING, ADJUSTMENT_QTY_INVALID, ADJUSTMENT_FUTURE_DATE,
 ADJUSTMENT_UNKNOWN_UOM, ADJUSTMENT_DUPLICATE_ROW, ADJUSTMENT_VALUE_NOT_ALLOWED) = _intake("ADJUSTMENT", "adjustment", "Adjustment moment",
                                                                                         "SKU/lot/moment/reason")
ADJUSTMENT_UNKNOWN_SKU = Code(
    "ADJUSTMENT_UNKNOWN_SKU", object_type='row', title='The adjusted SKU is not a storable product in Odoo',
    template='{value!r} is not a storable product in Odoo',
    action='Check the SKU with the 3PL; nothing was adjusted for the line.',
)
ADJUSTMENT_REASON_UNKNOWN = Code(
    "ADJUSTMENT_REASON_UNKNOWN", object_type='row', title="The 3PL's reason code is not mapped in the partner spec",
    template='reason {value!r} is not one of {allowed}',
    action='Map the code in the partner spec (policy.adjustment_reasons) and replay the file, or ask the 3PL.',
)
ADJUSTMENT_LOT_MISSING = Code(
    "ADJUSTMENT_LOT_MISSING", object_type='row', title='Lot- or serial-tracked product adjusted without a lot/serial',
    template='{sku} is tracked by {tracking}: the line needs one',
    action='Ask the 3PL for the lot or serial number.',
)
ADJUSTMENT_LOCKED_PERIOD = Code(
    "ADJUSTMENT_LOCKED_PERIOD", object_type='row', title='The adjustment moment falls in a locked accounting period',
    template='adjusted on {day} but the books are locked until {lock}; reopen the period or post manually',
    action='Finance decides: reopen the period and replay the file, or post manually in the open period.',
)
# month end -> finance
MONTH_NOT_READY = Code(
    "MONTH_NOT_READY", object_type='month', title='The month is not ready to close',
    template='month {value}: {verdict}',
    action='Clear the blocking items the month-end report lists, then run month end again for that month.',
)

CODES: dict[str, Code] = {c.code: c for c in (
    PRODUCT_MISSING_SKU,
    PRODUCT_DUPLICATE_SKU,
    PRODUCT_DUPLICATE_BARCODE,
    PRODUCT_BAD_BARCODE,
    PRODUCT_UOM_NOT_MAPPED,
    PRODUCT_ENCODING,
    PRODUCT_FIELD_INVALID,
    ORDER_PRODUCT_NOT_AT_3PL,
    ORDER_PRODUCT_NOT_STOCKED,
    ORDER_MISSING_SKU,
    ORDER_UOM_NOT_MAPPED,
    ORDER_UOM_MISMATCH,
    ORDER_ADDRESS_INCOMPLETE,
    ORDER_ENCODING,
    ORDER_FIELD_INVALID,
    ORDER_CANCELLED_AFTER_RELEASE,
    ORDER_CHANGED_AFTER_RELEASE,
    ASN_MISSING_SKU,
    ASN_PRODUCT_NOT_AT_3PL,
    ASN_MISSING_BARCODE,
    ASN_UOM_NOT_MAPPED,
    ASN_UOM_MISMATCH,
    ASN_FIELD_INVALID,
    ASN_CANCELLED_AFTER_RELEASE,
    ASN_CHANGED_AFTER_RELEASE,
    DISPATCH_FILE_UNREADABLE,
    DISPATCH_FIELD_INVALID,
    DISPATCH_REQUIRED_MISSING,
    DISPATCH_QTY_NOT_POSITIVE,
    DISPATCH_FUTURE_DATE,
    DISPATCH_UNKNOWN_UOM,
    DISPATCH_DUPLICATE_ROW,
    DISPATCH_UNKNOWN_ORDER,
    DISPATCH_NOT_RELEASED,
    DISPATCH_PICKING_CANCELLED,
    DISPATCH_CONFLICT,
    DISPATCH_SKU_NOT_ON_PICKING,
    DISPATCH_UOM_NOT_CONVERTIBLE,
    DISPATCH_OVER_SHIPMENT,
    DISPATCH_LOT_MISSING,
    DISPATCH_LOT_UNKNOWN,
    DISPATCH_SERIAL_QTY,
    DISPATCH_SERIAL_DUPLICATE,
    DISPATCH_TRACKING_MISSING,
    DISPATCH_LOCKED_PERIOD,
    DISPATCH_ORDER_HELD,
    DISPATCH_POST_FAILED,
    DISPATCH_PENDING_AT_3PL,
    STOCK_FILE_UNREADABLE,
    STOCK_FIELD_INVALID,
    STOCK_REQUIRED_MISSING,
    STOCK_QTY_NEGATIVE,
    STOCK_FUTURE_DATE,
    STOCK_UNKNOWN_UOM,
    STOCK_DUPLICATE_ROW,
    STOCK_UNKNOWN_SKU,
    STOCK_ADJUSTMENT_FAILED,
    STOCK_SNAPSHOT_EMPTY,
    STOCK_NO_VALID_ROWS,
    STOCK_LOT_MISSING,
    STOCK_LOT_UNKNOWN,
    STOCK_VARIANCE_TO_APPROVE,
    STOCK_VARIANCE_REJECTED,
    RECEIPT_FILE_UNREADABLE,
    RECEIPT_FIELD_INVALID,
    RECEIPT_REQUIRED_MISSING,
    RECEIPT_QTY_INVALID,
    RECEIPT_FUTURE_DATE,
    RECEIPT_UNKNOWN_UOM,
    RECEIPT_DUPLICATE_ROW,
    RECEIPT_VALUE_NOT_ALLOWED,
    RECEIPT_UNKNOWN_ASN,
    RECEIPT_NOT_OURS,
    RECEIPT_PICKING_CANCELLED,
    RECEIPT_CONFLICT,
    RECEIPT_SKU_NOT_ON_ASN,
    RECEIPT_UOM_NOT_CONVERTIBLE,
    RECEIPT_OVER_TOLERANCE,
    RECEIPT_LOT_MISSING,
    RECEIPT_SERIAL_QTY,
    RECEIPT_SERIAL_DUPLICATE,
    RECEIPT_LOCATION_MISSING,
    RECEIPT_LOCKED_PERIOD,
    RECEIPT_ASN_HELD,
    RECEIPT_POST_FAILED,
    RETURN_FILE_UNREADABLE,
    RETURN_FIELD_INVALID,
    RETURN_REQUIRED_MISSING,
    RETURN_QTY_INVALID,
    RETURN_FUTURE_DATE,
    RETURN_UNKNOWN_UOM,
    RETURN_DUPLICATE_ROW,
    RETURN_VALUE_NOT_ALLOWED,
    RETURN_NO_REFERENCE,
    RETURN_UNKNOWN_REFERENCE,
    RETURN_NOT_RETURNABLE,
    RETURN_SKU_NOT_DELIVERED,
    RETURN_MORE_THAN_DELIVERED,
    RETURN_UOM_NOT_CONVERTIBLE,
    RETURN_LOT_MISSING,
    RETURN_LOCATION_MISSING,
    RETURN_LOCKED_PERIOD,
    RETURN_HELD,
    RETURN_POST_FAILED,
    ADJUSTMENT_FILE_UNREADABLE,
    ADJUSTMENT_FIELD_INVALID,
    ADJUSTMENT_REQUIRED_MISSING,
    ADJUSTMENT_QTY_INVALID,
    ADJUSTMENT_FUTURE_DATE,
    ADJUSTMENT_UNKNOWN_UOM,
    ADJUSTMENT_DUPLICATE_ROW,
    ADJUSTMENT_VALUE_NOT_ALLOWED,
    ADJUSTMENT_UNKNOWN_SKU,
    ADJUSTMENT_REASON_UNKNOWN,
    ADJUSTMENT_LOT_MISSING,
    ADJUSTMENT_LOCKED_PERIOD,
    MONTH_NOT_READY,
)}


# value-level problems found by the formats layer (reading or writing one value of a file). They are never stored
# as such: each flow reports them under its own code (DISPATCH_FIELD_INVALID, PRODUCT_ENCODING, ...).
def _value(name: str, title: str) -> Code:
    return Code(name, object_type="value", title=title, template="{detail}", action="(reported under the flow's own code)")


FIELD_REQUIRED = _value("FIELD_REQUIRED", "a required value is empty")
FIELD_TYPE = _value("FIELD_TYPE", "a value cannot be read as its type (number, date)")
FIELD_TOO_LONG = _value("FIELD_TOO_LONG", "a value is longer than the layout allows")
FIELD_PATTERN = _value("FIELD_PATTERN", "a value does not match the layout's pattern")
FIELD_ENUM = _value("FIELD_ENUM", "a value is not one of the layout's values")
FIELD_RANGE = _value("FIELD_RANGE", "a number or date outside the layout's range or what the ledger can hold (12 integer "
                     "digits, 4 places; dates 2000-01-01 .. 2099-12-31)")
FIELD_NOT_WRITABLE = _value("FIELD_NOT_WRITABLE", "a value holds a delimiter, quote or line break the layout cannot carry")
ENCODING_UNSUPPORTED = _value("ENCODING_UNSUPPORTED", "a character the file's encoding cannot carry")
ROW_SHAPE = _value("ROW_SHAPE", "a line has the wrong number of columns or width")

VALUE_CODES: dict[str, Code] = {c.code: c for c in (FIELD_REQUIRED, FIELD_TYPE, FIELD_TOO_LONG, FIELD_PATTERN, FIELD_ENUM, FIELD_RANGE,
                                                      FIELD_NOT_WRITABLE, ENCODING_UNSUPPORTED, ROW_SHAPE)}


def _catalogued(name: str) -> Code:
    return CODES.get(name) or VALUE_CODES[name]


def code(name: str) -> Code:
    """The catalogue entry for a code name (e.g. one named in an expectation suite's meta)."""
    try:
        return CODES[name]
    except KeyError:
        raise KeyError(f"unknown exception code {name!r}: add it to threepl_bridge/codes.py") from None
