"""The models and business methods our flows use, behaving as the contract transcripts show (F1-F11)."""

from __future__ import annotations

import html
from html.parser import HTMLParser
from typing import Any

from sandbox.odoo_standin.orm import (
    Model,
    OdooFault,
    access_error,
    fmt_dt,
    missing_error,
    value_error,
    validation_error,
)

# ids from the contract's demo data
CUSTOMERS_LOCATION = 5
SUPPLIERS_LOCATION = 4
INVENTORY_LOSS_LOCATION = 14
ACC_VALUATION, ACC_INTERIM_RECEIVED, ACC_INTERIM_DELIVERED = 2, 3, 4
STOCK_JOURNAL = 8
NOTE_SUBTYPE = 2



def denied(env: Any, verb: str, description: str, model: str, group: str) -> Any:
    """Odoo's access error for a model only a group may ``verb``: the group's name as the version calls it."""
    return access_error(
        f"You are not allowed to {verb} '{description}' ({model}) records.\n\nThis operation is allowed for the "
        f"following groups:\n\t- {env.says(group)}\n\nContact your administrator to request access if necessary."
    )

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
            raise denied(self.env, "modify", "Companies", self._name, "access_group_rights")
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
    """Users (fields from the real server's fields_get). Only an administrator creates users or changes another
    user; a user may write its own email and time zone. The login credentials live in ``env.users``."""

    _name = "res.users"
    _description = "User"

    def rpc_context_get(self, **_: Any) -> dict[str, Any]:
        """The caller's lang, tz and uid (JSON-2 clients learn their uid from it)."""
        rec = self.records.get(self.env.uid) or {}
        return {"lang": rec.get("lang") or "en_US", "tz": rec.get("tz") or False, "uid": self.env.uid}

    def defaults(self, values: dict[str, Any]) -> dict[str, Any]:
        company = values.get("company_id") or (self.records.get(self.env.uid) or {}).get("company_id") or 1
        return {"company_id": company, "company_ids": [[6, 0, [company]]], "active": True, "share": False,
                "notification_type": "email", "tz": False, "lang": "en_US"}

    def create_one(self, values: dict[str, Any]) -> int:
        if not self.env.is_admin:
            raise denied(self.env, "create", "User", self._name, "access_group_rights")
        values = dict(values)
        password = values.pop("password", None) or values.pop("new_password", None)
        for name in values:
            self.field_def(name)
        if values.get("login") and any(u.get("login") == values["login"] for u in self.records.values()):
            raise validation_error("The operation cannot be completed: You can not have two users with the same login!")
        if values.get("login") and not values.get("partner_id"):
            values["partner_id"] = self.env["res.partner"].create_one(
                {"name": values.get("name") or values["login"], "email": values.get("email") or False})
        rid = super().create_one(values)
        user = self.records[rid]
        user["name"] = values.get("name") or self.env["res.partner"].records[user["partner_id"]].get("name")
        user["email"] = values.get("email") or False
        self._set_groups(user)
        self.env.users[rid] = {"login": user["login"], "password": password, "api_key": None,
                               "admin": False, "account_readonly": False}
        self._sync_credentials(user)
        return rid

    def write(self, ids: list[int], values: dict[str, Any], context: dict[str, Any]) -> bool:
        own_email = ids == [self.env.uid] and set(values) <= {"email", "tz"}
        if not (own_email or self.env.is_admin):
            raise access_error("You are not allowed to modify 'User' (res.users) records.")
        values = dict(values)
        password = values.pop("password", None)
        super().write(ids, values, context)
        for user in self.browse_existing(ids):
            if "groups_id" in values:
                self._set_groups(user)
            if "email" in values and user.get("partner_id") in self.env["res.partner"].records:
                self.env["res.partner"].records[user["partner_id"]]["email"] = values["email"] or False
            if password and user["id"] in self.env.users:
                self.env.users[user["id"]]["password"] = password
            self._sync_credentials(user)
        return True

    def _set_groups(self, user: dict[str, Any]) -> None:
        """Odoo adds the groups the given ones imply (transitively); without an internal group the user is a share
        (portal) user."""
        groups: ResGroups = self.env["res.groups"]  # type: ignore[assignment]
        user["groups_id"] = groups.closure(user.get("groups_id") or [])
        user["share"] = groups.xmlid_id("base.group_user") not in user["groups_id"]

    def _sync_credentials(self, user: dict[str, Any]) -> None:
        """The login follows the record: an archived user cannot authenticate (authenticate gives False,
        execute_kw Access Denied); journal entries are visible with Accounting read-only."""
        creds = self.env.users.get(user["id"])
        if creds is None:
            return
        active = user.get("active", True) is not False
        if not active and "archived_password" not in creds:
            creds["archived_password"], creds["password"] = creds.get("password"), None
        elif active and "archived_password" in creds:
            creds["password"] = creds.pop("archived_password")
        if "groups_id" in user and not creds.get("admin"):
            creds["account_readonly"] = self.env["res.groups"].xmlid_id("account.group_account_readonly") in user["groups_id"]  # type: ignore[attr-defined]


class ResGroups(Model):
    _name = "res.groups"
    _order = "name"

    def display_name(self, rec: dict[str, Any]) -> str:
        return rec.get("full_name") or rec.get("name") or ""

    def computed(self):  # type: ignore[no-untyped-def]
        users = self.env["res.users"].records
        return {
            "users": lambda r: [u["id"] for u in users.values() if r["id"] in (u.get("groups_id") or [])],
            "trans_implied_ids": lambda r: sorted(self.closure(r.get("implied_ids") or [])),
        }

    def closure(self, ids: list[int]) -> list[int]:
        """The groups and all the groups they imply, in the order given, then discovered."""
        out: list[int] = []
        todo = list(ids)
        while todo:
            gid = todo.pop(0)
            if gid in out:
                continue
            out.append(gid)
            todo.extend((self.records.get(gid) or {}).get("implied_ids") or [])
        return out

    def xmlid_id(self, xmlid: str) -> int | None:
        module, name = xmlid.split(".", 1)
        for rec in self.env["ir.model.data"].records.values():
            if rec["module"] == module and rec["name"] == name and rec["model"] == self._name:
                return int(rec["res_id"])
        return None


class _AdminOnly(Model):
    """A model only administrators may search or read (the API user gets faultCode 4 naming ``_group``)."""

    _group = ""  # its key in answers.py

    def _check_access(self) -> None:
        if not self.env.is_admin:
            raise denied(self.env, "access", self._description, self._name, self._group)

    def search(self, domain: list[Any], offset: int = 0, limit: int | None = None, order: str | None = None, context: dict | None = None) -> list[int]:
        self._check_access()
        return super().search(domain, offset=offset, limit=limit, order=order, context=context)

    def read(self, ids: list[int], fields: list[str] | None, context: dict[str, Any]) -> list[dict[str, Any]]:
        self._check_access()
        return super().read(ids, fields, context)


class IrModelData(_AdminOnly):
    """External ids. Only administrators may search or read them (the API user gets faultCode 4);
    ``check_object_reference`` resolves one for anybody, as in Odoo 17."""

    _name = "ir.model.data"
    _description = "Model Data"
    _group = "access_group_rights"

    def computed(self):  # type: ignore[no-untyped-def]
        return {"complete_name": lambda r: f"{r['module']}.{r['name']}", "reference": lambda r: f"{r['model']},{r['res_id']}"}

    def display_name(self, rec: dict[str, Any]) -> str:
        return f"{rec['module']}.{rec['name']}"

    def rpc_check_object_reference(self, module: str, xml_id: str, raise_on_access_error: bool = False, **_: Any) -> list[Any]:
        for rec in self.records.values():
            if rec["module"] == module and rec["name"] == xml_id:
                return [rec["model"], rec["res_id"]]
        message = f"External ID not found in the system: {module}.{xml_id}"
        raise OdooFault(1, message, "builtins.ValueError", traceback_last=f"ValueError: {message}")


class IrConfigParameter(_AdminOnly):
    """System parameters: administrators only (the API user gets faultCode 4, also from get_param)."""

    _name = "ir.config_parameter"
    _description = "System Parameter"
    _group = "access_group_settings"

    def display_name(self, rec: dict[str, Any]) -> str:
        return rec.get("key") or ""

    def create_one(self, values: dict[str, Any]) -> int:
        self._check_access()
        return super().create_one(values)

    def write(self, ids: list[int], values: dict[str, Any], context: dict[str, Any]) -> bool:
        self._check_access()
        return super().write(ids, values, context)

    def value(self, key: str) -> Any:
        """The parameter as business code reads it (sudo)."""
        return next((r.get("value") or False for r in self.records.values() if r.get("key") == key), False)

    def rpc_get_param(self, key: str, default: Any = False, **_: Any) -> Any:
        self._check_access()
        return self.value(key) or default

    def rpc_set_param(self, key: str, value: Any, **_: Any) -> Any:
        self._check_access()
        old = self.value(key)
        for rec in list(self.records.values()):
            if rec.get("key") == key:
                if value is False or value is None:
                    del self.records[rec["id"]]
                else:
                    rec["value"] = str(value)
                return old
        if value not in (False, None):
            Model.create_one(self, {"key": key, "value": str(value)})
        return old


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
    """Units of measure. As in Odoo 17, ``factor_inv`` (the bigger ratio) is computed from ``factor`` and may be
    given on create or write instead of it; a category has exactly one reference unit."""

    _name = "uom.uom"

    def defaults(self, values: dict[str, Any]) -> dict[str, Any]:
        return {"factor": 1.0, "rounding": 0.01, "active": True, "uom_type": "reference"}

    def computed(self):  # type: ignore[no-untyped-def]
        return {
            "factor_inv": lambda r: (1.0 / r["factor"]) if r.get("factor") else 0.0,
            "ratio": lambda r: 1.0 if r.get("uom_type") == "reference" else ((1.0 / r["factor"]) if r.get("uom_type") == "bigger" else r.get("factor")),
        }

    def value_out(self, rec: dict[str, Any], name: str) -> Any:
        if name in ("factor", "factor_inv", "ratio"):  # digits=0: unlimited precision, as read from the real server
            value = self.computed()[name](rec) if name in self.computed() else rec.get(name)
            return float(value or 0.0)
        return super().value_out(rec, name)

    @staticmethod
    def _factor_from_inv(values: dict[str, Any]) -> dict[str, Any]:
        values = dict(values)
        if "factor_inv" in values:
            inv = values.pop("factor_inv")
            values["factor"] = (1.0 / inv) if inv else 0.0
        return values

    def create_one(self, values: dict[str, Any]) -> int:
        rid = super().create_one(self._factor_from_inv(values))
        self._check_reference(self.records[rid].get("category_id"))
        return rid

    def write(self, ids: list[int], values: dict[str, Any], context: dict[str, Any]) -> bool:
        super().write(ids, self._factor_from_inv(values), context)
        for cat in {self.records[i].get("category_id") for i in ids}:
            self._check_reference(cat)
        return True

    def _check_reference(self, category_id: int | None) -> None:
        units = [u for u in self.records.values() if u.get("category_id") == category_id]
        references = [u for u in units if u.get("uom_type") == "reference"]
        name = (self.env["uom.category"].records.get(category_id or 0) or {}).get("name")
        if len(references) > 1:
            raise validation_error(f"UoM category {name} should only have one reference unit of measure.")
        if units and not references:
            raise validation_error(f"UoM category {name} should have a reference unit of measure.")

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

    def defaults(self, values: dict[str, Any]) -> dict[str, Any]:
        return {"usage": "internal", "active": True, "scrap_location": False, "company_id": 1}

    def create_one(self, values: dict[str, Any]) -> int:
        """Odoo 17 stores complete_name: the parent's full name, '/', the name (a view location: its name alone)."""
        parent = self.records.get(values.get("location_id") or 0)
        usage = values.get("usage", "internal")
        full = f"{parent['complete_name']}/{values['name']}" if parent and usage != "view" else values.get("name", "")
        return super().create_one({**values, "complete_name": full})


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
                raise validation_error(self.env.says("lot_unique", product=product.display_name(product.records[rec["product_id"]]), lot=rec["name"]))
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
    """Batch transfers (stock_picking_batch); the auto-batch logic is with the pickings (stock.py)."""

    _name = "stock.picking.batch"
    _order = "name desc"

    def defaults(self, values: dict[str, Any]) -> dict[str, Any]:
        return {"state": "draft", "company_id": 1, "is_wave": False}

    def pickings(self, batch: dict[str, Any]) -> list[dict[str, Any]]:
        """The batch's transfers, in the order of stock.picking (priority desc, scheduled_date asc, id desc)."""
        model = self.env["stock.picking"]
        return model.sort([p for p in model.records.values() if p.get("batch_id") == batch["id"]], model._order)

    def state(self, batch: dict[str, Any]) -> str:
        """Stored, recomputed from the transfers like Odoo's: all cancelled -> cancel, all done or cancelled ->
        done; a done or cancelled batch stays so; an emptied batch keeps its state."""
        if batch.get("state") not in ("done", "cancel"):
            states = [p["state"] for p in self.pickings(batch)]
            if states and all(s == "cancel" for s in states):
                batch["state"] = "cancel"
            elif states and all(s in ("done", "cancel") for s in states):
                batch["state"] = "done"
        return batch.get("state") or "draft"

    def computed(self):  # type: ignore[no-untyped-def]
        moves = self.env["stock.move"].records
        return {
            "picking_ids": lambda r: [p["id"] for p in self.pickings(r)],
            "move_ids": lambda r: [m["id"] for m in moves.values() if m.get("picking_id") in {p["id"] for p in self.pickings(r)}],
            "state": self.state,
        }


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
        if isinstance(values.get("body"), str) and values["body"]:
            values["body"] = html_field(values["body"])
        return super().create_one(values)


VOID = {"br", "hr", "img", "input", "meta", "link", "wbr", "col", "area", "base", "source"}
BLOCK = {"p", "div", "ul", "ol", "li", "table", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "hr"}


class _Html(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.depth = 0
        self.top: list[str] = []  # the top-level nodes: a tag name, or "#text"
        self.trailing_text = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.depth == 0:
            self.top.append(tag)
        attributes = "".join(f' {k}="{html.escape(v or "", quote=True)}"' for k, v in attrs)
        self.out.append(f"<{tag}{attributes}>")
        if tag not in VOID:
            self.depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag not in VOID:
            self.out.append(f"</{tag}>")
            self.depth = max(0, self.depth - 1)

    def handle_data(self, data: str) -> None:
        if self.depth == 0 and data.strip():
            self.top.append("#text")
        self.out.append(html.escape(data, quote=False))


def html_field(value: str) -> str:
    """What a string written to an Html field (mail.message.body) is stored as: parsed as HTML and serialised again,
    not escaped (seen on a real 17.0 server through mail.message.create: ``a & b <b>x</b>.`` -> ``<p>a &amp; b
    <b>x</b>.</p>``, ``x > y`` -> ``<p>x &gt; y</p>``, ``<b>x</b> y`` -> ``<span><b>x</b> y</span>``; a single element
    is kept as it is). ``message_post`` escapes a plain string before this (F11)."""
    parser = _Html()
    parser.feed(value)
    parser.close()
    body = "".join(parser.out)
    if parser.top and parser.top[0] == "#text":  # text first: a paragraph
        return f"<p>{body}</p>"
    if len(parser.top) == 1:
        return body
    if any(t in BLOCK for t in parser.top):  # several blocks: kept as they are (the <div> around them is dropped)
        return body
    return f"<span>{body}</span>"


class Chatter:
    """message_post on a model (F11): plain-text bodies are escaped; the author needs an email."""

    env: Any
    _name: str

    def rpc_message_post(self, ids: list[int], body: str = "", message_type: str = "notification", subtype_xmlid: str | None = None, attachment_ids: list[int] | None = None, **_: Any) -> int:
        if len(ids) != 1:  # mail.thread.message_post: self.ensure_one() (seen on a real 17.0 server, contract R14)
            raise value_error(f"Expected singleton: {self._name}({', '.join(str(i) for i in ids)})")
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
