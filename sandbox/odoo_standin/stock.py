"""Stock, valuation, sales, purchases and returns in the stand-in, after the contract's flows F1-F9."""

from __future__ import annotations

from datetime import date
from typing import Any

from sandbox.odoo_standin.models import (
    ACC_INTERIM_DELIVERED,
    ACC_INTERIM_RECEIVED,
    ACC_VALUATION,
    CUSTOMERS_LOCATION,
    INVENTORY_LOSS_LOCATION,
    STOCK_JOURNAL,
    SUPPLIERS_LOCATION,
    Chatter,
)
from sandbox.odoo_standin.orm import Model, OdooFault, fmt_dt, user_error, validation_error

EPS = 1e-9
QTY_DIGITS = 2  # decimal.precision "Product Unit of Measure" of a default 17.0 database: quantities are rounded to it


def stored_qty(value: Any) -> float:
    """A quantity as Odoo stores it: a Float field with digits is rounded to them when written (seen on a real 17.0
    server: inventory_quantity_auto_apply 9.8333... is applied as 9.83, by a move of 0.33)."""
    return round(float(value), QTY_DIGITS)


def _act_window(name: str, res_model: str, view_id: int, context: dict[str, Any], res_id: int | None = None) -> dict[str, Any]:
    action: dict[str, Any] = {
        "name": name, "type": "ir.actions.act_window", "view_mode": "form", "res_model": res_model,
        "views": [[view_id, "form"]], "view_id": view_id, "target": "new",
    }
    if res_id is not None:
        action["res_id"] = res_id
    action["context"] = context
    return action


BYPASS_RESERVATION = ("supplier", "customer", "inventory", "production")  # stock.location.should_bypass_reservation


class StockQuant(Model):
    _name = "stock.quant"
    _order = "location_id, lot_id, id"

    def defaults(self, values: dict[str, Any]) -> dict[str, Any]:
        return {"in_date": fmt_dt(self.env.now()), "reserved_quantity": 0.0, "quantity": 0.0, "company_id": 1}

    def computed(self):  # type: ignore[no-untyped-def]
        return {
            "available_quantity": lambda r: r.get("quantity", 0.0) - r.get("reserved_quantity", 0.0),
            "inventory_diff_quantity": lambda r: (r.get("inventory_quantity", 0.0) - r.get("quantity", 0.0)) if r.get("inventory_quantity_set") else 0.0,
            "inventory_quantity_auto_apply": lambda r: r.get("quantity", 0.0),
            "value": lambda r: r.get("quantity", 0.0) * self.env["stock.valuation.layer"].unit_cost(r["product_id"]),
        }

    def find(self, product_id: int, location_id: int, lot_id: int | bool) -> dict[str, Any] | None:
        for q in self.records.values():
            if q["product_id"] == product_id and q["location_id"] == location_id and (q.get("lot_id") or False) == (lot_id or False):
                return q
        return None

    def ensure(self, product_id: int, location_id: int, lot_id: int | bool) -> dict[str, Any]:
        found = self.find(product_id, location_id, lot_id)
        if found is None:
            rid = Model.create_one(self, {"product_id": product_id, "location_id": location_id, "lot_id": lot_id or False})
            found = self.records[rid]
        return found

    def create_one(self, values: dict[str, Any]) -> int:
        values = dict(values)
        auto = values.pop("inventory_quantity_auto_apply", None)
        counted = values.pop("inventory_quantity", None)
        quant = self.ensure(values["product_id"], values["location_id"], values.get("lot_id") or False)
        if "quantity" in values:  # the bypass the contract warns about: no move, no valuation (F6 D)
            quant["quantity"] = float(values["quantity"])
        for k in ("accounting_date", "inventory_date"):
            if k in values:
                quant[k] = values[k]
        if counted is not None:
            quant["inventory_quantity"], quant["inventory_quantity_set"] = stored_qty(counted), True
        if auto is not None:
            self._apply(quant, stored_qty(auto))
        return quant["id"]

    def write(self, ids: list[int], values: dict[str, Any], context: dict[str, Any]) -> bool:
        values = dict(values)
        for name in values:
            self.field_def(name)
        auto = values.pop("inventory_quantity_auto_apply", None)
        counted = values.pop("inventory_quantity", None)
        super().write(ids, values, context)
        for quant in self.browse_existing(ids):
            if counted is not None:
                quant["inventory_quantity"], quant["inventory_quantity_set"] = stored_qty(counted), True
            if auto is not None:
                self._apply(quant, stored_qty(auto))
        return True

    def rpc_action_apply_inventory(self, ids: list[int], **_: Any) -> None:
        for quant in self.browse_existing(ids):
            self._apply(quant, quant.get("inventory_quantity", 0.0))
        return None  # the real method returns None: "cannot marshal None" over XML-RPC (F6 A)

    def _apply(self, quant: dict[str, Any], counted: float) -> None:
        diff = stored_qty(counted - quant.get("quantity", 0.0))
        accounting_date = quant.get("accounting_date") or None
        quant["inventory_quantity"], quant["inventory_quantity_set"], quant["accounting_date"] = 0.0, False, False
        if abs(diff) < EPS:
            return
        user = self.env["res.users"].records[self.env.uid]
        name = self.env.context.get("inventory_name") or f"Product Quantity Updated ({user['name']})"
        src, dest = (INVENTORY_LOSS_LOCATION, quant["location_id"]) if diff > 0 else (quant["location_id"], INVENTORY_LOSS_LOCATION)
        product = self.env["product.product"].records[quant["product_id"]]
        moves: StockMove = self.env["stock.move"]  # type: ignore[assignment]
        move_id = Model.create_one(moves, {
            "name": name, "reference": name, "product_id": product["id"], "product_uom": product["uom_id"],
            "product_uom_qty": abs(diff), "location_id": src, "location_dest_id": dest, "is_inventory": True,
            "state": "draft", "company_id": 1, "date": fmt_dt(self.env.now()), "procure_method": "make_to_stock",
        })
        Model.create_one(self.env["stock.move.line"], {
            "move_id": move_id, "product_id": product["id"], "product_uom_id": product["uom_id"], "quantity": abs(diff),
            "lot_id": quant.get("lot_id") or False, "location_id": src, "location_dest_id": dest, "picked": True,
            "company_id": 1, "date": fmt_dt(self.env.now()), "state": "assigned",
        })
        moves.records[move_id]["move_line_ids"] = [l["id"] for l in self.env["stock.move.line"].records.values() if l["move_id"] == move_id]
        moves.done(moves.records[move_id], accounting_date=accounting_date)


def _id(value: Any) -> Any:
    return value[0] if isinstance(value, (list, tuple)) else value


class StockValuationLayer(Model):
    _name = "stock.valuation.layer"

    def computed(self):  # type: ignore[no-untyped-def]
        return {"remaining_value": lambda r: round(r.get("remaining_qty", 0.0) * r.get("unit_cost", 0.0), 2)}

    def write(self, ids: list[int], values: dict[str, Any], context: dict[str, Any]) -> bool:
        values = {k: v for k, v in values.items() if k != "create_date"}  # accepted, silently ignored (F4)
        return super().write(ids, values, context) if values else bool(self.browse_existing(ids))

    def unit_cost(self, product_id: int) -> float:
        qty = value = 0.0
        for layer in self.records.values():
            if layer["product_id"] == product_id and layer.get("remaining_qty", 0.0) > EPS:
                qty += layer["remaining_qty"]
                value += layer["remaining_qty"] * layer["unit_cost"]
        if qty > EPS:
            return value / qty
        return float(self.env["product.product"].records[product_id].get("standard_price") or 0.0)

    def consume_fifo(self, product_id: int, qty: float) -> float:
        """Take ``qty`` out of the oldest layers; returns the value taken."""
        remaining, value = qty, 0.0
        for layer in sorted(self.records.values(), key=lambda l: l["id"]):
            if remaining <= EPS:
                break
            if layer["product_id"] != product_id or layer.get("remaining_qty", 0.0) <= EPS:
                continue
            take = min(remaining, layer["remaining_qty"])
            layer["remaining_qty"] -= take
            value += take * layer["unit_cost"]
            remaining -= take
        if remaining > EPS:  # negative stock: valued at the standard price
            value += remaining * float(self.env["product.product"].records[product_id].get("standard_price") or 0.0)
        return value


class AccountMove(Model):
    _name = "account.move"
    _order = "date desc, name desc, id desc"

    def display_name(self, rec: dict[str, Any]) -> str:
        base = rec["name"] if rec.get("name") and rec["name"] != "/" else f"Draft Entry (* {rec['id']})"
        return f"{base} ({rec['ref']})" if rec.get("ref") else base

    def visible(self, rec: dict[str, Any]) -> bool:
        if rec.get("move_type") != "entry":
            return True
        return bool(self.env.users.get(self.env.uid, {}).get("account_readonly"))

    def read(self, ids: list[int], fields: list[str] | None, context: dict[str, Any]) -> list[dict[str, Any]]:
        hidden = [i for i in ids if i in self.records and not self.visible(self.records[i])]
        if hidden:
            user = self.env["res.users"].records[self.env.uid]
            raise _access_fault(user["name"], self.env.uid)
        return super().read(ids, fields, context)

    def computed(self):  # type: ignore[no-untyped-def]
        return {"amount_total": lambda r: sum(self.env["account.move.line"].records[l]["debit"] for l in r.get("line_ids", []))}

    def defaults(self, values: dict[str, Any]) -> dict[str, Any]:
        return {"name": "/", "state": "draft", "move_type": "entry", "date": self.env.today().isoformat(), "currency_id": 1, "company_id": 1,
                "auto_post": "no"}

    def create(self, values: Any, context: dict[str, Any]) -> Any:
        """A journal entry by hand (an accountant's, not the API user's: Accounting / Read-only may not create one)."""
        if not self.env.users.get(self.env.uid, {}).get("admin"):  # as a real Odoo 17 answers the read-only user: 'write'
            raise _access_fault(self.env["res.users"].records[self.env.uid]["name"], self.env.uid, "write")
        ids = super().create(values, context)
        for move_id in ids if isinstance(ids, list) else [ids]:
            move = self.records[move_id]
            lines = [self.env["account.move.line"].records[l] for l in move.get("line_ids", [])]
            for line in lines:
                line.setdefault("date", move["date"])
            debit, credit = round(sum(l["debit"] for l in lines), 2), round(sum(l["credit"] for l in lines), 2)
            if debit != credit:  # refused at creation, as a real Odoo 17 does (the call rolls back)
                journal = self.env["account.journal"].records.get(move.get("journal_id") or 0, {}).get("name", "")
                raise user_error(f"An error has occurred.\n\nThe move ({self.display_name(move)}) is not balanced.\nThe total of debits "
                                 f"equals $\xa0{debit:,.2f} and the total of credits equals $\xa0{credit:,.2f}.\nYou might want to specify a "
                                 f'default account on journal "{journal}" to automatically balance each move.')
        return ids

    def rpc_action_post(self, ids: list[int]) -> bool:
        """Post draft entries (balanced since their creation), named in the journal's sequence of the entry's month."""
        for move in self.browse_existing(ids if isinstance(ids, list) else [ids]):
            when = date.fromisoformat(move["date"])
            move["state"] = "posted"
            if move.get("name") in (None, False, "/"):
                move["name"] = f"MISC/{when.year}/{when.month:02d}/{self.env.sequence(f'MISC/{when.year}/{when.month:02d}'):04d}"
        return False  # Odoo 17's action_post returns False

    def post_entry(self, *, ref: str, when: date, stock_move_id: int, product_id: int, qty: float, amount: float, debit: int, credit: int) -> int:
        today = self.env.today()
        lock = self.env["res.company"].lock_date(1)
        if lock and when.isoformat() <= lock:
            when = today  # silently re-dated to the first open date (F4)
        draft = when > today
        name = "/" if draft else f"STJ/{when.year}/{when.month:02d}/{self.env.sequence(f'STJ/{when.year}/{when.month:02d}'):04d}"
        move_id = Model.create_one(self, {
            "name": name, "date": when.isoformat(), "ref": ref, "state": "draft" if draft else "posted", "move_type": "entry",
            "journal_id": STOCK_JOURNAL, "stock_move_id": stock_move_id, "auto_post": "at_date" if draft else "no",
            "currency_id": 1, "company_id": 1,
        })
        lines = self.env["account.move.line"]
        amount = round(abs(amount), 2)
        ids = []
        for account, dr, cr in ((credit, 0.0, amount), (debit, amount, 0.0)):
            ids.append(Model.create_one(lines, {
                "move_id": move_id, "account_id": account, "name": ref, "debit": dr, "credit": cr, "date": when.isoformat(),
                "product_id": product_id, "quantity": qty, "currency_id": 1, "display_type": "product",
            }))
        self.records[move_id]["line_ids"] = ids
        return move_id


def _access_fault(user_name: str, uid: int, operation: str = "read") -> OdooFault:
    return OdooFault(
        4,
        "Uh-oh! Looks like you have stumbled upon some top-secret records.\n\nSorry, "
        f"{user_name} (id={uid}) doesn't have '{operation}' access to:\n- Journal Entry (account.move)\n\n"
        "If you really, really need access, perhaps you can win over your friendly administrator with a batch of "
        "freshly baked cookies.",
        "odoo.exceptions.AccessError",
    )


class AccountMoveLine(Model):
    _name = "account.move.line"

    def defaults(self, values: dict[str, Any]) -> dict[str, Any]:
        return {"currency_id": 1, "display_type": "product", "debit": 0.0, "credit": 0.0}

    def computed(self):  # type: ignore[no-untyped-def]
        moves = self.env["account.move"].records
        return {"balance": lambda r: round(r.get("debit", 0.0) - r.get("credit", 0.0), 2),
                "parent_state": lambda r: moves.get(r.get("move_id") or 0, {}).get("state") or False,
                "company_id": lambda r: moves.get(r.get("move_id") or 0, {}).get("company_id") or False,
                "journal_id": lambda r: moves.get(r.get("move_id") or 0, {}).get("journal_id") or False}

    def visible(self, rec: dict[str, Any]) -> bool:
        move = self.env["account.move"].records.get(rec["move_id"])
        return bool(move) and self.env["account.move"].visible(move)


class AccountAccount(Model):
    _name = "account.account"
    _extra_fields = {"name": {"type": "char", "store": True, "string": "Name"}, "code": {"type": "char", "store": True, "string": "Code"}}

    def display_name(self, rec: dict[str, Any]) -> str:
        return f"{rec['code']} {rec['name']}"


class AccountJournal(Model):
    _name = "account.journal"
    _extra_fields = {
        "name": {"type": "char", "store": True, "string": "Journal Name"},
        "code": {"type": "char", "store": True, "string": "Short Code"},
        "type": {"type": "selection", "store": True, "string": "Type", "selection": []},
    }


# ------------------------------------------------------------------------------------------ moves


class StockMoveLine(Model):
    _name = "stock.move.line"

    def defaults(self, values: dict[str, Any]) -> dict[str, Any]:
        return {"company_id": 1, "date": fmt_dt(self.env.now()), "state": "assigned", "picked": False, "quantity": 0.0}

    def computed(self):  # type: ignore[no-untyped-def]
        return {
            "quantity_product_uom": lambda r: r.get("quantity", 0.0),
            "picking_id": lambda r: self.env["stock.move"].records.get(r.get("move_id") or 0, {}).get("picking_id") or r.get("picking_id") or False,
            "lot_name": lambda r: r.get("lot_name") or False,
        }

    def display_name(self, rec: dict[str, Any]) -> str:
        move = self.env["stock.move"].records.get(rec.get("move_id") or 0)
        return self.env["stock.move"].display_name(move) if move else str(rec["id"])

    def _reserve_line(self, line: dict[str, Any], qty: float) -> None:
        quants: StockQuant = self.env["stock.quant"]  # type: ignore[assignment]
        loc = self.env["stock.location"].records.get(line["location_id"], {})
        if loc.get("usage") != "internal":
            return
        quant = quants.ensure(line["product_id"], line["location_id"], line.get("lot_id") or False)
        quant["reserved_quantity"] = quant.get("reserved_quantity", 0.0) + qty

    def create_one(self, values: dict[str, Any]) -> int:
        values = dict(values)
        move = self.env["stock.move"].records.get(values.get("move_id") or 0)
        if move is not None:
            values.setdefault("picking_id", move.get("picking_id") or False)
            values.setdefault("product_id", move["product_id"])
            values.setdefault("location_id", move["location_id"])
            values.setdefault("location_dest_id", move["location_dest_id"])
        rid = super().create_one(values)
        line = self.records[rid]
        if move is not None:
            move["move_line_ids"] = [*move.get("move_line_ids", []), rid]
            if move.get("state") not in ("done", "cancel"):
                self._reserve_line(line, line.get("quantity", 0.0))
            moves: StockMove = self.env["stock.move"]  # type: ignore[assignment]
            if line.get("picked") and all(l.get("picked") for l in moves.lines(move)):
                move["picked"] = True  # stock.move.picked is computed from its lines (seen on Odoo 17: picked lines -> picked move)
            if move.get("state") in ("confirmed", "partially_available"):  # seen on Odoo 17: lines created on a confirmed move -> assigned
                moves.recompute_state(move)
                picking = self.env["stock.picking"].records.get(move.get("picking_id") or 0)
                if picking is not None and picking["state"] not in ("draft", "done", "cancel"):
                    self.env["stock.picking"].refresh_state(picking)  # type: ignore[attr-defined]
        return rid

    def write(self, ids: list[int], values: dict[str, Any], context: dict[str, Any]) -> bool:
        for name in values:
            self.field_def(name)
        for line in self.browse_existing(ids):
            move = self.env["stock.move"].records.get(line.get("move_id") or 0, {})
            live = move.get("state") not in ("done", "cancel")
            if live and ("lot_id" in values or "quantity" in values):
                self._reserve_line(line, -line.get("quantity", 0.0))
            Model.write(self, [line["id"]], values, context)
            if live and ("lot_id" in values or "quantity" in values):
                self._reserve_line(line, line.get("quantity", 0.0))
            if move and values.get("picked"):
                move["picked"] = True
        return True

    def unlink(self, ids: list[int], context: dict[str, Any]) -> bool:
        """Unreserves, then the moves' states are recomputed (stock.move.line.unlink -> _recompute_state; seen on a
        real 17.0 server: unlinking a picked move's only lines makes the move and its picking confirmed, the move
        still picked, its quantity 0)."""
        touched: dict[int, dict[str, Any]] = {}
        for line in self.browse_existing(ids):
            self._reserve_line(line, -line.get("quantity", 0.0))
            move = self.env["stock.move"].records.get(line.get("move_id") or 0)
            if move:
                move["move_line_ids"] = [i for i in move.get("move_line_ids", []) if i != line["id"]]
                touched[move["id"]] = move
        result = super().unlink(ids, context)
        moves: StockMove = self.env["stock.move"]  # type: ignore[assignment]
        pickings = self.env["stock.picking"]
        for move in touched.values():
            if move.get("state") in ("confirmed", "partially_available", "assigned"):
                moves.recompute_state(move)
                picking = pickings.records.get(move.get("picking_id") or 0)
                if picking is not None and picking["state"] not in ("draft", "done", "cancel"):
                    pickings.refresh_state(picking)  # type: ignore[attr-defined]
        return result


class StockMove(Model):
    _name = "stock.move"
    _order = "sequence, id"

    def defaults(self, values: dict[str, Any]) -> dict[str, Any]:
        return {"company_id": 1, "date": fmt_dt(self.env.now()), "procure_method": "make_to_stock", "state": "draft",
                "picked": False, "name": "/", "sequence": 10}

    def display_name(self, rec: dict[str, Any]) -> str:
        product = self.env["product.product"].records[rec["product_id"]]
        locs = self.env["stock.location"].records
        short = lambda lid: (locs.get(lid, {}).get("complete_name") or "").split("/")[-1]  # noqa: E731
        prefix = f"{rec['origin']}/" if rec.get("origin") else ""
        return f"{prefix}{product.get('default_code') or product['name']}: {short(rec['location_id'])}>{short(rec['location_dest_id'])}"

    def lines(self, move: dict[str, Any]) -> list[dict[str, Any]]:
        ml = self.env["stock.move.line"].records
        return [ml[i] for i in move.get("move_line_ids", []) if i in ml]

    def uom(self) -> Any:
        return self.env["uom.uom"]

    def procurement_uom(self, qty: float, uom_id: int, product: dict[str, Any]) -> tuple[float, int]:
        """uom.uom._adjust_uom_quantities: an order line's quantity becomes a move in the product's unit unless the
        system parameter stock.propagate_uom is '1' (then the line's unit is kept)."""
        if self.env["ir.config_parameter"].value("stock.propagate_uom") == "1":  # type: ignore[attr-defined]
            return qty, uom_id
        return self.uom().convert(qty, uom_id, product["uom_id"]), product["uom_id"]

    def base_qty(self, move: dict[str, Any], qty: float) -> float:
        product = self.env["product.product"].records[move["product_id"]]
        return self.uom().convert(qty, move["product_uom"], product["uom_id"])

    def move_qty(self, move: dict[str, Any]) -> float:
        product = self.env["product.product"].records[move["product_id"]]
        base = sum(l.get("quantity", 0.0) for l in self.lines(move))
        return self.uom().convert(base, product["uom_id"], move["product_uom"])

    def computed(self):  # type: ignore[no-untyped-def]
        return {
            "quantity": self.move_qty,
            "product_qty": lambda r: self.base_qty(r, r.get("product_uom_qty", 0.0)),
            "reference": lambda r: r.get("reference") or (self.env["stock.picking"].records.get(r.get("picking_id") or 0) or {}).get("name") or r.get("name"),
            "account_move_ids": lambda r: [m["id"] for m in self.env["account.move"].records.values() if m.get("stock_move_id") == r["id"] and self.env["account.move"].visible(m)],
            "stock_valuation_layer_ids": lambda r: [l["id"] for l in self.env["stock.valuation.layer"].records.values() if l.get("stock_move_id") == r["id"]],
            "picking_type_id": lambda r: (self.env["stock.picking"].records.get(r.get("picking_id") or 0) or {}).get("picking_type_id") or False,
        }

    def write(self, ids: list[int], values: dict[str, Any], context: dict[str, Any]) -> bool:
        values = dict(values)
        for name in values:
            self.field_def(name)
        qty = values.pop("quantity", None)
        Model.write(self, ids, values, context)
        for move in self.browse_existing(ids):
            if qty is not None and move["state"] not in ("done", "cancel"):
                self.set_quantity(move, float(qty))
                self.recompute_state(move)  # quantity 0 -> confirmed, below the demand -> partially_available
                picking = self.env["stock.picking"].records.get(move.get("picking_id") or 0)
                if picking is not None and picking["state"] not in ("draft", "done", "cancel"):
                    self.env["stock.picking"].refresh_state(picking)  # type: ignore[attr-defined]
            if "picked" in values:
                for line in self.lines(move):
                    line["picked"] = bool(values["picked"])
        return True

    def set_quantity(self, move: dict[str, Any], qty: float) -> None:
        """Odoo 17: writing stock.move.quantity rewrites its move lines (reservation follows)."""
        ml: StockMoveLine = self.env["stock.move.line"]  # type: ignore[assignment]
        target = self.base_qty(move, qty)
        lines = self.lines(move)
        current = sum(l.get("quantity", 0.0) for l in lines)
        if not lines and target > EPS:
            ml.create_one({"move_id": move["id"], "product_uom_id": self.env["product.product"].records[move["product_id"]]["uom_id"], "quantity": target})
            return
        delta = target - current
        if delta > EPS and self.env["stock.location"].records.get(move["location_id"], {}).get("usage") in BYPASS_RESERVATION:
            # a receipt written above its lines: a line for the surplus (5 + 0.4 seen on Odoo 17, not one line of 5.4)
            ml.create_one({"move_id": move["id"], "product_uom_id": self.env["product.product"].records[move["product_id"]]["uom_id"], "quantity": delta})
            return
        for line in reversed(lines) if delta < 0 else lines[:1]:
            if abs(delta) < EPS:
                break
            new = max(0.0, line.get("quantity", 0.0) + delta)
            ml._reserve_line(line, new - line.get("quantity", 0.0))
            delta -= new - line.get("quantity", 0.0)
            line["quantity"] = new

    def reserve(self, move: dict[str, Any]) -> None:
        quants: StockQuant = self.env["stock.quant"]  # type: ignore[assignment]
        product = self.env["product.product"].records[move["product_id"]]
        need = self.base_qty(move, move["product_uom_qty"]) - sum(l.get("quantity", 0.0) for l in self.lines(move))
        loc_model = self.env["stock.location"]
        candidates = sorted(
            (q for q in quants.records.values() if q["product_id"] == move["product_id"]
             and self.env.is_child_of(loc_model, q["location_id"], [move["location_id"]])
             and (product.get("tracking") == "none" or q.get("lot_id"))),
            key=lambda q: (q.get("in_date") or "", q["id"]),
        )
        ml: StockMoveLine = self.env["stock.move.line"]  # type: ignore[assignment]
        if loc_model.records.get(move["location_id"], {}).get("usage") in BYPASS_RESERVATION and need > EPS:
            # goods from a supplier or a customer: nothing to reserve, the line is the demand (F8: a receipt's
            # lines are pre-filled, its backorder is assigned)
            ml.create_one({"move_id": move["id"], "product_uom_id": product["uom_id"], "quantity": need, "location_id": move["location_id"]})
            candidates, need = [], 0.0
        for quant in candidates:
            if need <= EPS:
                break
            free = quant.get("quantity", 0.0) - quant.get("reserved_quantity", 0.0)
            if free <= EPS:
                continue
            take = min(free, need)
            ml.create_one({"move_id": move["id"], "product_uom_id": product["uom_id"], "quantity": take,
                           "lot_id": quant.get("lot_id") or False, "location_id": quant["location_id"]})
            need -= take
        self.recompute_state(move)

    def recompute_state(self, move: dict[str, Any]) -> None:
        """stock.move._recompute_state: assigned when the reservation covers the demand, partially_available when
        some is reserved, else confirmed."""
        if move["state"] in ("done", "cancel"):
            return
        reserved = sum(l.get("quantity", 0.0) for l in self.lines(move))
        full = self.base_qty(move, move["product_uom_qty"])
        move["state"] = "assigned" if reserved >= full - EPS else ("partially_available" if reserved > EPS else "confirmed")

    def unreserve(self, move: dict[str, Any]) -> None:
        ml = self.env["stock.move.line"]
        ml.unlink([l["id"] for l in self.lines(move)], {})
        move["state"] = "confirmed"

    def done(self, move: dict[str, Any], *, accounting_date: str | None = None, unit_cost: float | None = None) -> None:
        """Move the goods, value them and post the entry (dated ``accounting_date`` when given)."""
        quants: StockQuant = self.env["stock.quant"]  # type: ignore[assignment]
        locs = self.env["stock.location"].records
        now = fmt_dt(self.env.now())
        valued = {True: 0.0, False: 0.0}  # stock_account values each line: into valued stock (True) or out of it
        for line in self.lines(move):
            qty = line.get("quantity", 0.0)
            if qty <= EPS:
                continue
            src, dest = line["location_id"], line["location_dest_id"]
            src_in, dest_in = locs.get(src, {}).get("usage") == "internal", locs.get(dest, {}).get("usage") == "internal"
            if src_in != dest_in:  # a returned unit scrapped (customers -> scrap) is valued nowhere (seen on Odoo 17)
                valued[dest_in] += qty
            if line.get("lot_name") and not line.get("lot_id"):  # receipts create lots from lot_name (F8)
                line["lot_id"] = self.env["stock.lot"].create_one({"name": line["lot_name"], "product_id": line["product_id"], "company_id": 1})
            if locs.get(src, {}).get("usage") == "internal":
                q = quants.ensure(line["product_id"], src, line.get("lot_id") or False)
                q["quantity"] -= qty
                q["reserved_quantity"] = max(0.0, q.get("reserved_quantity", 0.0) - qty)
            if locs.get(dest, {}).get("usage") == "internal":
                q = quants.ensure(line["product_id"], dest, line.get("lot_id") or False)
                q["quantity"] += qty
            line["state"], line["date"] = "done", now
        self._check_serials(move)
        move["state"], move["date"] = "done", now
        for into, qty in valued.items():
            if qty > EPS:
                self._value(move, qty, accounting_date, unit_cost, into=into)

    def _check_serials(self, move: dict[str, Any]) -> None:
        """stock.quant.check_quantity after a move: a serial may hold at most one unit in any location but the
        inventory ones (children included), counted over every done line; else the whole validation is refused."""
        product = self.env["product.product"].records[move["product_id"]]
        if product.get("tracking") != "serial":
            return
        locations = self.env["stock.location"]
        done = [l for l in self.env["stock.move.line"].records.values() if l.get("state") == "done" and l.get("product_id") == product["id"]]
        for line in self.lines(move):
            lot = line.get("lot_id")
            for loc in (line["location_id"], line["location_dest_id"]):
                if not lot or locations.records.get(loc, {}).get("usage") == "inventory":
                    continue
                held = sum((l.get("quantity", 0.0) if self.env.is_child_of(locations, l["location_dest_id"], [loc]) else 0.0)
                           - (l.get("quantity", 0.0) if self.env.is_child_of(locations, l["location_id"], [loc]) else 0.0)
                           for l in done if l.get("lot_id") == lot)
                if abs(held) > 1 + EPS:
                    name = self.env["stock.lot"].records[lot]["name"]
                    raise validation_error("The serial number has already been assigned: \n Product: "
                                           f"{self.env['product.product'].display_name(product)}, Serial Number: {name}")

    def _value(self, move: dict[str, Any], qty: float, accounting_date: str | None, unit_cost: float | None, *, into: bool) -> None:
        out = not into
        svl: StockValuationLayer = self.env["stock.valuation.layer"]  # type: ignore[assignment]
        product = self.env["product.product"].records[move["product_id"]]
        origin = move.get("reference") or (self.env["stock.picking"].records.get(move.get("picking_id") or 0) or {}).get("name") or move.get("name")
        description = f"{origin} - {product['name']}"
        if out:
            value = -svl.consume_fifo(product["id"], qty)
            cost = abs(value) / qty
        else:
            cost = unit_cost if unit_cost is not None else float(product.get("standard_price") or 0.0)
            value = cost * qty
        when = date.fromisoformat(accounting_date or self.env.context.get("force_period_date") or self.env.today().isoformat())
        if out:
            debit, credit = ACC_INTERIM_DELIVERED, ACC_VALUATION
        elif move["location_id"] == SUPPLIERS_LOCATION or move.get("is_inventory"):
            debit, credit = ACC_VALUATION, ACC_INTERIM_RECEIVED
        else:  # customer return
            debit, credit = ACC_VALUATION, ACC_INTERIM_DELIVERED
        account_move = False if self.env.does("stock_moves_unbooked") else self.env["account.move"].post_entry(  # type: ignore[attr-defined]
            ref=description, when=when, stock_move_id=move["id"], product_id=product["id"],
            qty=qty if into else -qty, amount=value, debit=debit, credit=credit,
        )
        Model.create_one(svl, {
            "stock_move_id": move["id"], "product_id": product["id"], "quantity": qty if into else -qty,
            "unit_cost": cost, "value": value, "remaining_qty": qty if into else 0.0, "description": description,
            "account_move_id": account_move, "company_id": 1, "currency_id": 1, "uom_id": product["uom_id"],
            "categ_id": _id(product.get("categ_id")) or 1,
        })


# ---------------------------------------------------------------------------------------- pickings


class StockPicking(Chatter, Model):
    _name = "stock.picking"
    _description = "Transfer"
    _order = "priority desc, scheduled_date asc, id desc"

    def defaults(self, values: dict[str, Any]) -> dict[str, Any]:
        return {"move_type": "direct", "state": "draft", "priority": "0", "company_id": 1}

    def computed(self):  # type: ignore[no-untyped-def]
        types = self.env["stock.picking.type"].records
        return {
            "picking_type_code": lambda r: types.get(r.get("picking_type_id") or 0, {}).get("code") or False,
            "move_ids": lambda r: [m["id"] for m in self.env["stock.move"].records.values() if m.get("picking_id") == r["id"]],
            "move_line_ids": lambda r: [l["id"] for l in self.env["stock.move.line"].records.values()
                                        if self.env["stock.move"].records.get(l.get("move_id") or 0, {}).get("picking_id") == r["id"]],
        }

    def create_one(self, values: dict[str, Any]) -> int:
        values = dict(values)
        if not values.get("name") and values.get("picking_type_id") in self.env["stock.picking.type"].records:
            values["name"] = self.next_name(values["picking_type_id"])  # Odoo names a transfer from its type's sequence
        return super().create_one(values)

    def next_name(self, picking_type_id: int) -> str:
        ptype = self.env["stock.picking.type"].records[picking_type_id]
        wh = self.env["stock.warehouse"].records[ptype["warehouse_id"]]
        return f"{wh['code']}/{ptype['sequence_code']}/{self.env.sequence(f'picking/{picking_type_id}'):05d}"

    def moves(self, picking: dict[str, Any]) -> list[dict[str, Any]]:
        return [m for m in self.env["stock.move"].records.values() if m.get("picking_id") == picking["id"]]

    def new_picking(self, picking_type_id: int, values: dict[str, Any]) -> dict[str, Any]:
        ptype = self.env["stock.picking.type"].records[picking_type_id]
        now = fmt_dt(self.env.now())
        rid = Model.create_one(self, {
            "name": self.next_name(picking_type_id), "picking_type_id": picking_type_id,
            "location_id": ptype.get("default_location_src_id") or CUSTOMERS_LOCATION,
            "location_dest_id": ptype.get("default_location_dest_id") or CUSTOMERS_LOCATION,
            "scheduled_date": now, "date_deadline": now, "state": "draft", **values,
        })
        return self.records[rid]

    def refresh_state(self, picking: dict[str, Any]) -> None:
        states = [m["state"] for m in self.moves(picking)]
        if not states or all(s == "cancel" for s in states):
            picking["state"] = "cancel"
        elif all(s in ("done", "cancel") for s in states):
            picking["state"] = "done"
        elif any(s in ("assigned", "partially_available") for s in states):
            picking["state"] = "assigned"
        else:
            picking["state"] = "confirmed"

    # ------------------------------------------------------------------ auto-batch (stock_picking_batch, F5/F05b)

    def write(self, ids: list[int], values: dict[str, Any], context: dict[str, Any]) -> bool:
        batches = self.env["stock.picking.batch"]
        old = {p.get("batch_id") for p in self.browse_existing(ids) if p.get("batch_id")} if "batch_id" in values else set()
        super().write(ids, values, context)
        if values.get("batch_id"):  # moved into a batch: a batch left empty is cancelled; the new one checks them
            for bid in old - {values["batch_id"]}:
                if not batches.pickings(batches.records[bid]):  # type: ignore[attr-defined]
                    batches.records[bid]["state"] = "cancel"
            self.sanity_check(batches.get(values["batch_id"]))
        return True

    def sanity_check(self, batch: dict[str, Any]) -> None:
        """stock.picking.batch._sanity_check: every transfer of the batch must be waiting, confirmed or assigned
        (or draft in a draft batch), of the batch's company and operation type."""
        batches = self.env["stock.picking.batch"]
        allowed = {"waiting", "confirmed", "assigned"} | ({"draft"} if batches.state(batch) == "draft" else set())  # type: ignore[attr-defined]
        wrong = [p for p in batches.pickings(batch)  # type: ignore[attr-defined]
                 if p["state"] not in allowed or p.get("company_id") != batch.get("company_id")
                 or (batch.get("picking_type_id") and p.get("picking_type_id") != batch["picking_type_id"])]
        if wrong:
            raise user_error(
                f"The following transfers cannot be added to batch transfer {batch['name']}. Please check their "
                f"states and operation types.\n\nIncompatibilities: {', '.join(p['name'] for p in wrong)}"
            )

    def _group_keys(self, ptype: dict[str, Any], picking: dict[str, Any]) -> dict[str, Any]:
        """The batch_group_by_* criteria of the operation type, as values of ``picking``."""
        partners = self.env["res.partner"].records
        keys: dict[str, Any] = {}
        if ptype.get("batch_group_by_partner"):
            keys["partner"] = picking.get("partner_id") or False
        if ptype.get("batch_group_by_destination"):
            keys["country"] = (partners.get(picking.get("partner_id") or 0) or {}).get("country_id") or False
        if ptype.get("batch_group_by_src_loc"):
            keys["src"] = picking.get("location_id") or False
        if ptype.get("batch_group_by_dest_loc"):
            keys["dest"] = picking.get("location_dest_id") or False
        if ptype.get("batch_group_by_carrier"):
            keys["carrier"] = picking.get("carrier_id") or False
        return keys

    def find_auto_batch(self, picking: dict[str, Any]) -> dict[str, Any] | None:
        """stock.picking._find_auto_batch: an assigned, unbatched transfer of an auto-batch type joins an open batch
        holding a transfer with the same grouping values (the batch's sanity check may then refuse it), else forms a
        new batch with such a transfer that is assigned and unbatched (confirmed at once with batch_auto_confirm),
        else stays alone."""
        ptype = self.env["stock.picking.type"].records.get(picking.get("picking_type_id") or 0) or {}
        if not ptype.get("auto_batch") or picking.get("batch_id") or not self.moves(picking) or not self._auto_batchable(ptype, picking):
            return None
        batches = self.env["stock.picking.batch"]
        keys = self._group_keys(ptype, picking)
        open_states = ("draft", "in_progress") if ptype.get("batch_auto_confirm") else ("draft",)
        for batch in batches.sort(list(batches.records.values()), batches._order):
            if (batches.state(batch) not in open_states or batch.get("picking_type_id") != ptype["id"]  # type: ignore[attr-defined]
                    or batch.get("company_id") != picking.get("company_id") or batch.get("is_wave")):
                continue
            members = batches.pickings(batch)  # type: ignore[attr-defined]
            if not all(any(self._group_keys(ptype, m)[k] == v for m in members) for k, v in keys.items()):
                continue
            if ptype.get("batch_max_lines") and sum(len(self.moves(m)) for m in members) + len(self.moves(picking)) > ptype["batch_max_lines"]:
                continue
            if ptype.get("batch_max_pickings") and len(members) + 1 > ptype["batch_max_pickings"]:
                continue
            picking["batch_id"] = batch["id"]
            self.sanity_check(batch)
            return batch
        for other in self.sort(list(self.records.values()), self._order):
            if (other["id"] == picking["id"] or other.get("company_id") != picking.get("company_id") or other["state"] != "assigned"
                    or other.get("picking_type_id") != ptype["id"] or other.get("batch_id") or self._group_keys(ptype, other) != keys):
                continue
            if not self._auto_batchable(ptype, picking, other):
                continue
            return self._new_batch(ptype, [picking, other])
        if self.env.does("auto_batch_alone"):  # 18+: else a batch of its own
            return self._new_batch(ptype, [picking])
        return None

    def _new_batch(self, ptype: dict[str, Any], members: list[dict[str, Any]]) -> dict[str, Any]:
        batches = self.env["stock.picking.batch"]
        seq = self.env.sequence("BATCH", start=5)
        name = f"BATCH/{ptype['sequence_code']}/{seq:05d}" if self.env.does("batch_name_by_type") else f"BATCH/{seq:05d}"
        bid = Model.create_one(batches, {"name": name, "state": "draft", "company_id": members[0].get("company_id") or 1,
                                         "picking_type_id": ptype["id"]})
        batch = batches.records[bid]
        for member in members:
            member["batch_id"] = bid
        self.sanity_check(batch)
        if ptype.get("batch_auto_confirm"):
            batch["state"] = "in_progress"
        return batch

    def _auto_batchable(self, ptype: dict[str, Any], picking: dict[str, Any], other: dict[str, Any] | None = None) -> bool:
        if picking["state"] != "assigned":
            return False
        if ptype.get("batch_max_lines") and len(self.moves(picking)) + (len(self.moves(other)) if other else 0) > ptype["batch_max_lines"]:
            return False
        if ptype.get("batch_max_pickings") and ptype["batch_max_pickings"] <= 1:
            return False
        return True

    # --------------------------------------------------------------------------- RPC methods

    def rpc_action_confirm(self, ids: list[int], **_: Any) -> bool:
        """A draft transfer made by hand (an inter-warehouse resupply): its moves confirmed and reserved at once, as
        Odoo 17 does (seen on a real server: assigned right after action_confirm)."""
        moves: StockMove = self.env["stock.move"]  # type: ignore[assignment]
        for picking in self.browse_existing(ids):
            for move in self.moves(picking):
                if move["state"] == "draft":
                    move["state"] = "confirmed"
                    moves.reserve(move)
            self.refresh_state(picking)
        return True

    def rpc_action_assign(self, ids: list[int], **_: Any) -> bool:
        moves: StockMove = self.env["stock.move"]  # type: ignore[assignment]
        for picking in self.browse_existing(ids):
            for move in self.moves(picking):
                if move["state"] in ("confirmed", "partially_available"):
                    moves.reserve(move)
            self.refresh_state(picking)
        return True

    def rpc_action_cancel(self, ids: list[int], **_: Any) -> bool:
        """The picking's Cancel button (used by tests to play a user cancelling after release)."""
        batches = self.env["stock.picking.batch"]
        for picking in self.browse_existing(ids):
            for move in self.moves(picking):
                if move["state"] != "done":
                    self.env["stock.move"].unreserve(move)  # type: ignore[attr-defined]
                    move["state"] = "cancel"
            self.refresh_state(picking)
        for picking in self.browse_existing(ids):  # a cancelled transfer leaves a batch that is not all cancelled
            batch = batches.records.get(picking.get("batch_id") or 0)
            if batch is not None and any(p["state"] != "cancel" for p in batches.pickings(batch)):  # type: ignore[attr-defined]
                picking["batch_id"] = False
        return True

    def rpc_do_unreserve(self, ids: list[int], **_: Any) -> None:
        """Odoo 17 (_do_unreserve) leaves a picked move alone: its picked lines stay, quantity and all (seen on a
        real 17.0 server: do_unreserve after creating picked lot lines kept both lines and the move assigned)."""
        for picking in self.browse_existing(ids):
            for move in self.moves(picking):
                if move["state"] not in ("done", "cancel") and not move.get("picked"):
                    self.env["stock.move"].unreserve(move)  # type: ignore[attr-defined]
            self.refresh_state(picking)
        return None  # returns None: "cannot marshal None" over XML-RPC (F7)

    def rpc_button_validate(self, ids: list[int], **_: Any) -> Any:
        ctx = self.env.context
        records = self.browse_existing(ids)
        pickings = [p for p in records if p["state"] not in ("done", "cancel")]
        moves_model: StockMove = self.env["stock.move"]  # type: ignore[assignment]
        for picking in pickings:
            moves = [m for m in self.moves(picking) if m["state"] != "cancel"]
            if not any(m.get("picked") for m in moves):  # nothing picked: the reserved quantities are validated (F2b)
                for m in moves:
                    m["picked"] = True
                    for line in moves_model.lines(m):
                        line["picked"] = True
            if all(moves_model.move_qty(m) <= EPS for m in moves if m.get("picked")):
                raise user_error(self.env.says("nothing_reserved"))
        self._check_lots(pickings)
        partial = [p for p in pickings if self._is_partial(p)]
        if partial and not ctx.get("skip_backorder"):
            context = {**ctx, "button_validate_picking_ids": ids, "default_show_transfers": self._show_transfers(records),
                       "default_pick_ids": [[4, p["id"]] for p in partial]}
            return _act_window("Create Backorder?", "stock.backorder.confirmation", 843, context)
        if not ctx.get("skip_sms") and self.env.company_settings.get("stock_move_sms_validation"):
            partners = self.env["res.partner"].records
            warn = [p for p in pickings if self.computed()["picking_type_code"](p) == "outgoing"
                    and (partners.get(p.get("partner_id") or 0, {}).get("phone") or partners.get(p.get("partner_id") or 0, {}).get("mobile"))]
            if warn:
                wiz = Model.create_one(self.env["confirm.stock.sms"], {"pick_ids": [p["id"] for p in warn]})
                return _act_window("SMS", "confirm.stock.sms", 1123, {"button_validate_picking_ids": ids}, res_id=wiz)
        types = self.env["stock.picking.type"].records
        not_to_backorder = set(ctx.get("picking_ids_not_to_backorder") or [])
        cancel_rest = [p for p in pickings if types[p["picking_type_id"]].get("create_backorder") == "never"
                       or (p["id"] in not_to_backorder and types[p["picking_type_id"]].get("create_backorder") != "always")]
        self._action_done(cancel_rest, backorder=False)
        self._action_done([p for p in pickings if p not in cancel_rest], backorder=True)
        self._after_validate(records)
        return True

    def _show_transfers(self, records: list[dict[str, Any]]) -> bool:
        """Whether the wizard lists the transfers: more than one, unless they are exactly one whole batch."""
        batch_ids = {p["batch_id"] for p in records if p.get("batch_id")}
        if len(batch_ids) == 1:
            [batch_id] = batch_ids
            if len(records) == len([p for p in self.records.values() if p.get("batch_id") == batch_id]):
                return False
        return len(records) > 1

    def _action_done(self, pickings: list[dict[str, Any]], *, backorder: bool) -> None:
        """Odoo 17's stock.picking._action_done over these transfers together. Picked moves with a quantity are done
        (split first when short: the rest, a new move, is reserved at once in the original transfer). With
        ``backorder``, the other moves keep their state and reservation and go, with the rests, to one backorder per
        transfer; moves whose reservation was released (quantity 0) are reserved again there, and a backorder that
        becomes assigned that way looks for an auto-batch at once (F05b h/i). Without, they are cancelled."""
        if not pickings:
            return
        moves_model: StockMove = self.env["stock.move"]  # type: ignore[assignment]
        remaining: dict[int, list[dict[str, Any]]] = {}
        todo: list[dict[str, Any]] = []
        for picking in pickings:
            for move in self.moves(picking):
                if move["state"] in ("done", "cancel"):
                    continue
                shipped = moves_model.move_qty(move) if move.get("picked") else 0.0
                if shipped <= EPS:
                    if backorder:
                        remaining.setdefault(picking["id"], []).append(move)
                    else:
                        moves_model.unreserve(move)
                        move["state"] = "cancel"
                    continue
                todo.append(move)
                rest = move["product_uom_qty"] - shipped
                if rest > EPS and backorder:
                    move["product_uom_qty"] = shipped
                    new_id = Model.create_one(moves_model, {
                        k: move.get(k) for k in ("name", "product_id", "product_uom", "location_id", "location_dest_id", "origin",
                                                 "sale_line_id", "purchase_line_id", "company_id", "procure_method", "price_unit")
                    } | {"product_uom_qty": rest, "picking_id": picking["id"], "state": "confirmed"})
                    moves_model.reserve(moves_model.records[new_id])
                    remaining.setdefault(picking["id"], []).append(moves_model.records[new_id])
        for move in todo:
            moves_model.done(move, unit_cost=self._incoming_cost(move))
        for picking in pickings:
            self.refresh_state(picking)
            picking["date_done"], picking["priority"] = fmt_dt(self.env.now()), "0"
        if backorder:
            self._create_backorders(pickings, remaining)

    def _create_backorders(self, pickings: list[dict[str, Any]], remaining: dict[int, list[dict[str, Any]]]) -> None:
        moves_model: StockMove = self.env["stock.move"]  # type: ignore[assignment]
        ml = self.env["stock.move.line"]
        batches = self.env["stock.picking.batch"]
        chosen = {p["id"] for p in pickings}
        for picking in pickings:  # a transfer left open is taken out of a batch it does not fill (stock_picking_batch)
            if picking.get("batch_id") and picking["state"] != "done":
                members = batches.pickings(batches.records[picking["batch_id"]])  # type: ignore[attr-defined]
                if any(m["id"] not in chosen for m in members):
                    picking["batch_id"] = False
        to_assign: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
        for picking in pickings:
            moves = remaining.get(picking["id"])
            if not moves:
                continue
            for move in moves:
                moves_model.recompute_state(move)
            if self.env.does("backorder_needs_email"):
                self.env.require_email()  # the backorder is announced in the chatter as the API user (F3; not on 19)
            back = self.new_picking(picking["picking_type_id"], {
                k: picking.get(k) for k in ("partner_id", "origin", "sale_id", "carrier_id", "location_id", "location_dest_id", "purchase_id")
            } | {"backorder_id": picking["id"]})
            for move in moves:
                move["picking_id"], move["picked"] = back["id"], False
                ml.unlink([l["id"] for l in moves_model.lines(move) if l.get("quantity", 0.0) <= EPS], {})
                for line in moves_model.lines(move):
                    line["picked"] = False
            self.refresh_state(picking)
            to_assign.append((back, moves))
        for back, moves in to_assign:  # action_assign on the backorders (reservation at confirmation)
            newly_assigned = False
            for move in moves:
                if move["state"] in ("assigned", "done", "cancel"):
                    continue
                moves_model.reserve(move)
                newly_assigned = newly_assigned or move["state"] == "assigned"
            self.refresh_state(back)
            if newly_assigned and back["state"] == "assigned":
                self.find_auto_batch(back)  # may raise: the batch still holds this call's done transfers

    def _after_validate(self, records: list[dict[str, Any]]) -> None:
        """The end of stock_picking_batch's button_validate: a done transfer leaves a batch that still has open
        transfers, then each backorder looks for an auto-batch."""
        batches = self.env["stock.picking.batch"]
        backorders: list[dict[str, Any]] = []
        for picking in records:
            if picking["state"] != "done":
                continue
            batch = batches.records.get(picking.get("batch_id") or 0)
            if batch is not None and any(p["state"] != "done" for p in batches.pickings(batch)):  # type: ignore[attr-defined]
                picking["batch_id"] = False
            backorders += [p for p in self.records.values() if p.get("backorder_id") == picking["id"] and p not in backorders]
        for back in backorders:
            self.find_auto_batch(back)
        for batch in batches.records.values():
            batches.state(batch)  # type: ignore[attr-defined]

    def _is_partial(self, picking: dict[str, Any]) -> bool:
        moves_model: StockMove = self.env["stock.move"]  # type: ignore[assignment]
        for m in self.moves(picking):
            if m["state"] in ("done", "cancel"):
                continue
            done = moves_model.move_qty(m) if m.get("picked") else 0.0
            if done < m["product_uom_qty"] - EPS:
                return True
        return False

    def _check_lots(self, pickings: list[dict[str, Any]]) -> None:
        products = self.env["product.product"]
        moves_model: StockMove = self.env["stock.move"]  # type: ignore[assignment]
        types = self.env["stock.picking.type"].records
        missing, named = [], []
        for picking in pickings:
            ptype = types[picking["picking_type_id"]]
            for m in self.moves(picking):
                product = products.records[m["product_id"]]
                if product.get("tracking") == "none" or not m.get("picked"):
                    continue
                for line in moves_model.lines(m):
                    if line.get("quantity", 0.0) <= EPS or line.get("lot_id"):
                        continue
                    if line.get("lot_name") and ptype.get("use_create_lots"):
                        continue
                    (named if line.get("lot_name") else missing).append(products.display_name(product))
        if named:
            raise user_error(self.env.says("lot_missing_one", products=self.env.says("lot_missing_one_joiner").join(dict.fromkeys(named))))
        if missing:
            raise user_error(f"You need to supply a Lot/Serial number for products {', '.join(dict.fromkeys(missing))}.")

    def _incoming_cost(self, move: dict[str, Any]) -> float | None:
        if move.get("purchase_line_id"):
            line = self.env["purchase.order.line"].records[move["purchase_line_id"]]
            product = self.env["product.product"].records[move["product_id"]]
            return line["price_unit"] / self.env["uom.uom"].convert(1.0, line["product_uom"], product["uom_id"])  # type: ignore[attr-defined]
        origin = move.get("origin_returned_move_id")
        if origin:
            layers = [l for l in self.env["stock.valuation.layer"].records.values() if l.get("stock_move_id") == origin]
            if layers:
                return abs(layers[0]["unit_cost"])
        return None


class ConfirmStockSms(Model):
    _name = "confirm.stock.sms"


class StockBackorderConfirmation(Model):
    _name = "stock.backorder.confirmation"

    def _run(self, ids: list[int], backorder: bool) -> bool:
        pickings: StockPicking = self.env["stock.picking"]  # type: ignore[assignment]
        for wiz in self.browse_existing(ids):
            chosen = wiz.get("pick_ids") or []
            ctx = self.env.context
            todo = ctx.get("button_validate_picking_ids") or chosen
            self.env.context = {**ctx, "skip_backorder": True}
            if not backorder:
                self.env.context["picking_ids_not_to_backorder"] = chosen
            result = pickings.rpc_button_validate(list(todo))
            if result is not True:
                return result
        return True

    def rpc_process(self, ids: list[int], **_: Any) -> Any:
        return self._run(ids, backorder=True)

    def rpc_process_cancel_backorder(self, ids: list[int], **_: Any) -> Any:
        return self._run(ids, backorder=False)


# ------------------------------------------------------------------------------------- sales, purchases


class SaleOrder(Chatter, Model):
    _name = "sale.order"
    _order = "date_order desc, id desc"

    def defaults(self, values: dict[str, Any]) -> dict[str, Any]:
        seq = self.env.sequence("sale.order", start=max((int(r["name"][1:]) for r in self.records.values() if r.get("name", "").startswith("S")), default=0))
        partner = values.get("partner_id")
        return {"name": f"S{seq:05d}", "state": "draft", "company_id": 1, "date_order": fmt_dt(self.env.now()),
                "partner_invoice_id": partner, "partner_shipping_id": partner, "picking_policy": "direct", "warehouse_id": 1}

    def computed(self):  # type: ignore[no-untyped-def]
        return {
            "picking_ids": lambda r: [p["id"] for p in self.env["stock.picking"].records.values() if p.get("sale_id") == r["id"]],
            "delivery_count": lambda r: len([p for p in self.env["stock.picking"].records.values() if p.get("sale_id") == r["id"]]),
            "order_line": lambda r: [l["id"] for l in self.env["sale.order.line"].records.values() if l.get("order_id") == r["id"]],
        }

    def rpc_action_confirm(self, ids: list[int], **_: Any) -> bool:
        orders = self.browse_existing(ids)
        wrong = [o["name"] for o in orders if o["state"] not in ("draft", "sent")]
        if wrong:
            raise user_error(self.env.says("order_not_confirmable", orders=", ".join(wrong)))
        pickings: StockPicking = self.env["stock.picking"]  # type: ignore[assignment]
        moves: StockMove = self.env["stock.move"]  # type: ignore[assignment]
        for order in orders:
            order["state"] = "sale"
            wh = self.env["stock.warehouse"].records[order["warehouse_id"]]
            picking = pickings.new_picking(wh["out_type_id"], {
                "partner_id": order["partner_shipping_id"], "origin": order["name"], "sale_id": order["id"],
                "carrier_id": order.get("carrier_id") or False, "location_dest_id": CUSTOMERS_LOCATION,
            })
            for line_id in self.computed()["order_line"](order):
                line = self.env["sale.order.line"].records[line_id]
                product = self.env["product.product"].records[line["product_id"]]
                if product.get("detailed_type") != "product" and product.get("type") != "product":
                    continue
                qty, uom = moves.procurement_uom(line["product_uom_qty"], line["product_uom"], product)
                mid = Model.create_one(moves, {
                    "name": line["name"], "product_id": product["id"], "product_uom": uom,
                    "product_uom_qty": qty, "location_id": picking["location_id"],
                    "location_dest_id": CUSTOMERS_LOCATION, "picking_id": picking["id"], "sale_line_id": line_id,
                    "origin": order["name"], "state": "confirmed", "date": picking["scheduled_date"],
                })
                moves.reserve(moves.records[mid])
            pickings.refresh_state(picking)
            pickings.find_auto_batch(picking)
        return True


class SaleOrderLine(Model):
    _name = "sale.order.line"

    def defaults(self, values: dict[str, Any]) -> dict[str, Any]:
        product = self.env["product.product"].records.get(values.get("product_id") or 0, {})
        return {"name": self.env["product.product"].display_name(product) if product else "/", "customer_lead": 0.0,
                "price_unit": product.get("list_price", 0.0), "product_uom": product.get("uom_id", 1)}

    def display_name(self, rec: dict[str, Any]) -> str:
        order = self.env["sale.order"].records[rec["order_id"]]
        partner = self.env["res.partner"].records.get(order["partner_id"], {})
        return f"{order['name']} - {rec['name']} ({partner.get('name')})"

    def computed(self):  # type: ignore[no-untyped-def]
        return {"qty_delivered": self._delivered, "qty_to_invoice": self._delivered}

    def _delivered(self, line: dict[str, Any]) -> float:
        moves: StockMove = self.env["stock.move"]  # type: ignore[assignment]
        total = 0.0
        for m in moves.records.values():
            if m.get("sale_line_id") != line["id"] or m["state"] != "done":
                continue
            qty = self.env["uom.uom"].convert(moves.move_qty(m), m["product_uom"], line["product_uom"])  # type: ignore[attr-defined]
            if m["location_dest_id"] == CUSTOMERS_LOCATION:
                total += qty
            elif m["location_id"] == CUSTOMERS_LOCATION and m.get("to_refund"):
                total -= qty
        return total


class PurchaseOrder(Chatter, Model):
    _name = "purchase.order"

    def defaults(self, values: dict[str, Any]) -> dict[str, Any]:
        seq = self.env.sequence("purchase.order", start=max((int(r["name"][1:]) for r in self.records.values() if r.get("name", "").startswith("P")), default=0))
        return {"name": f"P{seq:05d}", "state": "draft", "company_id": 1, "currency_id": 1, "date_order": fmt_dt(self.env.now()), "picking_type_id": 1}

    def computed(self):  # type: ignore[no-untyped-def]
        return {
            "picking_ids": lambda r: [p["id"] for p in self.env["stock.picking"].records.values() if p.get("purchase_id") == r["id"]],
            "order_line": lambda r: [l["id"] for l in self.env["purchase.order.line"].records.values() if l.get("order_id") == r["id"]],
            "receipt_status": self._receipt_status,
        }

    def _receipt_status(self, order: dict[str, Any]) -> Any:
        lines = [self.env["purchase.order.line"].records[i] for i in self.computed()["order_line"](order)]
        received = [self.env["purchase.order.line"].computed()["qty_received"](l) for l in lines]
        if order["state"] not in ("purchase", "done") or not any(received):
            return "pending" if order["state"] in ("purchase", "done") else False
        return "full" if all(r >= l["product_qty"] - EPS for r, l in zip(received, lines)) else "partial"

    def rpc_button_confirm(self, ids: list[int], **_: Any) -> bool:
        pickings: StockPicking = self.env["stock.picking"]  # type: ignore[assignment]
        moves: StockMove = self.env["stock.move"]  # type: ignore[assignment]
        ml: StockMoveLine = self.env["stock.move.line"]  # type: ignore[assignment]
        for order in self.browse_existing(ids):
            order["state"] = "purchase"
            picking = pickings.new_picking(order["picking_type_id"], {
                "partner_id": order["partner_id"], "origin": order["name"], "purchase_id": order["id"], "location_id": SUPPLIERS_LOCATION,
            })
            for line_id in self.computed()["order_line"](order):
                line = self.env["purchase.order.line"].records[line_id]
                product = self.env["product.product"].records[line["product_id"]]
                qty, uom = moves.procurement_uom(line["product_qty"], line["product_uom"], product)
                mid = Model.create_one(moves, {
                    "name": line["name"], "product_id": product["id"], "product_uom": uom,
                    "product_uom_qty": qty, "location_id": SUPPLIERS_LOCATION,
                    "location_dest_id": picking["location_dest_id"], "picking_id": picking["id"], "purchase_line_id": line_id,
                    "origin": order["name"], "state": "assigned", "price_unit": line["price_unit"],
                })
                ml.create_one({"move_id": mid, "product_uom_id": product["uom_id"],
                               "quantity": moves.base_qty(moves.records[mid], qty)})
            pickings.refresh_state(picking)
            pickings.find_auto_batch(picking)
        return True


class PurchaseOrderLine(Model):
    _name = "purchase.order.line"

    def defaults(self, values: dict[str, Any]) -> dict[str, Any]:
        product = self.env["product.product"].records.get(values.get("product_id") or 0, {})
        return {"name": self.env["product.product"].display_name(product) if product else "/", "product_uom": product.get("uom_id", 1), "price_unit": 0.0}

    def computed(self):  # type: ignore[no-untyped-def]
        def received(line: dict[str, Any]) -> float:
            moves: StockMove = self.env["stock.move"]  # type: ignore[assignment]
            uoms = self.env["uom.uom"]
            return sum(uoms.convert(moves.move_qty(m), m["product_uom"], line["product_uom"])  # type: ignore[attr-defined]
                       for m in moves.records.values() if m.get("purchase_line_id") == line["id"] and m["state"] == "done")

        return {"qty_received": received}


class StockReturnPicking(Model):
    _name = "stock.return.picking"

    def create_one(self, values: dict[str, Any]) -> int:
        ctx = self.env.context
        if ctx.get("active_model") != "stock.picking" or not ctx.get("active_id"):
            raise user_error("Please specify the transfer to return (active_id).")
        picking = self.env["stock.picking"].get(ctx["active_id"])
        rid = super().create_one({**values, "picking_id": picking["id"]})
        lines = self.env["stock.return.picking.line"]
        moves: StockMove = self.env["stock.move"]  # type: ignore[assignment]
        ids = []
        for move in self.env["stock.picking"].moves(picking):  # type: ignore[attr-defined]
            if move["state"] != "done":
                continue
            quantity = 0.0 if self.env.does("return_line_starts_at_zero") else moves.move_qty(move)
            ids.append(Model.create_one(lines, {"wizard_id": rid, "product_id": move["product_id"], "quantity": quantity,
                                                 "move_id": move["id"], "to_refund": True, "uom_id": move["product_uom"]}))
        self.records[rid]["product_return_moves"] = ids
        return rid

    def rpc_create_returns(self, ids: list[int], **_: Any) -> dict[str, Any]:
        """The wizard's button: create_returns (17), action_create_returns (18+; create_returns is gone)."""
        if self.env.does("action_create_returns"):
            raise self.env.unknown_method(self._name, "create_returns")
        return self._create_returns(ids)

    def rpc_action_create_returns(self, ids: list[int], **_: Any) -> dict[str, Any]:
        if not self.env.does("action_create_returns"):
            raise self.env.unknown_method(self._name, "action_create_returns")
        return self._create_returns(ids)

    def _create_returns(self, ids: list[int]) -> dict[str, Any]:
        [wiz] = self.browse_existing(ids)
        original = self.env["stock.picking"].records[wiz["picking_id"]]
        pickings: StockPicking = self.env["stock.picking"]  # type: ignore[assignment]
        moves: StockMove = self.env["stock.move"]  # type: ignore[assignment]
        out_type = self.env["stock.picking.type"].records[original["picking_type_id"]]
        ret = pickings.new_picking(out_type["return_picking_type_id"], {
            "partner_id": original.get("partner_id"), "origin": f"Return of {original['name']}", "return_id": original["id"],
            "location_id": original["location_dest_id"], "location_dest_id": original["location_id"], "sale_id": original.get("sale_id") or False,
        })
        for line_id in wiz.get("product_return_moves", []):
            line = self.env["stock.return.picking.line"].records[line_id]
            if line.get("quantity", 0.0) <= EPS:
                continue
            orig_move = moves.records[line["move_id"]]
            mid = Model.create_one(moves, {
                "name": orig_move["name"], "product_id": line["product_id"], "product_uom": orig_move["product_uom"],
                "product_uom_qty": line["quantity"], "location_id": original["location_dest_id"], "location_dest_id": original["location_id"],
                "picking_id": ret["id"], "origin_returned_move_id": orig_move["id"], "to_refund": bool(line.get("to_refund")),
                "sale_line_id": orig_move.get("sale_line_id") or False, "state": "assigned", "origin": ret["origin"],
            })
            orig_lines = moves.lines(orig_move)
            self.env["stock.move.line"].create_one({  # type: ignore[attr-defined]
                "move_id": mid, "product_uom_id": self.env["product.product"].records[line["product_id"]]["uom_id"],
                "quantity": moves.base_qty(moves.records[mid], line["quantity"]),
                "lot_id": (orig_lines[0].get("lot_id") if orig_lines else False) or False,
            })
        pickings.refresh_state(ret)
        pickings.find_auto_batch(ret)
        return {"name": ret["name"], "type": "ir.actions.act_window", "res_model": "stock.picking", "view_mode": "form",
                "res_id": ret["id"], "context": dict(self.env.context)}


class StockReturnPickingLine(Model):
    _name = "stock.return.picking.line"

