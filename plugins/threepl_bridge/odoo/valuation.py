"""Stock moves valued in a period, whatever the Odoo version keeps the valuation in.

Before Odoo 19 a move's value is in its ``stock.valuation.layer`` records and its journal entry points to it
(``account.move.stock_move_id``); the period is the entry's date (``force_period_date`` at posting). From Odoo 19
there are no layers: the move carries its ``value`` and points to its entry (``account_move_id``, only when the
move's locations are valued in the books); the period is the move's date, which posting back-dates to the
physical movement.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo
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


# ------------------------------------------------------------------ the books: valuation bridge and GL tie-out

LAYER_FIELDS = ["product_id", "categ_id", "quantity", "value", "stock_move_id", "account_move_id", "create_date"]
MOVE_19_FIELDS = ["product_id", "product_qty", "value", "account_move_id", "date", "location_id", "location_dest_id"]
BOOK_MOVE_FIELDS = ["location_id", "location_dest_id", "is_inventory", "picking_id", "reference", "origin_returned_move_id"]
ENTRY_FIELDS = ["name", "date", "state", "ref"]
LINE_FIELDS = ["move_id", "account_id", "date", "balance", "name"]
CATEGORY_FIELDS = ["property_valuation", "property_stock_valuation_account_id"]


@dataclass(frozen=True)
class Booked:
    """One value in Odoo's stock books: a valuation layer (Odoo 17, 18) or a valued stock move (19), signed (goods
    in positive), with its journal entry when it has one."""

    id: int
    product_id: int
    category_id: int | None
    quantity: Decimal
    value: Decimal
    created: str  # the day it was created, in the company's calendar (YYYY-MM-DD)
    move_id: int | None
    entry_id: int | None
    entry_date: str | None  # YYYY-MM-DD
    entry_state: str | None
    entry_name: str | None

    def moment(self) -> str:
        """Its date in the books: the entry's date when posted (back-dated to the physical movement), else the day it
        was created."""
        return self.entry_date if self.entry_date and self.entry_state == "posted" else self.created


def _day(stamp: Any, tz: tzinfo) -> str:
    """Odoo's UTC datetime ("YYYY-MM-DD HH:MM:SS") as the day in ``tz``."""
    return datetime.fromisoformat(str(stamp)).replace(tzinfo=timezone.utc).astimezone(tz).date().isoformat()


def booked(client: OdooClient, company_id: int, tz: tzinfo = timezone.utc) -> list[Booked]:
    """Every value of the company's stock books, in id order, with its journal entry (creation days in ``tz``, the
    company's calendar)."""
    if client.dialect.has_valuation_layers:
        layers = list(client.search_read_all("stock.valuation.layer", [["company_id", "=", company_id]], LAYER_FIELDS))
        entries = client.read_by_id("account.move", sorted({l["account_move_id"][0] for l in layers if l.get("account_move_id")}), ENTRY_FIELDS)
        out = []
        for l in layers:
            entry = entries.get(l["account_move_id"][0]) if l.get("account_move_id") else None
            out.append(Booked(l["id"], l["product_id"][0], l["categ_id"][0] if l.get("categ_id") else None, Decimal(str(l["quantity"])),
                              Decimal(str(l["value"])), _day(l["create_date"], tz), l["stock_move_id"][0] if l.get("stock_move_id") else None,
                              entry["id"] if entry else None, entry["date"] if entry else None, entry["state"] if entry else None,
                              entry["name"] if entry else None))
        return out
    moves = [m for m in client.search_read_all("stock.move", [["company_id", "=", company_id], ["state", "=", "done"]], MOVE_19_FIELDS)
             if m.get("value")]
    internal = {l["id"] for l in client.read("stock.location", sorted({m[k][0] for m in moves for k in ("location_id", "location_dest_id")}),
                                             ["usage"]) if l["usage"] == "internal"}
    categories = {p["id"]: p["categ_id"][0] for p in client.read("product.product", sorted({m["product_id"][0] for m in moves}), ["categ_id"])}
    entries = client.read_by_id("account.move", sorted({m["account_move_id"][0] for m in moves if m.get("account_move_id")}), ENTRY_FIELDS)
    out = []
    for m in moves:
        sign = 1 if m["location_dest_id"][0] in internal and m["location_id"][0] not in internal else -1
        entry = entries.get(m["account_move_id"][0]) if m.get("account_move_id") else None
        out.append(Booked(m["id"], m["product_id"][0], categories.get(m["product_id"][0]), sign * abs(Decimal(str(m["product_qty"]))),
                          sign * abs(Decimal(str(m["value"]))), _day(m["date"], tz), m["id"], entry["id"] if entry else None,
                          entry["date"] if entry else None, entry["state"] if entry else None, entry["name"] if entry else None))
    return out


def book_moves(client: OdooClient, values: list[Booked]) -> dict[int, dict[str, Any]]:
    """The stock moves behind ``values``: locations, inventory flag, picking, reference, returned move."""
    return client.read_by_id("stock.move", sorted({v.move_id for v in values if v.move_id}), BOOK_MOVE_FIELDS)


def valuation_accounts(client: OdooClient, category_ids: list[int]) -> dict[int, int]:
    """Category id -> its stock valuation account, for the categories valued in real time (automated)."""
    categories = client.read("product.category", category_ids, CATEGORY_FIELDS)
    return {c["id"]: c["property_stock_valuation_account_id"][0] for c in categories
            if c.get("property_valuation") == "real_time" and c.get("property_stock_valuation_account_id")}


def ledger_lines(client: OdooClient, account_ids: list[int], last: date, company_id: int) -> list[dict[str, Any]]:
    """The posted journal items on ``account_ids`` dated up to ``last`` (the general ledger of those accounts)."""
    if not account_ids:
        return []
    domain = [["account_id", "in", sorted(account_ids)], ["parent_state", "=", "posted"], ["date", "<=", last.isoformat()],
              ["company_id", "=", company_id]]
    return list(client.search_read_all("account.move.line", domain, LINE_FIELDS))


def entries_of(client: OdooClient, entry_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Journal entries by id, with the stock move they value (``stock_move_id``; 19: ``stock_move_ids``)."""
    link = "stock_move_id" if client.dialect.has_valuation_layers else "stock_move_ids"
    return client.read_by_id("account.move", entry_ids, [*ENTRY_FIELDS, link])
