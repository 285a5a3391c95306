"""The stand-in answering as Odoo 18 or 19: the API surface of that version over the stand-in's one world.

The stand-in's models keep Odoo 17's data model (its flows, F01-F11, were captured there). For another version
the adapter below sits at the RPC boundary: it checks every model and field name against that version's captured
``fields_get`` (``contract/<version>/fields``), renames what the version renamed, computes what it derives
differently, and answers ``fields_get`` from the capture. Fields the version has and 17 has not are plain stored
fields. What differs is listed per version (the contract READMEs say where each fact was seen):

- 18: products are ``type`` consu/service/combo plus ``is_storable`` (17: ``detailed_type``); the company's
  ``period_lock_date`` is gone, ``hard_lock_date`` came.
- 19: units have no category: ``relative_factor`` of ``relative_uom_id`` and ``factor`` = the unit's quantity of
  the root unit (17's factor inverted), ``parent_path``; ``res.users.group_ids``; order lines' ``product_uom_id``;
  no ``stock.valuation.layer``: moves carry ``value``, ``remaining_qty``, ``remaining_value`` and
  ``account_move_id``, journal entries ``stock_move_ids``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sandbox.odoo_standin.orm import OdooFault, matches, value_error
from sandbox.odoo_standin.stock import EPS

if TYPE_CHECKING:
    from sandbox.odoo_standin.env import Env

Leaf = tuple[str, str, Any]
PRODUCTS = ("product.product", "product.template")


def _product_type_out(rec: dict[str, Any]) -> str:
    kind = rec.get("detailed_type") or rec.get("type") or "consu"
    return "consu" if kind in ("product", "consu") else str(kind)


class Virtual:
    """A field of the version computed from the stand-in's records: how it reads, filters and writes."""

    def __init__(self, read: Callable[[Any, dict[str, Any]], Any], *, search: Callable[[str, Any], list[Any]] | None = None,
                 write: Callable[[Any, Any, dict[str, Any]], None] | None = None) -> None:
        self.read, self.search, self.write = read, search, write


def _storable_search(op: str, value: Any) -> list[Any]:
    positive = bool(value) == (op in ("=", "in"))
    return [("detailed_type", "=" if positive else "!=", "product")]


def _storable_write(_model: Any, value: Any, vals: dict[str, Any]) -> None:
    if value:
        vals["detailed_type"] = "product"
    elif vals.get("detailed_type") == "product":
        vals["detailed_type"] = "consu"


def _type_search(op: str, value: Any) -> list[Any]:
    values = value if isinstance(value, (list, tuple)) else [value]
    internal = sorted({v for x in values for v in (("product", "consu") if x == "consu" else (x,))})
    return [("type", "not in" if op in ("!=", "not in") else "in", internal)]


def _type_write(_model: Any, value: Any, vals: dict[str, Any]) -> None:
    if vals.get("detailed_type") != "product" or value != "consu":
        vals["detailed_type"] = value


def _ratio(model: Any, rid: int) -> float:
    return 1.0 / model.records[rid]["factor"]


def _reference(model: Any, rec: dict[str, Any]) -> dict[str, Any] | None:
    return next((u for u in model.records.values() if u.get("category_id") == rec.get("category_id") and u.get("uom_type") == "reference"), None)


def _relative_uom(model: Any, rec: dict[str, Any]) -> Any:
    ref = _reference(model, rec)
    return False if ref is None or ref["id"] == rec["id"] else [ref["id"], ref["name"]]


def _parent_path(model: Any, rec: dict[str, Any]) -> str:
    ref = _reference(model, rec)
    return f"{rec['id']}/" if ref is None or ref["id"] == rec["id"] else f"{ref['id']}/{rec['id']}/"


def _relative_write(model: Any, vals: dict[str, Any]) -> None:
    """19's way to create a unit (``relative_uom_id``, ``relative_factor``) as a unit of the reference's category."""
    ref_id = vals.pop("relative_uom_id", None)
    factor = float(vals.pop("relative_factor", 1.0) or 1.0)
    if ref_id:
        ratio = _ratio(model, ref_id) * factor
        vals.update({"category_id": model.records[ref_id]["category_id"], "factor": 1.0 / ratio,
                     "uom_type": "bigger" if ratio > 1 else "smaller" if ratio < 1 else "reference"})


def _layers(env: Env, move_id: int) -> list[dict[str, Any]]:
    return [layer for layer in env["stock.valuation.layer"].records.values() if layer.get("stock_move_id") == move_id]


def _remaining_value(env: Env, layer: dict[str, Any]) -> float:
    return env["stock.valuation.layer"].computed()["remaining_value"](layer)


def _open_layers(env: Env, product_id: int) -> tuple[float, float]:
    """(remaining quantity, remaining value) of a product's layers."""
    layers = [la for la in env["stock.valuation.layer"].records.values() if la.get("product_id") == product_id]
    return sum(la.get("remaining_qty", 0.0) for la in layers), sum(_remaining_value(env, la) for la in layers)


def _entry_of(env: Env, move_id: int) -> Any:
    entry = next((e for e in env["account.move"].records.values() if e.get("stock_move_id") == move_id), None)
    return [entry["id"], entry.get("name") or f"account.move,{entry['id']}"] if entry else False


def rules(env: Env, major: int) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, Virtual]]]:
    """(renames: model -> {version's name: stand-in's name}, virtual fields: model -> {name: Virtual})."""
    renames: dict[str, dict[str, str]] = {"res.company": {"hard_lock_date": "period_lock_date"}}
    virtual: dict[str, dict[str, Virtual]] = {
        model: {"is_storable": Virtual(lambda m, r: r.get("detailed_type") == "product", search=_storable_search, write=_storable_write),
                "type": Virtual(lambda m, r: _product_type_out(r), search=_type_search, write=_type_write)}
        for model in PRODUCTS
    }
    if major >= 19:
        renames["res.users"] = {"group_ids": "groups_id"}
        renames["sale.order.line"] = {"product_uom_id": "product_uom"}
        renames["purchase.order.line"] = {"product_uom_id": "product_uom"}
        virtual["uom.uom"] = {
            "factor": Virtual(lambda m, r: 1.0 / r["factor"]),
            "relative_uom_id": Virtual(_relative_uom),
            "relative_factor": Virtual(lambda m, r: (1.0 / r["factor"]) / (_ratio(m, _relative_uom(m, r)[0]) if _relative_uom(m, r) else 1.0)),
            "parent_path": Virtual(_parent_path),
        }
        virtual["stock.move"] = {
            "value": Virtual(lambda m, r: abs(sum(layer.get("value", 0.0) for layer in _layers(env, r["id"])))),
            "remaining_qty": Virtual(lambda m, r: sum(layer.get("remaining_qty", 0.0) for layer in _layers(env, r["id"]))),
            "remaining_value": Virtual(lambda m, r: sum(_remaining_value(env, layer) for layer in _layers(env, r["id"]))),
            "account_move_id": Virtual(lambda m, r: _entry_of(env, r["id"])),
            # 19's stock.move has no name: an inventory adjustment keeps the context's inventory_name here
            "inventory_name": Virtual(lambda m, r: (r.get("name") or False) if r.get("is_inventory") else False),
        }
        # 19 computes the FIFO figures on the product itself (no layers to read)
        virtual["product.product"]["total_value"] = Virtual(lambda m, r: _open_layers(env, r["id"])[1])
        virtual["product.product"]["avg_cost"] = Virtual(lambda m, r: (lambda q, v: v / q if q > EPS else 0.0)(*_open_layers(env, r["id"])))
        virtual["account.move"] = {"stock_move_ids": Virtual(lambda m, r: [r["stock_move_id"]] if r.get("stock_move_id") else [],
                                                            search=lambda op, value: [("stock_move_id", op, value)])}
    return renames, virtual


class VersionAdapter:
    """Translates one call between a version's names and the stand-in's (Odoo 17's)."""

    def __init__(self, env: Env, major: int) -> None:
        self.env, self.major = env, major
        index = json.loads((env.contract / "fields" / "_index.json").read_text())
        self.absent = set(index.get("absent") or {})
        self.schema: dict[str, dict[str, Any]] = {}
        for model in index:
            if model != "absent":
                data = json.loads((env.contract / "fields" / f"{model}.json").read_text())
                self.schema[model] = data.get("fields", data)
        self.renames, self.virtual = rules(env, major)
        for model, fields in self.schema.items():  # the version's new fields are plain stored fields here
            if model in env.models:
                internal = env[model].fields
                known = set(self.renames.get(model, {})) | set(self.virtual.get(model, {}))
                for name, definition in fields.items():
                    if name not in internal and name not in known:  # Odoo gives them defaults: never required here
                        internal[name] = {**definition, "store": True, "required": False}

    # ---------------------------------------------------------------------------------- names

    # 18.0: overrides that lost their @api decorator are record methods over RPC (odoo/api.py propagates only
    # _returns): the first argument is taken as ids (seen on the live 18.0 server, contract/18.0/README.md)
    UNDECORATED = {("stock.lot", "create"): "StockLot.create() missing 1 required positional argument: 'vals_list'",
                   ("product.template", "default_get"): "ProductTemplate.default_get() missing 1 required positional argument: 'fields_list'"}

    def check_model(self, model: str, method: str = "") -> None:
        if model in self.absent:
            raise OdooFault(2, f"Object {model} doesn't exist", "odoo.exceptions.UserError")
        if self.major == 18 and (model, method) in self.UNDECORATED:
            line = f"TypeError: {self.UNDECORATED[model, method]}"
            raise OdooFault(1, line, "builtins.TypeError", traceback_last=line)

    def _field(self, model: str, name: str, refusal: str = "invalid_field", leaf: Any = None) -> str:
        """The stand-in's name of a field of the version (an unknown name fails as the version's Odoo does:
        ``refusal`` names its message in answers.py)."""
        schema = self.schema.get(model)
        if schema is not None and name not in schema and name != "id":
            raise value_error(self.env.says(refusal, model=model, field=name, leaf=leaf))
        return self.renames.get(model, {}).get(name, name)

    def _relation(self, model: str, name: str) -> str | None:
        definition = (self.schema.get(model) or {}).get(name) or self.env[model].fields.get(name) or {}
        return definition.get("relation")

    def domain(self, model: str, domain: list[Any]) -> list[Any]:
        out: list[Any] = []
        for item in domain or []:
            if not isinstance(item, (list, tuple)):
                out.append(item)
                continue
            path, op, value = item
            parts, current, names = str(path).split("."), model, []
            for i, part in enumerate(parts):
                hook = self.virtual.get(current, {}).get(part)
                if hook is not None and i == len(parts) - 1:
                    leaves = hook.search(op, value) if hook.search is not None else [("id", "in", self._matching(current, hook, op, value))]
                    prefix = ".".join(names)
                    leaves = [(f"{prefix}.{p}" if prefix else p, o, v) for p, o, v in leaves]
                    out.extend(["&"] * (len(leaves) - 1) + [list(leaf) for leaf in leaves])
                    break
                names.append(self._field(current, part, "invalid_leaf", tuple(item)))
                current = self._relation(current, part) or current
            else:
                out.append([".".join(names), op, value])
        return out

    def _matching(self, model: str, hook: Virtual, op: str, value: Any) -> list[int]:
        """The ids whose computed field satisfies ``op value`` (Odoo searches these stored fields in SQL)."""
        target = self.env[model]
        return [rid for rid, rec in target.records.items() if matches(hook.read(target, rec), op, value)]

    def fields_in(self, model: str, fields: list[str] | None) -> tuple[list[str] | None, list[str] | None]:
        """(the stand-in's fields to read, the version's names asked) for read/search_read."""
        if fields is None:
            return None, None
        inner, virtual = [], self.virtual.get(model, {})
        for name in fields:
            if name in virtual:
                self._field(model, name)
                continue
            inner.append(self._field(model, name))
        return inner or ["id"], list(fields)

    def values_in(self, model: str, vals: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        virtual, later = self.virtual.get(model, {}), []
        for name, value in vals.items():
            inner = self._field(model, name, "invalid_create_field")
            if name in virtual:
                later.append((name, value))
                continue
            relation = self._relation(model, name)
            if relation and isinstance(value, str) and self.env.does("many2one_text_is_empty"):
                value = False
            if relation and isinstance(value, list) and value and isinstance(value[0], (list, tuple)):
                value = [[c[0], c[1], self.values_in(relation, c[2])] if c[0] in (0, 1) and len(c) > 2 else c for c in value]
            out[inner] = value
        target = self.env[model] if model in self.env.models else None
        for name, value in later:
            if virtual[name].write is not None:
                virtual[name].write(target, value, out)
            elif model == "uom.uom" and name in ("relative_uom_id", "relative_factor"):
                out[name] = value
            else:
                raise value_error(f"field {name!r} of {model!r} cannot be written here")
        if model == "uom.uom" and ("relative_uom_id" in out or "relative_factor" in out):
            _relative_write(target, out)
        return out

    def rows_out(self, model: str, rows: list[dict[str, Any]], asked: list[str] | None) -> list[dict[str, Any]]:
        back = {inner: outer for outer, inner in self.renames.get(model, {}).items()}
        virtual, target = self.virtual.get(model, {}), self.env[model]
        schema = self.schema.get(model)
        out = []
        for row in rows:
            rec = target.records.get(row["id"], row)
            if asked is None:  # every field of the version
                names = [n for n in (schema or {}) if (schema or {})[n].get("type") != "binary"] if schema else list(row)
            else:
                names = asked
            new: dict[str, Any] = {"id": row["id"]}
            renamed = {back.get(k, k): v for k, v in row.items()}
            for name in names:
                if name in virtual:
                    new[name] = virtual[name].read(target, rec)
                elif name in renamed:
                    new[name] = renamed[name]
                elif name != "id":
                    new[name] = target.value_out(rec, self._field(model, name))
            out.append(new)
        return out

    def fields_get(self, model: str, allfields: list[str] | None, attributes: list[str] | None) -> dict[str, Any]:
        schema = self.schema.get(model) or self.env[model].fields
        names = [n for n in (allfields or schema) if n in schema and n != "id"]
        return {n: {k: v for k, v in schema[n].items() if not attributes or k in attributes} for n in names}

    def order(self, model: str, order: str | None) -> str | None:
        if not order:
            return order
        parts = []
        for part in order.split(","):
            bits = part.split()
            if bits:
                parts.append(" ".join([self._field(model, bits[0]), *bits[1:]]))
        return ", ".join(parts)
