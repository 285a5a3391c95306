"""A tiny in-memory ORM with Odoo's external-API semantics, driven by the field definitions captured from a real
Odoo 17 server (``contract/fields/*.json``).

What it reproduces: record ids; many2one read as ``[id, display_name]``; ``False`` for empty values; UTC datetime
strings; x2many commands (0, 4, 6); unknown fields, wrong selection values and bad many2one values failing
with Odoo's own fault codes and messages; required fields on create; prefix domains with ``&``/``|``/``!``,
dotted paths and the operators our flows use; ``order``/``limit``/``offset``; ``read_group``.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterable
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sandbox.odoo_standin.env import Env

CONTRACT = Path(__file__).with_name("contract")


class OdooFault(Exception):
    """An error as Odoo reports it: XML-RPC faultCode/faultString and JSON-RPC data.name/message."""

    def __init__(self, code: int, message: str, name: str, *, traceback_last: str | None = None) -> None:
        self.code = code
        self.message = message
        self.name = name  # e.g. odoo.exceptions.UserError, builtins.ValueError
        self.traceback_last = traceback_last
        super().__init__(message)

    @property
    def fault_string(self) -> str:
        if self.code == 1:
            return (
                "Traceback (most recent call last):\n"
                '  File "<odoo>/odoo/addons/base/controllers/rpc.py", line 147, in xmlrpc_2\n'
                "    response = self._xmlrpc(service)\n"
                "               ^^^^^^^^^^^^^^^^^^^^^\n"
                '  File "<odoo>/odoo/service/model.py", line 59, in dispatch\n'
                f"{self.traceback_last or self.message}\n"
            )
        return self.message


def user_error(message: str) -> OdooFault:
    return OdooFault(2, message, "odoo.exceptions.UserError")


def validation_error(message: str) -> OdooFault:
    return OdooFault(2, message, "odoo.exceptions.ValidationError")


def missing_error(model: str, ids: Iterable[int], uid: int) -> OdooFault:
    ids = tuple(ids)
    rec = f"{model}({', '.join(str(i) for i in ids)},)"
    return OdooFault(2, f"Record does not exist or has been deleted.\n(Record: {rec}, User: {uid})", "odoo.exceptions.MissingError")


def access_error(message: str) -> OdooFault:
    return OdooFault(4, message, "odoo.exceptions.AccessError")


def value_error(message: str) -> OdooFault:
    return OdooFault(1, message, "builtins.ValueError", traceback_last=f"ValueError: {message}")


def load_fields(model: str, contract: Path = CONTRACT) -> dict[str, dict[str, Any]]:
    path = contract / "fields" / f"{model}.json"
    data = json.loads(path.read_text())
    return data.get("fields", data)


def now_utc() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0, tzinfo=None)


def fmt_dt(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S")


EMPTY_BY_TYPE = {
    "one2many": list, "many2many": list, "float": lambda: 0.0, "monetary": lambda: 0.0, "integer": lambda: 0,
}


class Model:
    """One model's records and behaviour. Subclasses (see models.py) add business methods and computed fields."""

    _name = ""
    _description = ""
    _order = "id"
    _extra_fields: dict[str, dict[str, Any]] = {}  # fields seen in the transcripts for models without a fields file

    def __init__(self, env: "Env") -> None:
        self.env = env
        try:
            self.fields = load_fields(self._name)  # the 17 model; another version is adapted at the boundary (versions.py)
        except FileNotFoundError:
            self.fields = {}
        self.fields = {**self.fields, **self._extra_fields, "id": {"type": "integer", "store": True, "string": "ID"}}
        self.records: dict[int, dict[str, Any]] = {}

    # ------------------------------------------------------------------ helpers for subclasses

    def computed(self) -> dict[str, Callable[[dict[str, Any]], Any]]:
        """Field name -> function(record) for computed/related fields."""
        return {}

    def defaults(self, values: dict[str, Any]) -> dict[str, Any]:
        return {}

    def display_name(self, rec: dict[str, Any]) -> str:
        return str(rec.get("name") or f"{self._name},{rec['id']}")

    def get(self, rid: int) -> dict[str, Any]:
        try:
            return self.records[rid]
        except KeyError:
            raise missing_error(self._name, [rid], self.env.uid) from None

    def browse_existing(self, ids: Iterable[int]) -> list[dict[str, Any]]:
        ids = list(ids)
        missing = [i for i in ids if i not in self.records]
        if missing:
            raise missing_error(self._name, missing, self.env.uid)
        return [self.records[i] for i in ids]

    def field_def(self, name: str) -> dict[str, Any]:
        if name not in self.fields:
            raise value_error(f"Invalid field {name!r} on model {self._name!r}")
        return self.fields[name]

    # ----------------------------------------------------------------------------- values

    def _convert_in(self, name: str, value: Any, rec: dict[str, Any] | None) -> Any:
        f = self.field_def(name)
        ftype = f.get("type")
        if ftype == "many2one":
            if value in (False, None):
                return False
            if isinstance(value, bool) or not isinstance(value, int):
                raise OdooFault(
                    1, f'invalid input syntax for type integer: "{value}"', "psycopg2.errors.InvalidTextRepresentation",
                    traceback_last="                                                             ^",
                )
            return value
        if ftype == "selection":
            options = [k for k, _ in f.get("selection") or []]
            if value not in (False, None) and options and value not in options:
                raise value_error(f"Wrong value for {self._name}.{name}: {value!r}")
            return value
        if ftype in ("one2many", "many2many"):
            current = list(rec.get(name) or []) if rec else []
            return self._x2many_commands(name, f, value, current, rec)
        if ftype in ("float", "monetary"):
            return float(value or 0.0)
        if ftype == "integer":
            return int(value or 0)
        if ftype == "datetime" and isinstance(value, datetime):
            return fmt_dt(value)
        if ftype == "date" and isinstance(value, date):
            return value.isoformat()
        return value

    def _x2many_commands(self, name: str, f: dict[str, Any], value: Any, current: list[int], rec: dict[str, Any] | None) -> list[int]:
        comodel = self.env[f["relation"]]
        ids = list(current)
        for command in value or []:
            if isinstance(command, int):
                ids.append(command)
                continue
            op = command[0]
            if op == 0:
                vals = dict(command[2])
                pending = getattr(self, "_pending_children", None)
                if pending is not None:
                    pending.append((name, comodel, vals))
                else:
                    ids.append(comodel.create_one(vals))
            elif op == 4:
                ids.append(command[1])
            elif op == 3:
                ids = [i for i in ids if i != command[1]]
            elif op == 5:
                ids = []
            elif op == 6:
                ids = list(command[2])
            else:
                raise value_error(f"unsupported x2many command {command!r}")
        return list(dict.fromkeys(ids))

    def value_out(self, rec: dict[str, Any], name: str) -> Any:
        compute = self.computed().get(name)
        if compute is not None:
            value = compute(rec)
        else:
            f = self.field_def(name)
            value = rec.get(name)
            if value is None:
                empty = EMPTY_BY_TYPE.get(f.get("type", ""))
                value = empty() if empty else False
        f = self.fields.get(name, {})
        if f.get("type") == "many2one" and isinstance(value, int) and not isinstance(value, bool):
            comodel = self.env[f["relation"]]
            target = comodel.records.get(value)
            return [value, comodel.display_name(target)] if target else False
        if f.get("type") in ("float", "monetary") and isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(round(value, 6))
        return copy.deepcopy(value)

    def raw(self, rec: dict[str, Any], name: str) -> Any:
        """A value for domain evaluation: many2one as id, x2many as ids."""
        compute = self.computed().get(name)
        value = compute(rec) if compute is not None else rec.get(name)
        if isinstance(value, list) and value and isinstance(value[0], int) and len(value) == 2 and isinstance(value[1], str):
            return value[0]
        return False if value is None else value

    # ------------------------------------------------------------------------------ CRUD

    def create_one(self, values: dict[str, Any]) -> int:
        values = dict(values)
        for name in values:
            self.field_def(name)
        merged = {**self.defaults(values), **values}
        self._pending_children: list[tuple[str, Model, dict[str, Any]]] | None = []
        try:
            rec: dict[str, Any] = {}
            for name, value in merged.items():
                rec[name] = self._convert_in(name, value, rec)
            children = self._pending_children
        finally:
            self._pending_children = None
        for name, f in self.fields.items():
            if f.get("required") and f.get("store") and name not in self.computed() and rec.get(name) in (None, False, "") and f.get("type") not in ("one2many", "many2many", "boolean", "float", "integer", "monetary"):
                label = f.get("string", name)
                raise validation_error(self.env.says("required_field", description=self._description or self._name,
                                                     model=self._name, label=label, field=name))
        rid = self.env.next_id(self._name)
        rec["id"] = rid
        rec.setdefault("create_date", fmt_dt(self.env.now()))
        rec["write_date"] = fmt_dt(self.env.now())
        rec.setdefault("create_uid", self.env.uid)
        self.records[rid] = rec
        for name, comodel, vals in children or []:
            inverse = _inverse_field(self, name, comodel)
            child_id = comodel.create_one({**vals, inverse: rid} if inverse else vals)
            rec.setdefault(name, [])
            rec[name].append(child_id)
        self.after_create(rec)
        return rid

    def after_create(self, rec: dict[str, Any]) -> None:
        pass

    def create(self, values: Any, context: dict[str, Any]) -> Any:
        if isinstance(values, list):
            return [self.create_one(v) for v in values]
        return self.create_one(values)

    def write(self, ids: list[int], values: dict[str, Any], context: dict[str, Any]) -> bool:
        for name in values:
            self.field_def(name)
        for rec in self.browse_existing(ids):
            for name, value in values.items():
                if name in self.computed() and not self.fields.get(name, {}).get("store"):
                    continue
                rec[name] = self._convert_in(name, value, rec)
            rec["write_date"] = fmt_dt(self.env.now())
        return True

    def rpc_load(self, fields: list[str], data: list[list[Any]], **_: Any) -> dict[str, Any]:
        """Odoo's import API, as the contract's posting-cost table uses it: ``.id`` updates existing records."""
        if ".id" not in fields:  # new records: many2one columns by database id ("product_id/.id")
            names = [f[: -len("/.id")] if f.endswith("/.id") else f for f in fields]
            for name in names:
                self.field_def(name)
            created = [self.create_one({n: v for n, v in zip(names, row)}) for row in data]
            return {"ids": created, "messages": [], "nextrow": 0}
        index = fields.index(".id")
        ids = []
        tz = self.env.input_tz()
        for row in data:
            rid = int(row[index])
            values = {name: value for name, value in zip(fields, row) if name != ".id"}
            for name, value in values.items():
                # like Odoo's import: a naive datetime is local time of the context's tz, else the user's, else UTC
                if self.field_def(name).get("type") == "datetime" and isinstance(value, str) and value:
                    local = datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=tz)
                    values[name] = fmt_dt(local.astimezone(timezone.utc).replace(tzinfo=None))
            self.write([rid], values, self.env.context)
            ids.append(rid)
        return {"ids": ids, "messages": []}

    def unlink(self, ids: list[int], context: dict[str, Any]) -> bool:
        for rec in self.browse_existing(ids):
            del self.records[rec["id"]]
        return True

    def read(self, ids: list[int], fields: list[str] | None, context: dict[str, Any]) -> list[dict[str, Any]]:
        names = fields or [n for n, f in self.fields.items() if f.get("type") not in ("binary",)]
        for name in names:
            self.field_def(name)
        out = []
        for rid in ids:  # read of a missing id: silently skipped (F10)
            rec = self.records.get(rid)
            if rec is None:
                continue
            row = {"id": rid}
            for name in names:
                if name != "id":
                    row[name] = self.value_out(rec, name)
            out.append(row)
        return out

    def visible(self, rec: dict[str, Any]) -> bool:
        """Record rules: a record the API user may not see is silently filtered from searches."""
        return True

    def search(self, domain: list[Any], offset: int = 0, limit: int | None = None, order: str | None = None, context: dict | None = None) -> list[int]:
        matcher = compile_domain(self, domain)
        found = [rec for rec in self.records.values() if self.visible(rec) and matcher(rec)]
        found = self.sort(found, order or self._order)
        found = found[offset:]
        if limit:
            found = found[:limit]
        return [r["id"] for r in found]

    def sort(self, records: list[dict[str, Any]], order: str) -> list[dict[str, Any]]:
        for part in reversed([p.strip() for p in order.split(",") if p.strip()]):
            bits = part.split()
            name, desc = bits[0], len(bits) > 1 and bits[1].lower() == "desc"
            self.field_def(name)
            records = sorted(records, key=lambda r, n=name: _sort_key(self.raw(r, n)), reverse=desc)
        return records

    def search_read(self, domain: list[Any], fields: list[str] | None = None, offset: int = 0, limit: int | None = None, order: str | None = None, context: dict | None = None) -> list[dict[str, Any]]:
        for name in fields or []:
            self.field_def(name)
        ids = self.search(domain, offset=offset, limit=limit, order=order)
        return self.read(ids, fields, context or {})

    def search_count(self, domain: list[Any], context: dict | None = None) -> int:
        return len(self.search(domain))

    def fields_get(self, allfields: list[str] | None = None, attributes: list[str] | None = None) -> dict[str, Any]:
        names = [n for n in (allfields or self.fields) if n in self.fields and n != "id"]
        out = {}
        for n in names:
            f = self.fields[n]
            out[n] = {k: v for k, v in f.items() if not attributes or k in attributes}
        return out

    def read_group(self, domain: list[Any], fields: list[str], groupby: list[str] | str, lazy: bool = True, context: dict | None = None, **_: Any) -> list[dict[str, Any]]:
        groupby = [groupby] if isinstance(groupby, str) else list(groupby)
        ids = self.search(domain)
        groups: dict[tuple, list[dict[str, Any]]] = {}
        for rid in ids:
            rec = self.records[rid]
            key = tuple(self.raw(rec, g) for g in groupby)
            groups.setdefault(key, []).append(rec)
        out = []
        for key, recs in groups.items():
            row: dict[str, Any] = {}
            for g, value in zip(groupby, key):
                row[g] = self.value_out(recs[0], g)
            for spec in fields:
                if ":" in spec:
                    fname, agg = spec.split(":", 1)
                    if agg == "sum":
                        row[fname] = float(sum(self.raw(r, fname) or 0 for r in recs))
            row["__count" if not lazy else f"{groupby[0]}_count"] = len(recs)
            row["__domain"] = [*( [g, "=", k] for g, k in zip(groupby, key)), *domain]
            out.append(row)
        return out


def _sort_key(value: Any) -> tuple:
    if value is False or value is None:
        return (0, "")
    if isinstance(value, (int, float)):
        return (1, value)
    return (2, str(value))


def _inverse_field(model: Model, name: str, comodel: Model) -> str | None:
    known = {
        ("sale.order", "order_line"): "order_id",
        ("purchase.order", "order_line"): "order_id",
        ("stock.picking", "move_ids"): "picking_id",
        ("stock.move", "move_line_ids"): "move_id",
        ("account.move", "line_ids"): "move_id",
    }
    return known.get((model._name, name))


# ------------------------------------------------------------------------------------------- domains

OPERATORS = {"=", "!=", "<>", "in", "not in", "<", ">", "<=", ">=", "like", "ilike", "=like", "=ilike", "not like", "not ilike", "child_of"}


def compile_domain(model: Model, domain: list[Any]) -> Callable[[dict[str, Any]], bool]:
    """Compile an Odoo prefix-notation domain into a predicate."""
    items = [tuple(t) if isinstance(t, list) else t for t in domain]
    for item in items:
        if isinstance(item, tuple):
            if len(item) != 3:
                raise value_error(f"Invalid leaf {item!r}")
            _check_path(model, item)
    pos = 0

    def parse() -> Callable[[dict[str, Any]], bool]:
        nonlocal pos
        token = items[pos]
        pos += 1
        if token == "&":
            a, b = parse(), parse()
            return lambda r: a(r) and b(r)
        if token == "|":
            a, b = parse(), parse()
            return lambda r: a(r) or b(r)
        if token == "!":
            a = parse()
            return lambda r: not a(r)
        return _leaf(model, token)

    terms = []
    while pos < len(items):
        terms.append(parse())
    return lambda r: all(t(r) for t in terms)


def _check_path(model: Model, leaf: tuple) -> None:
    path, op, _ = leaf
    if op not in OPERATORS:
        raise value_error(f"Invalid leaf {leaf!r}")
    current = model
    for part in str(path).split("."):
        if part not in current.fields:
            raise OdooFault(
                1, f"Invalid field {current._name}.{part} in leaf {leaf!r}", "builtins.ValueError",
                traceback_last=f"ValueError: Invalid field {current._name}.{part} in leaf {leaf!r}",
            )
        rel = current.fields[part].get("relation")
        if rel:
            current = current.env[rel]


def _values_at(model: Model, rec: dict[str, Any], path: list[str]) -> list[Any]:
    name = path[0]
    value = model.raw(rec, name)
    f = model.fields.get(name, {})
    if len(path) == 1:
        if f.get("type") in ("one2many", "many2many"):
            return list(value or []) or [False]
        return [value]
    comodel = model.env[f["relation"]]
    ids = value if isinstance(value, list) else ([value] if value else [])
    out: list[Any] = []
    for rid in ids:
        target = comodel.records.get(rid)
        if target is not None:
            out.extend(_values_at(comodel, target, path[1:]))
    return out or [False]


def _like(pattern: str, value: Any, *, insensitive: bool, exact: bool) -> bool:
    if value in (False, None):
        return False
    text = str(value)
    if exact:
        regex = "^" + re.escape(pattern).replace("%", ".*").replace("_", ".") + "$"
        return re.match(regex, text, re.IGNORECASE if insensitive else 0) is not None
    return (pattern.lower() in text.lower()) if insensitive else (pattern in text)


def matches(value: Any, op: str, target: Any, leaf: Any = None) -> bool:
    """Whether one value satisfies a domain operator (``child_of`` aside), as Odoo's SQL would have it."""
    if op == "=":
        return value == target or (target is False and value in (None, False, []))
    if op in ("!=", "<>"):
        return not (value == target or (target is False and value in (None, False, [])))
    if op == "in":
        return value in (target or [])
    if op == "not in":
        return value not in (target or [])
    if op in ("<", ">", "<=", ">="):
        if value in (False, None):
            return False
        try:
            return {"<": value < target, ">": value > target, "<=": value <= target, ">=": value >= target}[op]
        except TypeError:
            return False
    if op == "like":
        return _like(str(target), value, insensitive=False, exact=False)
    if op == "ilike":
        return _like(str(target), value, insensitive=True, exact=False)
    if op == "not like":
        return not _like(str(target), value, insensitive=False, exact=False)
    if op == "not ilike":
        return not _like(str(target), value, insensitive=True, exact=False)
    if op == "=like":
        return _like(str(target), value, insensitive=False, exact=True)
    if op == "=ilike":
        return _like(str(target), value, insensitive=True, exact=True)
    raise value_error(f"Invalid leaf {leaf if leaf is not None else (op, target)!r}")


def _leaf(model: Model, leaf: tuple) -> Callable[[dict[str, Any]], bool]:
    path, op, target = leaf
    parts = str(path).split(".")

    def test(value: Any) -> bool:
        return matches(value, op, target, leaf)

    if op == "child_of":
        f = model.fields[parts[-1]] if len(parts) == 1 else None
        relation = f.get("relation") if f else model._name
        roots = target if isinstance(target, list) else [target]

        def child_of(rec: dict[str, Any]) -> bool:
            values = _values_at(model, rec, parts)
            comodel = model.env[relation] if relation else model
            return any(v and model.env.is_child_of(comodel, v, roots) for v in values)

        return child_of

    negative = op in ("!=", "<>", "not in", "not like", "not ilike")

    def match(rec: dict[str, Any]) -> bool:
        values = _values_at(model, rec, parts)
        return all(test(v) for v in values) if negative else any(test(v) for v in values)

    return match

