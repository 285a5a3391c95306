"""Stock moves valued in a period, whatever the Odoo version keeps the valuation in.

Before Odoo 19 a move's value is in its ``stock.valuation.layer`` records and its journal entry points to it
(``account.move.stock_move_id``); the period is the entry's date (``force_period_date`` at posting). From Odoo 19
there are no layers: the move carries its ``value`` and points to its entry (``account_move_id``, only when the
move's locations are valued in the books); the period is the move's date, which posting back-dates to the
physical movement.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from threepl_bridge.odoo.client import OdooClient

MOVE_FIELDS = ["location_id", "location_dest_id", "is_inventory", "picking_id", "product_qty"]


@dataclass(frozen=True)
class ValuedMove:
    move: dict[str, Any]
    quantity: Decimal  # unsigned, in the product's unit
    value: Decimal  # unsigned, in the company's currency
    posted: bool  # its journal entry is posted (or it needs none)


def valued_moves(client: OdooClient, first: date, last: date) -> list[ValuedMove]:
    """The stock moves whose valuation falls between ``first`` and ``last`` (inclusive), in entry/move id order."""
    if client.dialect.has_valuation_layers:
        entries = client.execute("account.move", "search_read", [["date", ">=", first.isoformat()], ["date", "<=", last.isoformat()],
                                                                 ["stock_move_id", "!=", False]], fields=["stock_move_id", "state"])
        moves = client.read_by_id("stock.move", sorted({e["stock_move_id"][0] for e in entries}), MOVE_FIELDS)
        layers: dict[int, list[Decimal]] = {}
        for layer in client.search_read_in("stock.valuation.layer", "stock_move_id", moves, ["stock_move_id", "quantity", "value"]):
            acc = layers.setdefault(layer["stock_move_id"][0], [Decimal(0), Decimal(0)])
            acc[0] += Decimal(str(layer["quantity"]))
            acc[1] += Decimal(str(layer["value"]))
        out = []
        for entry in sorted(entries, key=lambda e: e["id"]):
            move = moves.get(entry["stock_move_id"][0])
            if move is not None:
                qty, value = layers.get(move["id"], [Decimal(0), Decimal(0)])
                out.append(ValuedMove(move, abs(qty), abs(value), entry["state"] == "posted"))
        return out
    domain = [["state", "=", "done"], ["date", ">=", f"{first.isoformat()} 00:00:00"], ["date", "<", f"{(last + timedelta(days=1)).isoformat()} 00:00:00"]]
    moves = list(client.search_read_all("stock.move", domain, [*MOVE_FIELDS, "value", "account_move_id"]))
    entry_ids = sorted({m["account_move_id"][0] for m in moves if m.get("account_move_id")})
    states = {e["id"]: e["state"] for e in client.read("account.move", entry_ids, ["state"])} if entry_ids else {}
    return [ValuedMove(m, abs(Decimal(str(m["product_qty"]))), abs(Decimal(str(m.get("value") or 0))),
                       not m.get("account_move_id") or states.get(m["account_move_id"][0]) == "posted") for m in moves]
