"""What the stand-in says and does where Odoo versions differ: each entry as a live server of that version answered
(17.0: ../shared/odoo17-contract and contract/flows; 18.0 and 19.0: contract/18.0/flows and contract/19.0/flows,
the call sequences of the contract tests recorded against those servers). An entry of the newest version listed
applies to the later ones; ``{...}`` fields are filled by the caller."""

from __future__ import annotations

from typing import Any

MESSAGES: dict[str, dict[int, str]] = {
    "private_method": {17: "Private methods (such as {method}) cannot be called remotely.",
                       19: "Private methods (such as '{model}.{method}') cannot be called remotely."},
    "unknown_method": {17: "The method '{method}' does not exist on the model '{model}'",
                       19: "The method '{model}.{method}' does not exist"},
    "invalid_field": {17: "Invalid field {field!r} on model {model!r}", 19: "Invalid field {field!r} on {model!r}"},
    "invalid_create_field": {17: "Invalid field {field!r} on model {model!r}", 19: "Invalid field {field!r} in {model!r}"},
    "invalid_leaf": {17: "Invalid field {model}.{field} in leaf {leaf!r}", 19: "Invalid field {model}.{field} in condition {leaf!r}"},
    "required_field": {
        17: "The operation cannot be completed:\n- Create/update: a mandatory field is not set.\n"
            "- Delete: another model requires the record being deleted. If possible, archive it instead.\n\n"
            "Model: {description} ({model})\nField: {label} ({field})\n",
        19: "The operation cannot be completed: Missing required value for the field '{label}' ({field}).\n"
            "Model: '{description}' ({model})\n- create/update: a mandatory field is not set\n"
            "- delete: another model requires the record being deleted, you can archive it instead\n"},
    "nothing_reserved": {
        17: "You cannot validate a transfer if no quantities are reserved. To force the transfer, encode quantities.",
        19: "Transfer trouble alert! Validating a zero quantity transfer? You're not moving invisible goods around are you?\n"
            "Set some quantities and let's get moving!"},
    "lot_missing_one": {17: "You need to supply a Lot/Serial Number for product: \n - {products}",
                        18: "You need to supply a Lot/Serial Number for product:\n- {products}"},
    "lot_missing_one_joiner": {17: "\n - ", 18: "\n- "},
    "order_not_confirmable": {17: "The following orders are not in a state requiring confirmation: {orders}",
                              18: "Some orders are not in a state requiring confirmation."},
    "lot_unique": {17: "The combination of serial number and product must be unique across a company.\n"
                       "Following combination contains duplicates:\n - Product: {product}, Serial Number: {lot}",
                   18: "The combination of lot/serial number and product must be unique within a company including "
                       "when no company is defined.\nThe following combinations contain duplicates:\n"
                       " - Product: {product}, Lot/Serial Number: {lot}"},
    "access_group_rights": {17: "Administration/Access Rights", 19: "Access Rights"},
    "access_group_settings": {17: "Administration/Settings", 19: "Role / Administrator"},
}

BEHAVIOURS: dict[str, dict[int, Any]] = {
    # the quantity a return wizard's line starts at: what was delivered (17) or nothing (18)
    "return_line_starts_at_zero": {17: False, 18: True},
    # stock.return.picking's button: create_returns (17), action_create_returns (18; create_returns stays too)
    "action_create_returns": {17: False, 18: True},
    # an assigned delivery of an auto-batch type with nothing to batch with stays alone (17) or gets a batch of
    # its own (18: stock_picking_batch's _find_auto_batch "create a batch with the current picking alone")
    "auto_batch_alone": {17: False, 18: True},
    # a backorder is announced in the chatter as the API user, who needs an email (17, 18); 19 does not post it
    "backorder_needs_email": {17: True, 19: False},
    # stock valuation: a layer and a journal entry per valued move (17, 18); 19 has no layers (moves carry their
    # value) and books a move only when it crosses a location with a valuation account
    # (stock.location.valuation_account_id), which no location has by default: no stock move has an entry
    "stock_moves_unbooked": {17: False, 19: True},
    # a many2one written with a text that is no id: a database error (17, 18) or stored as empty (19: the ORM's
    # Many2one.convert_to_cache maps any other value to None)
    "many2one_text_is_empty": {17: False, 19: True},
    # batch names: BATCH/00001 (17, 18), BATCH/OUT/00001 (19: the operation type's sequence code inserted)
    "batch_name_by_type": {17: False, 19: True},
}


def _pick(table: dict[int, Any], major: int) -> Any:
    return table[max(v for v in table if v <= major)]


def says(major: int, key: str, **fields: Any) -> str:
    """The text a version answers with, ``fields`` filled in."""
    return _pick(MESSAGES[key], major).format(**fields)


def does(major: int, key: str) -> Any:
    """How a version behaves where versions differ."""
    return _pick(BEHAVIOURS[key], major)
