"""Contract tests run against the Odoo stand-in by default, answering as Odoo 17, 18 and 19 over every protocol each
has (XML-RPC, JSON-RPC; JSON-2 from 19; ODOO_STANDIN_VERSION keeps one version), and against a real Odoo 17, 18
or 19 when ODOO_URL, ODOO_DB, ODOO_USER and ODOO_PASSWORD are set (ODOO_PROTOCOL: auto (default), xmlrpc, jsonrpc
or json2, which needs API keys as ODOO_PASSWORD and ODOO_ADMIN_PASSWORD; ODOO_ADMIN_USER/ODOO_ADMIN_PASSWORD enable
the administration steps: setting a lock date, creating a user without an email).

On a real server the tests create what they need (products with unique codes, customers, orders in the
warehouse with code 3PL and a 'Case of 12' unit, created when missing, by the administrator if the API user may
not; a user of their own, archived afterwards)
and never modify other data.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from threepl_bridge.odoo.client import OdooClient, OdooSettings
from threepl_bridge.odoo.errors import OdooAccessError

REAL = all(os.environ.get(k) for k in ("ODOO_URL", "ODOO_DB", "ODOO_USER", "ODOO_PASSWORD"))


SECRET_KEYS = frozenset({"password", "new_password", "api_key"})


def _trim(value: Any, depth: int = 0) -> Any:
    """A transcript's copy of a value: lists cut after 25 items, nested structures after 6 levels."""
    if isinstance(value, (list, tuple)):
        kept = [_trim(v, depth + 1) for v in list(value)[:25]]
        return kept + ([f"... {len(value) - 25} more"] if len(value) > 25 else []) if depth < 6 else "[...]"
    if isinstance(value, dict):  # a password given to a new user is no fact: it is kept out
        return {k: "<secret>" if k in SECRET_KEYS else _trim(v, depth + 1) for k, v in value.items()} if depth < 6 else "{...}"
    return value


class Recorder:
    """The call sequence of one test as the server answered it (CONTRACT_RECORD=<folder>): each call's model,
    method, arguments and response or error (type and message), in order. Secrets never enter: the client adds
    them below ``execute``."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def wrap(self, client: OdooClient, as_user: str | None = None) -> OdooClient:
        inner = client.execute

        def execute(model: str, method: str, *args: Any, **kwargs: Any) -> Any:
            call: dict[str, Any] = {"step": len(self.calls) + 1, "model": model, "method": method, "args": _trim(list(args)),
                                    "kwargs": _trim(kwargs), **({"as_user": as_user} if as_user else {})}
            self.calls.append(call)
            try:
                call["response"] = _trim(result := inner(model, method, *args, **kwargs))
            except Exception as exc:
                call["fault"] = {"type": type(exc).__name__, "message": str(exc)[:2000]}
                raise
            return result

        client.execute = execute  # type: ignore[method-assign]
        return client

    def save(self, folder: str, name: str, server: dict[str, Any]) -> None:
        import json
        import re
        from pathlib import Path

        path = Path(folder) / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"test": name, "server": server, "calls": self.calls}, indent=1, default=str) + "\n")


@dataclass
class Odoo:
    """The server under test, reached through our client, plus the helpers the flows need."""

    client: OdooClient
    admin: OdooClient | None
    real: bool
    connect: Callable[[str, str], OdooClient]  # a client of the same server and protocol for another login
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:6].upper())
    created_users: list[int] = field(default_factory=list)
    expected_major: int | None = None  # the stand-in's version (a real server's is whatever it says)
    _warehouse: dict[str, Any] | None = None

    def x(self, model: str, method: str, *args: Any, **kwargs: Any) -> Any:
        return self.client.execute(model, method, *args, **kwargs)

    @property
    def dialect(self) -> Any:
        """The server version's field names (threepl_bridge.odoo.dialect), as the product uses them."""
        return self.client.dialect

    @property
    def major(self) -> int:
        return self.client.major

    def fact(self, key: str) -> Any:
        """What this server's version answers where versions differ (tests/contract/facts.py)."""
        from tests.contract.facts import fact

        return fact(self.major, key)

    @property
    def warehouse(self) -> dict[str, Any]:
        if self._warehouse is None:
            fields = ["name", "code", "lot_stock_id", "out_type_id", "in_type_id", "view_location_id"]
            found = self.x("stock.warehouse", "search_read", [["code", "=", "3PL"]], fields=fields)
            if not found:
                self._create_warehouse({"name": "3PL Warehouse", "code": "3PL"})
                found = self.x("stock.warehouse", "search_read", [["code", "=", "3PL"]], fields=fields)
            self._warehouse = found[0]
        return self._warehouse

    def _create_warehouse(self, values: dict[str, Any]) -> None:
        """By the API user if it may; a company's second warehouse turns on the multi-warehouse group
        (res.groups), which only an administrator may (seen on a fresh 17.0 database: AccessError)."""
        try:
            self.x("stock.warehouse", "create", values)
        except OdooAccessError:
            if self.admin is None:
                pytest.skip("no 3PL warehouse on this server, the API user may not create it and there are no ODOO_ADMIN_* credentials")
            self.admin.execute("stock.warehouse", "create", values)

    @property
    def stock_location(self) -> int:
        return self.warehouse["lot_stock_id"][0]

    def product(self, name: str, *, tracking: str = "none", stock: float = 0, lots: dict[str, float] | None = None,
                cost: float = 50.0, barcode: str | None = None) -> dict[str, Any]:
        """A new storable product with a unique code, stocked in 3PL/Stock by inventory adjustment (F6)."""
        code = f"CT-{self.tag}-{name}"
        values = {"name": f"Contract {name}", "default_code": code, **self.dialect.storable_values, "tracking": tracking,
                  "standard_price": cost, "list_price": cost * 2}
        if barcode:
            values["barcode"] = barcode
        pid = self.x("product.product", "create", values)
        ctx = {"inventory_mode": True, "inventory_name": f"contract seed {code}"}
        if stock:
            self.x("stock.quant", "create", {"product_id": pid, "location_id": self.stock_location, "inventory_quantity_auto_apply": stock}, context=ctx)
        for lot_name, qty in (lots or {}).items():
            [lot] = self.client.load_create("stock.lot", [{"name": f"{lot_name}-{self.tag}", "product_id": pid, "company_id": 1}])
            self.x("stock.quant", "create", {"product_id": pid, "location_id": self.stock_location, "lot_id": lot, "inventory_quantity_auto_apply": qty}, context=ctx)
        [product] = self.x("product.product", "read", [pid], fields=["id", "name", "default_code", "uom_id", "tracking", "standard_price"])
        return product

    def customer(self, *, phone: bool = True) -> int:
        return self.x("res.partner", "create", {
            "name": f"Contract Customer {self.tag}-{uuid.uuid4().hex[:4]}", "street": "1 Dock Road", "city": "Fremont",
            "zip": "94538", "country_id": self.us, **({"phone": "(870)-931-0505"} if phone else {}),
        })

    @property
    def us(self) -> int:
        return self.x("res.country", "search", [["code", "=", "US"]], limit=1)[0]

    def carrier(self) -> int:
        return self.x("delivery.carrier", "search", [], limit=1, order="id")[0]

    def order(self, lines: list[tuple[int, float]], *, partner: int | None = None, uom: int | None = None) -> dict[str, Any]:
        """Sale order in the 3PL warehouse, confirmed; returns its outgoing picking (F1)."""
        order_lines = [[0, 0, {"product_id": pid, "product_uom_qty": qty, **({self.dialect.order_line_uom: uom} if uom else {})}] for pid, qty in lines]
        so = self.x("sale.order", "create", {
            "partner_id": partner or self.customer(), "warehouse_id": self.warehouse["id"], "client_order_ref": f"EXT-{self.tag}",
            "carrier_id": self.carrier(), "order_line": order_lines,
        })
        assert self.x("sale.order", "action_confirm", [so]) is True
        [picking] = self.x("stock.picking", "search_read", [["sale_id", "=", so], ["picking_type_code", "=", "outgoing"]],
                           fields=["name", "state", "move_ids", "carrier_id", "partner_id", "sale_id", "batch_id"])
        if picking.get("batch_id"):  # auto-batch gotcha (F5): detach so single pickings validate independently
            self.x("stock.picking", "write", [picking["id"]], {"batch_id": False})
        return picking

    def moves(self, picking_id: int, fields: list[str] | None = None) -> list[dict[str, Any]]:
        return self.x("stock.move", "search_read", [["picking_id", "=", picking_id]],
                      fields=fields or ["product_id", "product_uom_qty", "quantity", "picked", "state", "move_line_ids", "product_uom"])

    @property
    def default_unit(self) -> int:
        """The unit a new product gets (Units): as a product's ``uom_id``. (``product.template.default_get`` is no
        model method over RPC on Odoo 18.0: its override lost ``@api.model``.)"""
        pid = self.x("product.product", "search", [["uom_id.name", "=", "Units"]], limit=1)
        return self.x("product.product", "read", pid, fields=["uom_id"])[0]["uom_id"][0]

    def ensure_email(self) -> None:
        [user] = self.x("res.users", "read", [self.client.uid], fields=["email"])
        if not user["email"]:
            self.x("res.users", "write", [self.client.uid], {"email": "etl-3pl@example.com"})

    def case_uom(self) -> dict[str, Any]:
        """The 'Case of 12' unit (12 of the default unit, Units), created when missing: by the API user if it may
        (Inventory/Sales/Purchase administrators may), else by the administrator."""
        fields = self.dialect.unit_fields
        found = self.x("uom.uom", "search_read", [["name", "=", "Case of 12"]], fields=fields)
        if not found:
            [base] = self.x("uom.uom", "read", [self.default_unit], fields=fields)
            values = self.dialect.bigger_unit_values("Case of 12", base, 12)
            try:
                self.x("uom.uom", "create", values)
            except OdooAccessError:
                if self.admin is None:
                    pytest.skip("no 'Case of 12' unit on this server, the API user may not create it and there are no ODOO_ADMIN_* credentials")
                self.admin.execute("uom.uom", "create", values)
            found = self.x("uom.uom", "search_read", [["name", "=", "Case of 12"]], fields=fields)
        return found[0]

    def system_parameter(self, key: str) -> Any:
        """An ir.config_parameter value (False when unset), read by the administrator: the API user may not."""
        if self.admin is None:
            pytest.skip(f"needs ODOO_ADMIN_USER/ODOO_ADMIN_PASSWORD to read the system parameter {key}")
        return self.admin.execute("ir.config_parameter", "get_param", key)

    def user_without_email(self) -> tuple[int, OdooClient]:
        """A new internal user with the API user's rights (Inventory, Sales and Purchase Administrator, Accounting
        read-only) and no email, created by the administrator; returns its id and a client logged in as it."""
        if self.admin is None:
            pytest.skip("needs ODOO_ADMIN_USER/ODOO_ADMIN_PASSWORD to create a user")
        xmlids = ["stock.group_stock_manager", "sales_team.group_sale_manager", "purchase.group_purchase_manager",
                  "account.group_account_readonly"]
        found = self.admin.execute("ir.model.data", "search_read", [["model", "=", "res.groups"], ["module", "in", [x.split(".")[0] for x in xmlids]],
                                                                     ["name", "in", [x.split(".")[1] for x in xmlids]]],
                                   fields=["module", "name", "res_id"])
        by_xmlid = {f"{r['module']}.{r['name']}": r["res_id"] for r in found}
        groups = [by_xmlid[x] for x in xmlids]
        login, password = f"ct-noemail-{self.tag.lower()}-{uuid.uuid4().hex[:4]}", f"ct-{uuid.uuid4().hex}"
        uid = self.admin.execute("res.users", "create", {
            "name": f"Contract no-email {self.tag}", "login": login, "password": password, "company_id": 1,
            "company_ids": [[6, 0, [1]]], self.dialect.user_groups_field: [[6, 0, groups]],
        })
        self.created_users.append(uid)
        return uid, self.connect(login, password)

    def entries_of(self, move_ids: list[int]) -> list[dict[str, Any]]:
        """The journal entries of these stock moves (17, 18: account.move.stock_move_id; 19: the moves'
        account_move_id, set only for moves between locations valued in the books: a delivery has none)."""
        fields = ["name", "date", "state", "auto_post", "amount_total", "journal_id"]
        if self.dialect.has_valuation_layers:
            return self.x("account.move", "search_read", [["stock_move_id", "in", move_ids]], fields=[*fields, "stock_move_id"])
        return self.x("account.move", "search_read", [["stock_move_ids", "in", move_ids]], fields=fields)

    def valuation(self, move_id: int) -> tuple[float, float]:
        """(quantity, value) a done move was valued at, unsigned: its layers (17, 18) or the move itself (19)."""
        if self.dialect.has_valuation_layers:
            layers = self.x("stock.valuation.layer", "search_read", [["stock_move_id", "=", move_id]], fields=["quantity", "value"])
            return abs(sum(l["quantity"] for l in layers)), abs(sum(l["value"] for l in layers))
        [move] = self.x("stock.move", "read", [move_id], fields=["quantity", "value"])
        return move["quantity"], move["value"]


def _settings(protocol: str) -> OdooSettings:
    return OdooSettings(
        url=os.environ["ODOO_URL"], database=os.environ["ODOO_DB"], login=os.environ["ODOO_USER"],
        password=os.environ["ODOO_PASSWORD"], protocol=protocol, max_retries=1,
    )


def _standin_cases() -> list[str]:
    from sandbox.odoo_standin.env import VERSIONS, standin_version

    versions = [standin_version()] if os.environ.get("ODOO_STANDIN_VERSION") else list(VERSIONS)
    return [f"{v}-{p}" for v in versions for p in ("xmlrpc", "jsonrpc", *(("json2",) if int(v.split(".")[0]) >= 19 else ()))]


@pytest.fixture(params=_standin_cases() if not REAL else [f"real-{os.environ.get('ODOO_PROTOCOL', 'auto')}"])
def case(request: pytest.FixtureRequest) -> tuple[str, str]:
    """(the stand-in's version or "real", the protocol)."""
    version, _, protocol = request.param.partition("-")
    return version, protocol


@pytest.fixture
def protocol(case: tuple[str, str]) -> str:
    return case[1]


@pytest.fixture
def odoo(case: tuple[str, str], protocol: str, request: pytest.FixtureRequest) -> Iterator[Odoo]:
    if REAL:
        def connect(login: str, secret: str) -> OdooClient:
            # a new user has a password, no API key: JSON-2 (and auto, on 19) takes keys only, so XML-RPC for it
            spoken = "xmlrpc" if protocol in ("json2", "auto") else protocol
            return OdooClient(OdooSettings(url=os.environ["ODOO_URL"], database=os.environ["ODOO_DB"], login=login, password=secret,
                                           protocol=spoken, max_retries=1))

        admin_login, admin_secret = os.environ.get("ODOO_ADMIN_USER"), os.environ.get("ODOO_ADMIN_PASSWORD")
        admin = None
        if admin_login and admin_secret:
            admin = OdooClient(OdooSettings(url=os.environ["ODOO_URL"], database=os.environ["ODOO_DB"], login=admin_login,
                                            password=admin_secret, protocol=protocol))
        world = Odoo(client=OdooClient(_settings(protocol)), admin=admin, real=True, connect=connect)
        folder, recorder = os.environ.get("CONTRACT_RECORD"), Recorder()
        if folder:
            recorder.wrap(world.client)
            if admin is not None:
                recorder.wrap(admin, as_user="admin")
        try:
            yield world
        finally:
            _archive(world)
            if folder:
                info = world.client.version()
                recorder.save(folder, request.node.name, {"server_version": info.get("server_version"), "protocol": world.client.protocol})
        return
    from sandbox.odoo_standin import OdooStandIn, build

    with OdooStandIn(build(version=case[0])) as server:
        def client(login: str, secret: str, spoken: str = protocol) -> OdooClient:
            return OdooClient(OdooSettings(url=server.url, database="odoo3pl", login=login, password=secret, protocol=spoken, max_retries=1))

        def connect(login: str, secret: str) -> OdooClient:  # a password: JSON-2 takes keys only, so XML-RPC then
            return client(login, secret, "xmlrpc" if protocol == "json2" else protocol)

        admin = client("admin", "standin-admin-api-key" if protocol == "json2" else "admin")
        world = Odoo(client=client("etl", "standin-etl-api-key"), admin=admin, real=False, connect=connect,
                     expected_major=int(case[0].split(".")[0]))
        yield world
        _archive(world)


def _archive(world: Odoo) -> None:
    """Users the tests created are archived: they can no longer log in."""
    if world.created_users and world.admin is not None:
        world.admin.execute("res.users", "write", world.created_users, {"active": False})
