"""The month's books for finance: the valuation bridge of a partner's warehouses and the general-ledger tie-out.

**Bridge**: opening value + receipts + returns - dispatches +/- adjustments = closing value of the partner's
stock locations, from Odoo's stock valuation layers (17, 18; valued moves from 19) of the moves that cross the
partner's locations, each dated by its place in the books (:meth:`~threepl_bridge.odoo.valuation.Booked.moment`:
the journal entry's date when posted, which posting back-dates to the physical movement). Every line names its
document (picking or move reference), so the CSV beside the report drills down to each one.

**Tie-out**: the general ledger's balance of the stock valuation account(s) of the partner's product categories
(posted journal items up to the close) against the valuation layers of every product of those categories at the
same moment (the account is shared by every warehouse of the company: the tie-out is company-wide). Every
difference is listed by journal entry: an entry on the account without a layer (a manual entry), a layer without
an entry, a layer whose entry is not posted. Beside it, the layers *created* by the close (what Odoo's Inventory
Valuation report shows for the date) and what differs from the books by date: entries back-dated into the period
after it ended (posted late) and entries of goods moved before the close dated after it (a lock date, a draft).

Read-only: the API user needs Accounting / Read-only for the journal items (README, contract F00).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timezone, tzinfo
from decimal import Decimal
from typing import Any

from threepl_bridge.odoo.client import OdooClient
from threepl_bridge.odoo.valuation import Booked, book_moves, booked, entries_of, ledger_lines, valuation_accounts

CENT = Decimal("0.01")
KINDS = ("receipts", "returns", "dispatches", "adjustments")


@dataclass(frozen=True)
class BookLine:
    kind: str  # receipts, returns, dispatches, adjustments
    moment: str  # YYYY-MM-DD
    document: str
    sku: str
    quantity: Decimal
    unit: str  # the product's unit of measure in Odoo
    value: Decimal
    entry: str
    created: str  # the day the layer was created (company calendar)
    late: bool  # created after the month ended, dated in it


@dataclass
class Bridge:
    opening: Decimal = Decimal(0)
    lines: list[BookLine] = field(default_factory=list)

    def total(self, kind: str) -> Decimal:
        return sum((l.value for l in self.lines if l.kind == kind), Decimal(0))

    @property
    def closing(self) -> Decimal:
        return self.opening + sum((l.value for l in self.lines), Decimal(0))

    def steps(self) -> list[tuple[str, Decimal]]:
        return [("opening", self.opening), *((k, self.total(k)) for k in KINDS), ("closing", self.closing)]


@dataclass(frozen=True)
class TieItem:
    entry: str  # the journal entry's name (or the layer's reference when it has none)
    date: str
    reason: str  # entry_without_layer, layer_without_entry, entry_not_posted, posted_late, dated_after_close
    amount: Decimal  # effect on GL minus layers (books) or on books minus Odoo's report by creation date
    detail: str


@dataclass
class TieOut:
    accounts: list[str] = field(default_factory=list)
    gl_balance: Decimal = Decimal(0)
    layers_value: Decimal = Decimal(0)  # by the books' date
    created_value: Decimal = Decimal(0)  # by creation date (Odoo's Inventory Valuation report at the close)
    differences: list[TieItem] = field(default_factory=list)  # explain gl_balance - layers_value
    dating: list[TieItem] = field(default_factory=list)  # explain layers_value - created_value
    booked: bool = True  # whether the version books stock moves in the general ledger at all (19: not by default)

    @property
    def difference(self) -> Decimal:
        return (self.gl_balance - self.layers_value).quantize(CENT)

    @property
    def ties(self) -> bool:
        return self.difference == 0


def compute_books(client: OdooClient, company_id: int, locations: set[int], first: date, last: date,
                  tz: tzinfo = timezone.utc) -> tuple[Bridge, TieOut]:
    """The bridge and the tie-out of the month ``first``..``last`` (days in ``tz``, the company's calendar)."""
    values = booked(client, company_id, tz)
    moves = book_moves(client, values)
    products = client.read_by_id("product.product", sorted({v.product_id for v in values}), ["default_code", "display_name", "uom_id"])
    skus = {pid: p.get("default_code") or p["display_name"] for pid, p in products.items()}
    units = {pid: p["uom_id"][1] if p.get("uom_id") else "" for pid, p in products.items()}
    bridge, partner_categories = Bridge(), set()
    for v in values:
        move = moves.get(v.move_id or 0)
        if move is None:
            continue
        src_in, dest_in = move["location_id"][0] in locations, move["location_dest_id"][0] in locations
        if src_in == dest_in:
            continue
        if v.category_id:
            partner_categories.add(v.category_id)
        moment = v.moment()
        if moment < first.isoformat():
            bridge.opening += v.value
        elif moment <= last.isoformat():
            kind = ("adjustments" if move.get("is_inventory") else
                    ("returns" if move.get("origin_returned_move_id") else "receipts") if dest_in else "dispatches")
            document = move["picking_id"][1] if move.get("picking_id") else (move.get("reference") or f"stock.move {move['id']}")
            bridge.lines.append(BookLine(kind, moment, document, skus.get(v.product_id, str(v.product_id)), v.quantity,
                                         units.get(v.product_id, ""), v.value, v.entry_name or "", v.created, v.created > last.isoformat()))
    bridge.lines.sort(key=lambda l: (KINDS.index(l.kind), l.moment, l.document, l.sku))
    return bridge, tie_out(client, company_id, values, partner_categories, last, skus)


def tie_out(client: OdooClient, company_id: int, values: list[Booked], categories: set[int], last: date,
            skus: dict[int, str] | None = None) -> TieOut:
    accounts = valuation_accounts(client, sorted({v.category_id for v in values if v.category_id} | categories))
    out = TieOut(booked=client.dialect.books_stock_moves)
    account_ids = sorted({accounts[c] for c in categories if c in accounts})
    if not account_ids:
        return out
    # every value booked on those accounts, whatever warehouse or category: the account is the company's
    mine = [v for v in values if accounts.get(v.category_id or 0) in account_ids]
    lines = ledger_lines(client, account_ids, last, company_id)
    out.accounts = sorted({l["account_id"][1] for l in lines} | {str(a) for a in account_ids if a not in {l["account_id"][0] for l in lines}})
    out.gl_balance = sum((Decimal(str(l["balance"])) for l in lines), Decimal(0)).quantize(CENT)
    cut = last.isoformat()
    out.layers_value = sum((v.value for v in mine if v.moment() <= cut), Decimal(0)).quantize(CENT)
    out.created_value = sum((v.value for v in mine if v.created <= cut), Decimal(0)).quantize(CENT)
    layered = {v.entry_id for v in mine if v.entry_id}
    by_entry: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for l in lines:
        if l["move_id"][0] not in layered:
            by_entry[l["move_id"][0]].append(l)
    entries = entries_of(client, sorted(by_entry))
    for entry_id, items in sorted(by_entry.items()):
        entry = entries.get(entry_id, {})
        amount = sum((Decimal(str(l["balance"])) for l in items), Decimal(0)).quantize(CENT)
        if not amount:
            continue  # an entry of zero on the account (a product valued at zero) explains nothing
        linked = entry.get("stock_move_id") or entry.get("stock_move_ids")
        out.differences.append(TieItem(entry.get("name") or items[0]["move_id"][1], str(items[0]["date"]), "entry_without_layer", amount,
                                       (f"{entry.get('ref') or items[0].get('name') or ''}".strip() or "a journal entry")
                                       + (" of a stock move whose layer is not on this account" if linked else " posted on the account by hand")))
    unbooked: dict[int, Decimal] = defaultdict(Decimal)  # product -> its layers without an entry, up to the close
    for v in mine:
        if v.entry_id is None and v.created <= cut:
            unbooked[v.product_id] += v.value
    for v in mine:
        if v.moment() > cut and v.created > cut:
            continue
        ref = v.entry_name or f"layer {v.id} ({(skus or {}).get(v.product_id, v.product_id)})"
        if v.entry_id is None and v.created <= cut and out.booked and unbooked[v.product_id].quantize(CENT) != 0:
            # (a product's entry-less layers that cancel out - the out and in of a costing change while it was
            # valued periodically - leave the books as they are: not listed)
            out.differences.append(TieItem(ref, v.created, "layer_without_entry", -v.value, "a valuation layer with no journal entry"))
        elif v.entry_id is not None and v.entry_state != "posted" and v.created <= cut:
            out.differences.append(TieItem(ref, v.entry_date or "", "entry_not_posted", -v.value, f"its journal entry is {v.entry_state}"))
        elif v.entry_state == "posted" and v.created > cut >= (v.entry_date or ""):
            out.dating.append(TieItem(ref, v.entry_date or "", "posted_late", v.value, f"created {v.created}, dated in the period"))
        elif v.entry_state == "posted" and v.created <= cut < (v.entry_date or ""):
            out.dating.append(TieItem(ref, v.entry_date or "", "dated_after_close", -v.value,
                                      f"goods moved {v.created}, entry dated after the close (lock date?)"))
    out.differences.sort(key=lambda i: (i.date, i.entry))
    out.dating.sort(key=lambda i: (i.date, i.entry))
    return out
