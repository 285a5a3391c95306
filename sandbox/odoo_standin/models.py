"""The models and business methods our flows use, behaving as the contract transcripts show (F1-F11)."""

from __future__ import annotations

import html
from typing import Any

from sandbox.odoo_standin.orm import (
    Model,
    access_error,
    fmt_dt,
    missing_error,
    validation_error,
)

# ids from the contract's demo data
CUSTOMERS_LOCATION = 5
SUPPLIERS_LOCATION = 4
INVENTORY_LOSS_LOCATION = 14
ACC_VALUATION, ACC_INTERIM_RECEIVED, ACC_INTERIM_DELIVERED = 2, 3, 4
STOCK_JOURNAL = 8
NOTE_SUBTYPE = 2


class ResCompany(Model):
    _name = "res.company"
    _description = "Companies"
    _extra_fields = {
        "name": {"type": "char", "store": True, "string": "Company Name"},
        "currency_id": {"type": "many2one", "relation": "res.currency", "store": True, "string": "Currency"},
        "partner_id": {"type": "many2one", "relation": "res.partner", "store": True, "string": "Partner"},
        "country_id": {"type": "many2one", "relation": "res.country", "store": True, "string": "Country"},
        "period_lock_date": {"type": "date", "store": True, "string": "Journal Entries Lock Date"},
        "fiscalyear_lock_date": {"type": "date", "store": True, "string": "Lock Date for All Users"},
    }

    def write(self, ids: list[int], values: dict[str, Any], context: dict[str, Any]) -> bool:
        if not self.env.is_admin:
            raise access_error(
                "You are not allowed to modify 'Companies' (res.company) records.\n\nThis operation is allowed for "
                "the following groups:\n\t- Administration/Access Rights\n\nContact your administrator to request "
                "access if necessary."
            )
        return super().write(ids, values, context)

    def lock_date(self, company_id: int) -> str | None:
        rec = self.records.get(company_id) or {}
        dates = [d for d in (rec.get("period_lock_date"), rec.get("fiscalyear_lock_date")) if d]
        return max(dates) if dates else None


class ResCurrency(Model):
    _name = "res.currency"
    _extra_fields = {"name": {"type": "char", "store": True, "string": "Currency"}}


class ResCountry(Model):
    _name = "res.country"
    _extra_fields = {
        "name": {"type": "char", "store": True, "string": "Country Name"},
        "code": {"type": "char", "store": True, "string": "Country Code"},
    }


class ResUsers(Model):
    _name = "res.users"
    _description = "User"
    _extra_fields = {
        "name": {"type": "char", "store": True, "string": "Name"},
        "login": {"type": "char", "store": True, "string": "Login"},
        "email": {"type": "char", "store": True, "string": "Email"},
        "tz": {"type": "selection", "store": True, "string": "Timezone", "selection": []},
        "share": {"type": "boolean", "store": True, "string": "Share User"},
        "company_id": {"type": "many2one", "relation": "res.company", "store": True, "string": "Company"},
        "company_ids": {"type": "many2many", "relation": "res.company", "store": True, "string": "Companies"},
        "partner_id": {"type": "many2one", "relation": "res.partner", "store": True, "string": "Related Partner"},
    }

    def write(self, ids: list[int], values: dict[str, Any], context: dict[str, Any]) -> bool:
        own_email = ids == [self.env.uid] and set(values) <= {"email", "tz"}
        if not (own_email or self.env.is_admin):
            raise access_error("You are not allowed to modify 'User' (res.users) records.")
        return super().write(ids, values, context)


class IrAttachment(Model):
    _name = "ir.attachment"
    _extra_fields = {"name": {"type": "char", "store": True, "string": "Name"}}


class ResPartner(Model):
    _name = "res.partner"
    _description = "Contact"

    def computed(self):  # type: ignore[no-untyped-def]
        countries = self.env["res.country"].records
        return {
            "country_code": lambda r: (countries.get(r.get("country_id") or 0) or {}).get("code") or False,
            "display_name": lambda r: r.get("name") or False,
            "commercial_partner_id": self._commercial,
        }

    def _commercial(self, rec: dict[str, Any]) -> int:
        """Odoo: the partner itself when it is a company or has no parent, else its parent's commercial partner."""
        seen: set[int] = set()
        while rec.get("parent_id") and not rec.get("is_company") and rec["id"] not in seen:
            seen.add(rec["id"])
            parent = self.records.get(rec["parent_id"])
            if parent is None:
                break
            rec = parent
        return rec["id"]

    def defaults(self, values: dict[str, Any]) -> dict[str, Any]:
        return {"active": True, "property_account_payable_id": 1, "property_account_receivable_id": 1}


class UomCategory(Model):
    _name = "uom.category"


class UomUom(Model):
    _name = "uom.uom"

    def ratio(self, uom_id: int) -> float:
        """Units of the category's reference unit in one ``uom_id`` (Dozens -> 12, Case of 12 -> 12)."""
        return 1.0 / self.records[uom_id]["factor"]

    def convert(self, qty: float, from_uom: int, to_uom: int) -> float:
        if from_uom == to_uom:
            return qty
        return qty * self.ratio(from_uom) / self.ratio(to_uom)


class _CompleteNamed(Model):
    def display_name(self, rec: dict[str, Any]) -> str:
        return rec.get("complete_name") or rec.get("name") or ""


class ProductCategory(_CompleteNamed):
    _name = "product.category"


class ProductTemplate(Model):
    _name = "product.template"

    def rpc_default_get(self, fields_list: list[str], **_: Any) -> dict[str, Any]:
        defaults = {"uom_id": 1, "uom_po_id": 1, "detailed_type": "consu", "tracking": "none", "categ_id": 1}
        return {f: defaults[f] for f in fields_list if f in defaults}


TEMPLATE_SHARED = frozenset({"name", "weight", "volume", "uom_id", "uom_po_id", "detailed_type", "type", "tracking",
                             "list_price", "categ_id", "sale_ok", "purchase_ok", "active"})


class ProductProduct(Model):
    _name = "product.product"
    _description = "Product Variant"
    _order = "default_code, name, id"

    def display_name(self, rec: dict[str, Any]) -> str:
        code = rec.get("default_code")
        return f"[{code}] {rec.get('name')}" if code else str(rec.get("name"))

    def defaults(self, values: dict[str, Any]) -> dict[str, Any]:
        return {
            "active": True, "detailed_type": "consu", "type": "consu", "tracking": "none", "uom_id": 1, "uom_po_id": 1,
            "categ_id": 1, "sale_line_warn": "no-message", "purchase_line_warn": "no-message", "standard_price": 0.0,
            "sale_ok": True, "purchase_ok": True,
        }

    def create_one(self, values: dict[str, Any]) -> int:
        values = dict(values)
        if values.get("barcode"):
            holders = [r for r in self.records.values() if r.get("barcode") == values["barcode"]]
            if holders:
                names = ", ".join([*(h["name"] for h in holders), values.get("name", "")])
                raise validation_error(
                    f'Barcode(s) already assigned:\n\n- Barcode "{values["barcode"]}" already assigned to product(s): '
                    f"{names}\n\nNote: products that you don't have access to will not be shown above."
                )
        if "detailed_type" in values and "type" not in values:
            values["type"] = "consu" if values["detailed_type"] == "product" else values["detailed_type"]
            values["type"] = "product" if values["detailed_type"] == "product" else values["type"]
        if "product_tmpl_id" not in values:
            tmpl_fields = set(self.env["product.template"].fields)
            tmpl_vals = {k: v for k, v in values.items() if k in tmpl_fields and k not in ("product_variant_ids", "barcode", "default_code")}
            tmpl_vals.setdefault("name", values.get("name"))
            tmpl = self.env["product.template"]
            tid = tmpl.env.next_id("product.template")
            tmpl.records[tid] = {"id": tid, **{k: v for k, v in tmpl_vals.items()}, "write_date": fmt_dt(self.env.now())}
            values["product_tmpl_id"] = tid
        values.setdefault("product_variant_ids", [])
        rid = super().create_one(values)
        tmpl_rec = self.env["product.template"].records.get(self.records[rid]["product_tmpl_id"])
        if tmpl_rec is not None:
            tmpl_rec.setdefault("product_variant_ids", [])
            tmpl_rec["product_variant_ids"] = [*tmpl_rec["product_variant_ids"], rid]
        return rid

    def write(self, ids: list[int], values: dict[str, Any], context: dict[str, Any]) -> bool:
        if values.get("barcode"):
            holders = [r for r in self.records.values() if r.get("barcode") == values["barcode"] and r["id"] not in ids]
            if holders:
                raise validation_error(
                    f'Barcode(s) already assigned:\n\n- Barcode "{values["barcode"]}" already assigned to product(s): '
                    f"{', '.join(h['name'] for h in holders)}\n\nNote: products that you don't have access to will not be shown above."
                )
        super().write(ids, values, context)
        # template fields written through the variant are stored on the template (and touch its write_date)
        shared = {k: v for k, v in values.items() if k in TEMPLATE_SHARED}
        if shared:
            tmpl_ids = sorted({self.records[i]["product_tmpl_id"] for i in ids if self.records[i].get("product_tmpl_id")})
            self.env["product.template"].write(tmpl_ids, shared, context)
        return True

    def _locations(self) -> list[int] | None:
        ctx = self.env.context
        loc_model = self.env["stock.location"]
        if ctx.get("location"):
            root = ctx["location"]
            return [lid for lid in loc_model.records if self.env.is_child_of(loc_model, lid, [root])]
        if ctx.get("warehouse"):  # note: 'warehouse_id' is silently ignored, as in Odoo 17 (F6)
            wh = self.env["stock.warehouse"].get(ctx["warehouse"])
            root = wh["view_location_id"]
            return [lid for lid in loc_model.records if self.env.is_child_of(loc_model, lid, [root])]
        return [lid for lid, loc in loc_model.records.items() if loc.get("usage") == "internal"]

    def _qty(self, rec: dict[str, Any], free: bool) -> float:
        locations = set(self._locations() or [])
        total = 0.0
        for q in self.env["stock.quant"].records.values():
            if q["product_id"] == rec["id"] and q["location_id"] in locations:
                total += q.get("quantity", 0.0) - (q.get("reserved_quantity", 0.0) if free else 0.0)
        return total

    def computed(self):  # type: ignore[no-untyped-def]
        return {
            "qty_available": lambda r: self._qty(r, False),
            "free_qty": lambda r: self._qty(r, True),
            "virtual_available": lambda r: self._qty(r, False),
            "incoming_qty": lambda r: 0.0,
            "outgoing_qty": lambda r: 0.0,
            "display_name": self.display_name,
        }


class DeliveryCarrier(Model):
    _name = "delivery.carrier"


class StockWarehouse(Model):
    _name = "stock.warehouse"


class StockLocation(_CompleteNamed):
    _name = "stock.location"


class StockPickingType(Model):
    _name = "stock.picking.type"

    def display_name(self, rec: dict[str, Any]) -> str:
        wh = self.env["stock.warehouse"].records.get(rec.get("warehouse_id") or 0)
        return f"{wh['name']}: {rec['name']}" if wh else rec["name"]


class StockLot(Model):
    _name = "stock.lot"

    def defaults(self, values: dict[str, Any]) -> dict[str, Any]:
        return {"company_id": 1}

    def create_one(self, values: dict[str, Any]) -> int:
        for rec in self.records.values():
            if rec["name"] == values.get("name") and rec["product_id"] == values.get("product_id") and rec.get("company_id") == values.get("company_id", 1):
                product = self.env["product.product"]
                raise validation_error(
                    "The combination of serial number and product must be unique across a company.\n"
                    "Following combination contains duplicates:\n"
                    f" - Product: {product.display_name(product.records[rec['product_id']])}, Serial Number: {rec['name']}"
                )
        return super().create_one(values)

    def computed(self):  # type: ignore[no-untyped-def]
        quants = self.env["stock.quant"].records
        locations = self.env["stock.location"].records
        return {
            "product_qty": lambda r: sum(
                q["quantity"] for q in quants.values()
                if q.get("lot_id") == r["id"] and locations.get(q["location_id"], {}).get("usage") == "internal"
            ),
        }


class StockPickingBatch(Model):
    _name = "stock.picking.batch"


class MailMessageSubtype(Model):
    _name = "mail.message.subtype"
    _extra_fields = {"name": {"type": "char", "store": True, "string": "Message Type"}}


class MailMessage(Model):
    _name = "mail.message"
    _order = "id desc"

    def defaults(self, values: dict[str, Any]) -> dict[str, Any]:
        user = self.env["res.users"].records[self.env.uid]
        return {"author_id": user.get("partner_id"), "date": fmt_dt(self.env.now()), "is_internal": False}

    def create_one(self, values: dict[str, Any]) -> int:
        values = dict(values)
        if "body" in values and isinstance(values["body"], str) and not values["body"].startswith("<"):
            values["body"] = f"<p>{html.escape(values['body'], quote=False)}</p>"
        return super().create_one(values)


class Chatter:
    """message_post on a model (F11): plain-text bodies are escaped; the author needs an email."""

    env: Any
    _name: str

    def rpc_message_post(self, ids: list[int], body: str = "", message_type: str = "notification", subtype_xmlid: str | None = None, attachment_ids: list[int] | None = None, **_: Any) -> int:
        self.env.require_email()
        for att in attachment_ids or []:
            if att not in self.env["ir.attachment"].records:
                raise missing_error("ir.attachment", [att], self.env.uid)
        [rid] = ids
        self.get(rid)  # type: ignore[attr-defined]
        text = f"<p>{html.escape(str(body), quote=False)}</p>"
        return self.env["mail.message"].create_one(
            {"model": self._name, "res_id": rid, "body": text, "message_type": message_type,
             "subtype_id": NOTE_SUBTYPE if subtype_xmlid == "mail.mt_note" else False}
        )
