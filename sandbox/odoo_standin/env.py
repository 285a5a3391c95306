"""The stand-in's world: models, users, sequences, the clock and RPC dispatch (one database)."""

from __future__ import annotations

import json
import os
import pickle
import threading
from collections.abc import Callable
from datetime import date, datetime, timedelta
from collections import Counter
from pathlib import Path
from typing import Any

from sandbox.odoo_standin.orm import CONTRACT, Model, OdooFault, access_error, now_utc, user_error, value_error

VERSIONS = ("17.0", "18.0", "19.0")


def standin_version(version: str | None = None) -> str:
    """The Odoo version the stand-in answers as: the argument, else ``ODOO_STANDIN_VERSION``, else 17.0."""
    raw = str(version or os.environ.get("ODOO_STANDIN_VERSION") or "17.0").strip()
    value = raw if "." in raw else f"{raw}.0"
    if value not in VERSIONS:
        raise ValueError(f"ODOO_STANDIN_VERSION must be one of {', '.join(VERSIONS)} (17, 18, 19), not {raw!r}")
    return value


def contract_dir(version: str) -> Path:
    """The captured contract of a version: 17.0 at the contract's top, the others in a folder of their own."""
    return CONTRACT if version == "17.0" else CONTRACT / version


READ_ONLY = frozenset({"search_read", "search", "search_count", "read", "fields_get", "read_group", "default_get"})


class Env:
    def __init__(self, *, database: str = "odoo3pl", today: date | None = None, frozen_now: datetime | None = None,
                 version: str | None = None) -> None:
        self.database = database
        self.version = standin_version(version)  # "17.0", "18.0" or "19.0": the server it answers as
        self.contract = contract_dir(self.version)
        self.version_info = json.loads((self.contract / "version.json").read_text())["response"]
        self.major = int(self.version.split(".")[0])
        self.adapter: Any = None  # set by build() for 18 and 19 once the models exist (versions.VersionAdapter)
        self.lock = threading.RLock()
        self.models: dict[str, Model] = {}
        self.uid = 0
        self.context: dict[str, Any] = {}
        self._ids: dict[str, int] = {}
        self._sequences: dict[str, int] = {}
        self._clock_offset = timedelta(0)
        self.frozen_now = frozen_now  # tests that compare files byte for byte freeze the server clock (UTC, naive)
        if today is not None:
            now = now_utc()
            self._clock_offset = datetime.combine(today, now.time()) - now
        # users: uid -> {login, password, api_key, admin: bool}
        self.users: dict[int, dict[str, Any]] = {}
        self.company_settings = {"stock_move_sms_validation": True}
        self.transactional = True  # benchmarks switch rollback snapshots off while they load data
        self.calls: Counter[str] = Counter()  # every RPC received, by "model.method" (cost fidelity: what Odoo is asked)

    def says(self, key: str, **fields: Any) -> str:
        """This version's text for ``key`` (sandbox/odoo_standin/answers.py)."""
        from sandbox.odoo_standin.answers import says

        return says(self.major, key, **fields)

    def does(self, key: str) -> Any:
        """How this version behaves where versions differ (sandbox/odoo_standin/answers.py)."""
        from sandbox.odoo_standin.answers import does

        return does(self.major, key)

    def unknown_method(self, model: str, method: str) -> OdooFault:
        text = self.says("unknown_method", model=model, method=method)
        return OdooFault(1, text, "builtins.AttributeError", traceback_last=f"AttributeError: {text}")

    def count_call(self, key: str) -> None:
        with self.lock:
            self.calls[key] += 1

    # ------------------------------------------------------------------ registry

    def register(self, model_cls: type[Model]) -> Model:
        model = model_cls(self)
        self.models[model._name] = model
        return model

    def __getitem__(self, name: str) -> Model:
        try:
            return self.models[name]
        except KeyError:
            raise OdooFault(2, f"Object {name} doesn't exist", "odoo.exceptions.UserError") from None

    def next_id(self, model: str) -> int:
        current = self._ids.get(model)
        if current is None:
            current = max(self.models[model].records, default=0) if model in self.models else 0
        self._ids[model] = current + 1
        return current + 1

    def sequence(self, key: str, start: int = 0) -> int:
        self._sequences[key] = self._sequences.get(key, start) + 1
        return self._sequences[key]

    def now(self) -> datetime:
        if self.frozen_now is not None:
            return self.frozen_now
        return now_utc() + self._clock_offset

    def today(self) -> date:
        return self.now().date()

    def is_child_of(self, model: Model, rid: int, roots: list[int]) -> bool:
        parent = "location_id" if model._name == "stock.location" else "parent_id"
        seen = set()
        while rid and rid not in seen:
            if rid in roots:
                return True
            seen.add(rid)
            rec = model.records.get(rid)
            if rec is None:
                return False
            rid = rec.get(parent) or 0
        return False

    # ------------------------------------------------------------------ users

    @property
    def user(self) -> dict[str, Any]:
        return self.users[self.uid]

    @property
    def is_admin(self) -> bool:
        return bool(self.users.get(self.uid, {}).get("admin"))

    def input_tz(self) -> Any:
        """The zone Odoo's import (``load``) reads naive datetimes in: context ``tz``, else the user's, else UTC."""
        from zoneinfo import ZoneInfo

        rec = self["res.users"].records.get(self.uid) or {}
        for name in (self.context.get("tz"), rec.get("tz")):
            if name:
                try:
                    return ZoneInfo(name)
                except (KeyError, ValueError):
                    continue
        return ZoneInfo("UTC")

    def uid_of_api_key(self, key: str) -> int | None:
        """JSON-2 knows the caller by its API key only (a password is refused)."""
        return next((uid for uid, user in self.users.items() if key and user.get("api_key") == key), None)

    def authenticate(self, login: str, secret: str) -> int | bool:
        for uid, user in self.users.items():
            if user["login"] == login and secret in (user["password"], user.get("api_key")):
                return uid
        return False

    def check_credentials(self, uid: int, secret: str) -> None:
        user = self.users.get(uid)
        if user is None:
            raise OdooFault(
                2, f"Record does not exist or has been deleted.\n(Record: res.users({uid},), User: {uid})",
                "odoo.exceptions.MissingError",
            )
        if secret not in (user["password"], user.get("api_key")):
            raise OdooFault(3, "Access Denied", "odoo.exceptions.AccessDenied")

    def require_email(self) -> None:
        """Chatter messages need an author email (contract F3 gotcha)."""
        user_rec = self["res.users"].records[self.uid]
        if not user_rec.get("email"):
            raise user_error("Unable to send message, please configure the sender's email address.")

    # ------------------------------------------------------------------ dispatch

    def execute_kw(self, uid: int, secret: str, model: str, method: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        with self.lock:
            self.check_credentials(uid, secret)
            if method.startswith("_"):
                raise access_error(self.says("private_method", model=model, method=method))
            target = self[model]
            kwargs = dict(kwargs or {})
            context = dict(kwargs.pop("context", None) or {})
            self.uid, self.context = uid, context
            if method in READ_ONLY or not self.transactional:
                return self._call(target, method, list(args or []), kwargs, context)
            snapshot = self.snapshot()
            try:
                return self._call(target, method, list(args or []), kwargs, context)
            except BaseException:
                self.restore(snapshot)  # a failed call is one rolled-back transaction
                raise

    def _call(self, target: Model, method: str, args: list[Any], kwargs: dict[str, Any], context: dict[str, Any]) -> Any:
        if self.adapter is not None:
            return self._call_as_version(target, method, args, kwargs, context)
        generic: dict[str, Callable[..., Any]] = {
            "search_read": lambda domain=None, fields=None, offset=0, limit=None, order=None: target.search_read(
                domain or [], fields, offset=offset, limit=limit, order=order, context=context),
            "search": lambda domain=None, offset=0, limit=None, order=None, count=False: target.search(
                domain or [], offset=offset, limit=limit, order=order),
            "search_count": lambda domain=None, limit=None: target.search_count(domain or []),
            "read": lambda ids, fields=None, load=None: target.read(_ids(ids), fields, context),
            "write": lambda ids, vals: target.write(_ids(ids), vals, context),
            "create": lambda vals: target.create(vals, context),
            "unlink": lambda ids: target.unlink(_ids(ids), context),
            "fields_get": lambda allfields=None, attributes=None: target.fields_get(allfields, attributes),
            "read_group": lambda domain, fields, groupby, offset=0, limit=None, orderby=False, lazy=True: target.read_group(
                domain, fields, groupby, lazy=lazy, context=context),
        }
        if method in generic:
            return generic[method](*args, **kwargs)
        handler = getattr(target, f"rpc_{method}", None)
        if handler is None:
            raise self.unknown_method(target._name, method)
        return handler(*args, **kwargs)

    def _call_as_version(self, target: Model, method: str, args: list[Any], kwargs: dict[str, Any], context: dict[str, Any]) -> Any:
        """One call in another version's names (sandbox/odoo_standin/versions.py), answered by the 17 model."""
        a, name = self.adapter, target._name
        a.check_model(name, method)

        def search_read(domain=None, fields=None, offset=0, limit=None, order=None):  # noqa: ANN001, ANN202
            inner, asked = a.fields_in(name, fields)
            rows = target.search_read(a.domain(name, domain or []), inner, offset=offset, limit=limit, order=a.order(name, order), context=context)
            return a.rows_out(name, rows, asked)

        def read(ids, fields=None, load=None):  # noqa: ANN001, ANN202
            inner, asked = a.fields_in(name, fields)
            return a.rows_out(name, target.read(_ids(ids), inner, context), asked)

        def create(vals=None, vals_list=None):  # noqa: ANN001, ANN202
            vals = vals if vals is not None else vals_list
            return target.create([a.values_in(name, v) for v in vals] if isinstance(vals, list) else a.values_in(name, vals), context)

        def read_group(domain, fields, groupby, offset=0, limit=None, orderby=False, lazy=True):  # noqa: ANN001, ANN202
            groupby = [groupby] if isinstance(groupby, str) else list(groupby)
            aggregates = [a._field(name, f.split(":")[0]) + (":" + f.split(":", 1)[1] if ":" in f else "") for f in fields]
            rows = target.read_group(a.domain(name, domain), aggregates,
                                     [a._field(name, g) for g in groupby], lazy=lazy, context=context)
            back = {inner: outer for outer, inner in a.renames.get(name, {}).items()}
            return [{back.get(k, k): v for k, v in row.items()} for row in rows]

        generic: dict[str, Callable[..., Any]] = {
            "search_read": search_read, "read": read, "create": create, "read_group": read_group,
            "search": lambda domain=None, offset=0, limit=None, order=None, count=False: target.search(
                a.domain(name, domain or []), offset=offset, limit=limit, order=a.order(name, order)),
            "search_count": lambda domain=None, limit=None: target.search_count(a.domain(name, domain or [])),
            "write": lambda ids, vals: target.write(_ids(ids), a.values_in(name, vals), context),
            "unlink": lambda ids: target.unlink(_ids(ids), context),
            "fields_get": lambda allfields=None, attributes=None: a.fields_get(name, allfields, attributes),
        }
        if method in generic:
            return generic[method](*args, **kwargs)
        if method == "load":
            fields, data = (list(args) + [kwargs.pop("fields", None), kwargs.pop("data", None)])[:2] if args else (kwargs.pop("fields"), kwargs.pop("data"))
            def column(f: str) -> str:
                head, slash, tail = f.partition("/")
                return f if f == ".id" else a._field(name, head) + slash + tail

            return target.rpc_load([column(f) for f in fields], data, **kwargs)  # type: ignore[attr-defined]
        if method == "default_get":
            fields = list(args[0]) if args else list(kwargs.pop("fields", None) or kwargs.pop("fields_list", None) or [])
            inner = {a._field(name, f): f for f in fields}
            values = target.rpc_default_get(list(inner), **kwargs)  # type: ignore[attr-defined]
            return {inner.get(k, k): v for k, v in values.items()}
        handler = getattr(target, f"rpc_{method}", None)
        if handler is None:
            raise self.unknown_method(target._name, method)
        return handler(*args, **kwargs)

    # ------------------------------------------------------------------ persistence

    def save(self, path: Any) -> None:
        """Keep the database in a file (the demo's Odoo survives restarts)."""
        with self.lock:
            data = pickle.dumps(({n: m.records for n, m in self.models.items()}, self._ids, self._sequences, self.users))
        tmp = f"{path}.tmp"
        with open(tmp, "wb") as handle:
            handle.write(data)
        import os

        os.replace(tmp, path)

    def load(self, path: Any) -> None:
        with open(path, "rb") as handle:
            records, ids, sequences, users = pickle.loads(handle.read())
        for name, recs in records.items():
            if name in self.models:
                self.models[name].records = recs
        self._ids, self._sequences, self.users = ids, sequences, users

    # ------------------------------------------------------------------ transactions

    def snapshot(self) -> Any:
        return pickle.dumps(({n: m.records for n, m in self.models.items()}, self._ids, self._sequences))

    def restore(self, snapshot: Any) -> None:
        records, ids, sequences = pickle.loads(snapshot)
        for name, recs in records.items():
            self.models[name].records = recs
        self._ids, self._sequences = ids, sequences


def _ids(ids: Any) -> list[int]:
    if isinstance(ids, int):
        return [ids]
    if not isinstance(ids, list):
        raise value_error(f"expected a list of ids, got {ids!r}")
    return [int(i) for i in ids]
