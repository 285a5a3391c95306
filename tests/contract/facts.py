"""What the contract tests expect that differs between Odoo versions: messages and behaviours, each as a live
server of that version answered (17.0: ../shared/odoo17-contract and contract/flows; 18.0 and 19.0: the servers
behind contract/18.0 and contract/19.0, 2026-12-02). A fact of the newest version listed applies to later ones."""

from __future__ import annotations

from typing import Any

FACTS: dict[str, dict[int, Any]] = {
    # button_validate of a lot-tracked line without a lot
    "lot_missing_one": {17: r"You need to supply a Lot/Serial Number for product: \n - \[CT-",
                        18: r"You need to supply a Lot/Serial Number for product:\n- \[CT-"},
    # button_validate of a delivery of a serial number already delivered (stock.quant.check_quantity)
    "serial_assigned": {17: r"The serial number has already been assigned: \n Product: \[CT-[^\]]+\] Contract PHONE, Serial Number: SN-1-"},
    "order_not_confirmable": {17: "The following orders are not in a state requiring confirmation: ",
                              18: "Some orders are not in a state requiring confirmation."},
    # a return wizard's line starts at the quantity delivered (17) or at 0 (18)
    "return_line_quantity": {17: 3.0, 18: 0.0},
    # the backorder of a partly shipped auto-batched picking is put in a batch again (18) or not (17)
    "backorder_batched": {17: False, 18: True},
    "private_method": {17: r"Private methods \(such as _action_done\) cannot be called remotely.",
                       19: r"Private methods \(such as 'stock.picking._action_done'\) cannot be called remotely."},
    "invalid_read_field": {17: "ValueError: Invalid field 'x_no_such_field' on model 'stock.picking'",
                           19: "ValueError: Invalid field 'x_no_such_field' on 'stock.picking'"},
    "invalid_leaf": {17: r"ValueError: Invalid field stock.picking.x_no_such_field in leaf \('x_no_such_field', '=', 1\)",
                     19: r"ValueError: Invalid field stock.picking.x_no_such_field in condition \('x_no_such_field', '=', 1\)"},
    "invalid_create_field": {17: "ValueError: Invalid field 'x_no_such_field' on model 'res.partner'",
                             19: "ValueError: Invalid field 'x_no_such_field' in 'res.partner'"},
    "required_field": {17: r"(?s)a mandatory field is not set.*\nField: Destination Location \(location_dest_id\)",
                       19: r"(?s)Missing required value for the field 'Destination Location' \(location_dest_id\).*a mandatory field is not set"},
    "required_model": {17: "Model: Transfer (stock.picking)", 19: "Model: 'Transfer' (stock.picking)"},
    # a user without an email may not validate with a backorder (its chatter message needs a sender) (17, 18) or may (19)
    "backorder_needs_email": {17: True, 19: False},
    # stock.return.picking had no action_create_returns before 19
    "returns_action_create_returns": {17: False, 18: True},
    "unknown_method": {17: "AttributeError: The method 'do_something_nonexistent' does not exist on the model 'stock.picking'",
                       19: "The method 'stock.picking.do_something_nonexistent' does not exist"},
    "lot_unique": {17: "The combination of serial number and product must be unique across a company.",
                   18: "The combination of lot/serial number and product must be unique within a company"},
    # a many2one written with a text that is no id: a database error (17, 18) or stored as empty (19)
    "many2one_text_is_empty": {17: False, 19: True},
    "nothing_reserved": {17: "You cannot validate a transfer if no quantities are reserved",
                         19: "Validating a zero quantity transfer?"},
}


def fact(major: int, key: str) -> Any:
    known = FACTS[key]
    return known[max(v for v in known if v <= major)]
