"""Seed the stand-in with the contract's demo database (demo_data.json): the state after F00."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sandbox.odoo_standin import models as m
from sandbox.odoo_standin import stock as s
from sandbox.odoo_standin.env import Env
from sandbox.odoo_standin.orm import CONTRACT, Model, fmt_dt

MODELS: list[type[Model]] = [
    m.ResCurrency, m.ResCountry, m.ResCompany, m.ResPartner, m.ResGroups, m.IrModelData, m.IrConfigParameter, m.ResUsers, m.IrAttachment, m.UomCategory, m.UomUom,
    m.ProductCategory, m.ProductTemplate, m.ProductProduct, m.DeliveryCarrier, m.StockWarehouse, m.StockLocation,
    m.StockPickingType, m.StockLot, m.StockPickingBatch, m.MailMessageSubtype, m.MailMessage,
    s.StockQuant, s.StockValuationLayer, s.AccountMove, s.AccountMoveLine, s.AccountAccount, s.AccountJournal,
    s.StockMoveLine, s.StockMove, s.StockPicking, s.ConfirmStockSms, s.StockBackorderConfirmation, s.SaleOrder,
    s.SaleOrderLine, s.PurchaseOrder, s.PurchaseOrderLine, s.StockReturnPicking, s.StockReturnPickingLine,
]

ETL_UID, ADMIN_UID = 8, 2
CASE_UOM_ID = 27  # "Case of 12": a bigger unit in the Unit category (ratio 12)


def _m2o(value: Any) -> Any:
    return value[0] if isinstance(value, list) else value


def _put(model: Model, rec: dict[str, Any]) -> None:
    clean = {k: _m2o(v) for k, v in rec.items()}
    model.records[clean["id"]] = clean


def build(*, database: str = "odoo3pl", etl_password: str = "etl", etl_api_key: str = "standin-etl-api-key",
          etl_email: str | None = None, today: Any = None, frozen_now: Any = None, version: str | None = None,
          stocked_at: Any = None) -> Env:
    """The stand-in's world; ``stocked_at``: when the 3PL's warehouse was stocked (inventory adjustments valued
    then; default the day before the clock)."""
    env = Env(database=database, today=today, frozen_now=frozen_now, version=version)
    for cls in MODELS:
        env.register(cls)
    data = json.loads((CONTRACT / "demo_data.json").read_text())

    _put(env["res.currency"], {"id": 1, "name": "USD"})
    _put(env["mail.message.subtype"], {"id": 1, "name": "Discussions"})
    _put(env["mail.message.subtype"], {"id": 2, "name": "Note"})
    _put(env["res.country"], {"id": 233, "name": "United States", "code": "US"})
    for company in data["companies"]:
        _put(env["res.company"], {**company, "period_lock_date": False, "fiscalyear_lock_date": False})
    _put(env["res.partner"], {"id": 1, "name": "My Company (San Francisco)", "is_company": True, "country_id": 233})
    for partner in data["partners"]:
        _put(env["res.partner"], {k: v for k, v in partner.items() if k in env["res.partner"].fields})
    _put(env["res.partner"], {"id": 43, "name": "ETL 3PL Integration", "email": etl_email or False})
    _put(env["res.partner"], {"id": 3, "name": "Mitchell Admin", "email": "admin@yourcompany.example.com"})
    groups = json.loads((CONTRACT / "groups.json").read_text())  # the etl user's groups and their xmlids (real server)
    for group in groups["groups"]:  # (ir.module.category is not modelled: no category_id)
        env["res.groups"].records[group["id"]] = {k: v for k, v in group.items() if k != "category_id"}
    for xmlid in groups["xmlids"]:
        _put(env["ir.model.data"], xmlid)
    _put(env["res.users"], {"id": ETL_UID, "name": "ETL 3PL Integration", "login": "etl", "email": etl_email or False,
                            "company_id": 1, "company_ids": [1], "partner_id": 43, "tz": False, "share": False,
                            "active": True, "notification_type": "email"})
    env["res.users"].records[ETL_UID]["groups_id"] = list(groups["etl_groups_id"])
    _put(env["res.users"], {"id": ADMIN_UID, "name": "Mitchell Admin", "login": "admin", "email": "admin@yourcompany.example.com",
                            "company_id": 1, "company_ids": [1], "partner_id": 3, "tz": False, "share": False,
                            "active": True, "notification_type": "email"})
    for uid in (ETL_UID, ADMIN_UID):
        env["res.users"].records[uid]["company_ids"] = [1]
    env.users = {
        ETL_UID: {"login": "etl", "password": etl_password, "api_key": etl_api_key, "admin": False, "account_readonly": True},
        ADMIN_UID: {"login": "admin", "password": "admin", "api_key": "standin-admin-api-key", "admin": True, "account_readonly": True},
    }
    seeded_at = fmt_dt(env.now() - timedelta(days=1))
    categories = {}
    for uom in data["uoms"]:
        categories[_m2o(uom["category_id"])] = uom["category_id"][1]
        _put(env["uom.uom"], {**uom, "factor_inv": 1 / uom["factor"]})
    # Odoo 17 puts a delivery or receipt move in the product's unit (2 cases sold -> a move of 24 Units) unless the
    # system parameter stock.propagate_uom is '1' (then the move keeps the order line's unit). A default server,
    # like the contract's, does not set it, and neither does the stand-in (tests set it to cover the other branch).
    _put(env["uom.uom"], {"id": CASE_UOM_ID, "name": "Case of 12", "category_id": 1, "factor": 1 / 12, "factor_inv": 12.0,
                          "rounding": 0.01, "uom_type": "bigger", "active": True})
    for cid, name in categories.items():
        _put(env["uom.category"], {"id": cid, "name": name})
    for cat in data["categories"]:
        _put(env["product.category"], {**cat, "name": cat["complete_name"].split(" / ")[-1]})
    for product in data["products"]:
        tmpl_id = _m2o(product["product_tmpl_id"])
        tmpl = env["product.template"].records.setdefault(tmpl_id, {"id": tmpl_id, "name": product["name"], "product_variant_ids": []})
        tmpl.update({k: _m2o(v) for k, v in product.items() if k in env["product.template"].fields and k not in ("id", "product_variant_ids", "default_code", "barcode")})
        tmpl["product_variant_ids"].append(product["id"])
        _put(env["product.product"], {**product, "write_date": seeded_at})
        tmpl.setdefault("write_date", seeded_at)
    for carrier in data["carriers"]:
        _put(env["delivery.carrier"], carrier)
    for loc in data["locations"]:
        _put(env["stock.location"], {**loc, "name": loc["complete_name"].split("/")[-1]})
    for wh in data["warehouses"]:
        _put(env["stock.warehouse"], wh)
    for ptype in data["picking_types"]:  # with Odoo's defaults for the settings the snapshot does not list (F05b)
        _put(env["stock.picking.type"], {"batch_auto_confirm": True, "batch_max_lines": 0, "batch_max_pickings": 0,
                                         "reservation_method": "at_confirm", **ptype})
    _link_return_types(env)
    for journal in data["journals"]:
        _put(env["account.journal"], journal)
    for acc_id, code, name in ((1, "121000", "Account Receivable"), (2, "110100", "Stock Valuation"),
                               (3, "110200", "Stock Interim (Received)"), (4, "110300", "Stock Interim (Delivered)")):
        _put(env["account.account"], {"id": acc_id, "code": code, "name": name})
    for lot in data["lots"]:
        _put(env["stock.lot"], {k: v for k, v in lot.items() if k != "product_qty"})
    env.uid, env.context = ETL_UID, {}
    quants: s.StockQuant = env["stock.quant"]  # type: ignore[assignment]
    real_now = env.frozen_now
    env.frozen_now = stocked_at or env.now() - timedelta(days=1)  # the warehouse was stocked the day before (contract F00)
    try:
        for quant in data["quants_3PL_stock"]:
            q = quants.ensure(_m2o(quant["product_id"]), _m2o(quant["location_id"]), _m2o(quant["lot_id"]) or False)
            quants._apply(q, float(quant["quantity"]))
    finally:
        env.frozen_now = real_now
    if env.major > 17:  # another version's names over the same world (versions.py)
        from sandbox.odoo_standin.versions import VersionAdapter

        env.adapter = VersionAdapter(env, env.major)
    return env


def _link_return_types(env: Env) -> None:
    types = env["stock.picking.type"].records
    for ptype in types.values():
        if ptype.get("return_picking_type_id"):
            continue
        wanted = "incoming" if ptype["code"] == "outgoing" else ("outgoing" if ptype["code"] == "incoming" else None)
        match = next((t for t in types.values() if t["code"] == wanted and t.get("warehouse_id") == ptype.get("warehouse_id")), None)
        if match:
            ptype["return_picking_type_id"] = match["id"]
