"""Capture a live Odoo server's contract through its external API: the facts the stand-in is built from.

    python -m sandbox.odoo_standin.capture --out sandbox/odoo_standin/contract/19.0
        (ODOO_URL, ODOO_DB, ODOO_USER, ODOO_PASSWORD; ODOO_ADMIN_USER/ODOO_ADMIN_PASSWORD for the installed modules
         and the groups' external ids; ODOO_PROTOCOL to pick the protocol, default auto)

Writes ``version.json`` (``version()`` and the installed modules), ``fields/<model>.json`` (``fields_get`` as the
API user, for every model of the Odoo 17 contract and the ones named with ``--model``; a model the server does not
have is listed under ``absent`` in ``fields/_index.json``), ``groups.json`` and ``demo_data.json`` (a trimmed
snapshot in the shape of the 17 contract's, with this version's field names). Only data the server returned;
secrets never.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from threepl_bridge.odoo.client import OdooClient, OdooSettings
from threepl_bridge.odoo.errors import OdooError

HERE = Path(__file__).with_name("contract")
ATTRIBUTES = ["string", "type", "relation", "selection", "required", "readonly", "store"]
# the demo snapshot: key -> (model, domain, wanted fields); a field this version lacks is left out and noted
SNAPSHOT: dict[str, tuple[str, list[Any], list[str]]] = {
    "companies": ("res.company", [["id", "=", 1]], ["name", "partner_id", "currency_id", "country_id"]),
    "warehouses": ("stock.warehouse", [], ["name", "code", "company_id", "partner_id", "lot_stock_id", "view_location_id", "in_type_id",
                                           "out_type_id", "int_type_id", "reception_steps", "delivery_steps"]),
    "picking_types": ("stock.picking.type", [["warehouse_id.code", "=", "3PL"]],
                      ["name", "code", "warehouse_id", "company_id", "sequence_code", "default_location_src_id", "default_location_dest_id",
                       "return_picking_type_id", "create_backorder", "use_create_lots", "use_existing_lots", "auto_batch",
                       "batch_group_by_partner"]),
    "locations": ("stock.location", [["usage", "in", ["internal", "inventory", "customer", "supplier", "view"]]],
                  ["complete_name", "usage", "location_id", "warehouse_id", "company_id", "barcode", "active"]),
    "products": ("product.product", [["default_code", "!=", False]],
                 ["name", "default_code", "barcode", "type", "detailed_type", "is_storable", "tracking", "uom_id", "uom_po_id", "categ_id",
                  "weight", "volume", "list_price", "standard_price", "company_id", "product_tmpl_id", "sale_ok", "purchase_ok", "active"]),
    "categories": ("product.category", [], ["complete_name", "property_cost_method", "property_valuation",
                                            "property_stock_valuation_account_id", "property_stock_account_input_categ_id",
                                            "property_stock_account_output_categ_id", "property_stock_journal"]),
    "uoms": ("uom.uom", [], ["name", "category_id", "factor", "rounding", "uom_type", "relative_factor", "relative_uom_id", "active"]),
    "carriers": ("delivery.carrier", [], ["name", "delivery_type", "product_id", "fixed_price", "company_id", "integration_level"]),
    "journals": ("account.journal", [["company_id", "=", 1]], ["name", "code", "type"]),
    "users": ("res.users", [["login", "in", ["admin", "etl"]]], ["login", "name", "company_id", "share"]),
}


def _client(user: str, secret: str) -> OdooClient:
    return OdooClient(OdooSettings(url=os.environ["ODOO_URL"], database=os.environ["ODOO_DB"], login=user, password=secret,
                                   protocol=os.environ.get("ODOO_PROTOCOL", "auto")))


def _dump(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, sort_keys=True, default=str) + "\n")


def capture(out: Path, extra_models: list[str]) -> dict[str, Any]:
    etl = _client(os.environ["ODOO_USER"], os.environ["ODOO_PASSWORD"])
    admin = _client(os.environ["ODOO_ADMIN_USER"], os.environ["ODOO_ADMIN_PASSWORD"]) if os.environ.get("ODOO_ADMIN_USER") else None
    version = etl.version()
    record: dict[str, Any] = {"call": "common.version() (JSON-RPC /jsonrpc)", "response": version, "protocol": etl.protocol}
    if admin is not None:
        mods = admin.execute("ir.module.module", "search_read", [["state", "=", "installed"]], fields=["name", "latest_version"], order="name")
        record["installed_modules"] = {m["name"]: m["latest_version"] for m in mods}
        record["installed_modules_note"] = "read by admin from ir.module.module (state=installed)"
    _dump(out / "version.json", record)

    models = sorted(set(json.loads((HERE / "fields" / "_index.json").read_text())) | set(extra_models) - {"absent"})
    index: dict[str, Any] = {"absent": {}}
    fields_of: dict[str, dict[str, Any]] = {}
    for model in models:
        try:
            fields = etl.execute(model, "fields_get", attributes=ATTRIBUTES)
        except OdooError as exc:
            index["absent"][model] = str(exc.odoo_message).splitlines()[0][:200]
            continue
        fields_of[model] = fields
        _dump(out / "fields" / f"{model}.json", {"call": f"fields_get(attributes={ATTRIBUTES})", "fetched_as": "the API user",
                                                   "field_count": len(fields), "fields": fields})
        index[model] = {"field_count": len(fields), "file": f"fields/{model}.json"}
    _dump(out / "fields" / "_index.json", index)

    snapshot: dict[str, Any] = {"note": "Snapshot of the database as the contract tests and the demo find it; fields this version lacks "
                                        "are listed under missing_fields.", "missing_fields": {}}
    for key, (model, domain, wanted) in SNAPSHOT.items():
        have = fields_of.get(model) or (etl.execute(model, "fields_get", attributes=["type"]) if model not in index["absent"] else {})
        if not have:
            snapshot["missing_fields"][key] = "model absent"
            continue
        fields = [f for f in wanted if f in have]
        if len(fields) < len(wanted):
            snapshot["missing_fields"][key] = sorted(set(wanted) - set(fields))
        snapshot[key] = etl.execute(model, "search_read", domain, fields=fields, order="id", limit=200)
    _dump(out / "demo_data.json", snapshot)

    if admin is not None:
        groups_field = "group_ids" if "group_ids" in fields_of.get("res.users", {}) else "groups_id"
        [user] = admin.execute("res.users", "search_read", [["login", "=", os.environ["ODOO_USER"]]], fields=[groups_field])
        ids = user[groups_field]
        group_fields = [f for f in ("name", "full_name", "implied_ids", "share") if f in admin.execute("res.groups", "fields_get", attributes=["type"])]
        groups = admin.execute("res.groups", "read", ids, fields=group_fields)
        xmlids = admin.execute("ir.model.data", "search_read", [["model", "=", "res.groups"], ["res_id", "in", ids]],
                               fields=["module", "name", "res_id"], order="res_id")
        _dump(out / "groups.json", {"server_version": version, "users_groups_field": groups_field, "etl_groups_id": ids,
                                    "groups": groups, "xmlids": xmlids})
    return {"models": len(fields_of), "absent": sorted(index["absent"]), "version": version.get("server_version")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--model", action="append", default=[], help="another model to capture the fields of")
    args = parser.parse_args(argv)
    print(json.dumps(capture(args.out, args.model)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
