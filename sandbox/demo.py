"""The README's end-to-end demo on embedded defaults, or against a real Odoo 17, 18 or 19 (sandbox: never imported by the product).

Starts, on loopback: the Odoo stand-in (or, with ``--odoo-url``, uses the real server given), an SFTP server
(asyncssh, generated host and client keys) playing the demo 3PL's server, and Airflow (SQLite metadata,
LocalExecutor, parallelism 4) with the connections set. Then it runs the DAGs for real (``airflow dags test``):
products out, orders out, the simulated 3PL acts, dispatches in, stock reconciled, month-end report; prints a
summary and leaves the Airflow UI up until Ctrl+C (``--no-ui`` or CI=true: exit after the summary, status 0 only
if the loop worked). A second run doubles nothing. The stand-in answers as Odoo 17 unless ``--odoo-version 18|19``
(or ODOO_STANDIN_VERSION) says otherwise; the protocol is ``auto`` (JSON-2 for 19, XML-RPC before) unless
``--protocol`` (or ODOO_PROTOCOL) names one.

Against a real Odoo (``--odoo-url URL --odoo-db DB --odoo-user LOGIN``, the password or API key in ODOO_PASSWORD;
or ODOO_URL, ODOO_DB, ODOO_USER, ODOO_PASSWORD in the environment) the demo works in a warehouse of its own
("3PL Demo Warehouse", code D3PL, created once and found again by code), with its own customers, lots, stock and
orders; it never changes data it did not create, except the API user's email when the user has none. Its state
(ledger, SFTP folders, the 3PL's memory, the generated partner YAML) lives in a folder per server and database,
``.demo-<host>-<db>/``, never mixed with the stand-in's ``.demo/``.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import email.utils
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import uuid
import xmlrpc.client
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sandbox import demo_goods
from sandbox.task_logs import keep_task_logs

REPO = Path(__file__).resolve().parents[1]
BASE = Path(os.environ.get("THREEPL_DEMO_DIR", REPO / ".demo"))
DEMO = BASE  # the folder of this run: BASE for the stand-in, BASE-<host>-<db> for a real server (main())
PARTNER = "demo3pl"
DAG_CALLS: Counter[str] = Counter()  # the Odoo calls the DAG runs' tasks report making ("Odoo calls: N {...}" in their logs)
NEEDS: list[str] = []  # the runs whose needs_a_person task left blocking items, as the summary lists them
API_KEY = "standin-etl-api-key"
ODOO_POOL = os.environ.get("THREEPL_ODOO_POOL", "odoo_api")  # the tasks' pool (threepl_bridge.airflow.boundary)

# (reference, customer, lines [(sku, qty, unit: None = the product's, "case" = Case of 12)], what the 3PL does)
ORDERS = [
    ("DEMO-1", "azure", [("FURN_7800", 2, None), ("E-COM11", 1, None)], "ships in full (file with a UTF-8 BOM)"),
    ("DEMO-2", "deco", [("FURN_8855", 10, None)], "ships 6 of 10: backorder"),
    ("DEMO-3", "gemini", [("FURN_5555", 5, None)], "ships lot LOT-B"),
    ("DEMO-4", "lumber", [("FURN_0269", 2, None)], "ships, plus a line for a SKU not on the order"),
    ("DEMO-5", "azure", [("FURN_6666", 1, None)], "never ships: pending past the SLA"),
    ("DEMO-6", None, [("FURN_8855", 1, None)], "customer address has no zip: held"),
    ("DEMO-7", "deco", [("FURN_7800", 3, None)], "ships before the count, file arrives after it: timing"),
    ("DEMO-8", "gemini", [("E-COM11", 1.5, "case")], "1.5 cases of 12: held (UoM mismatch)"),
]
# the customers: on the stand-in, Odoo's demo partners (found by name); on a real server the demo's own (by ref)
CUSTOMERS = {
    "azure": ("Azure Interior", "4557 De Silva St", "94538", "Fremont"),
    "deco": ("Deco Addict", "77 Santa Barbara Rd", "94523", "Pleasant Hill"),
    "gemini": ("Gemini Furniture", "317 Fairchild Dr", "94535", "Fairfield"),
    "lumber": ("Lumber Inc", "1337 N San Joaquin St", "95202", "Stockton"),
}
NO_ZIP = ("Walk-in Customer (no zip)", "9 Unknown Road", "Oakland")

# a real server: the demo's own warehouse, products (Odoo demo data, created where missing) and opening stock
WAREHOUSE_NAME, WAREHOUSE_CODE = "3PL Demo Warehouse", "D3PL"
PRODUCTS = {  # SKU: (name, tracking, cost)
    "FURN_7800": ("Desk Combination", "none", 300.0), "E-COM11": ("Cabinet with Doors", "none", 120.5),
    "FURN_8855": ("Drawer", "none", 100.0), "FURN_6666": ("Acoustic Bloc Screens", "none", 287.0),
    "FURN_0269": ("Office Chair Black", "none", 180.0), "FURN_5555": ("Cable Management Box", "lot", 70.0),
}
# the code each demo product has on the server: its own, or, where a real server already has a product of that code
# that does not fit (Odoo 19's demo data tracks FURN_8855 by lot), the demo's own "<code>-D3PL" (set by real_setup)
CODES = {sku: sku for sku in PRODUCTS}
OPENING_STOCK = [("FURN_7800", "", 500), ("E-COM11", "", 300), ("FURN_8855", "", 400), ("FURN_6666", "", 100), ("FURN_0269", "", 200),
                 ("FURN_5555", "LOT-A", 40), ("FURN_5555", "LOT-B", 60)]
SEED_NAME = "3PL demo: opening stock"  # the inventory adjustments' name (stock.move), how the demo finds its seed again
CASE_UOM = "Case of 12"
CARRIER = "The Poste"


def log(msg: str) -> None:
    print(f"==> {msg}", flush=True)


class DemoSetupError(RuntimeError):
    """The real server lacks something the demo needs and will not create (the message says what)."""


@dataclass
class Site:
    """The Odoo the demo runs against, and what it found or created there."""

    url: str
    database: str
    login: str
    password: str = field(repr=False)
    real: bool = False
    protocol: str = "auto"
    standin_version: str = "17.0"  # the Odoo version the stand-in answers as
    generation: str = ""  # real server: the suffix of this demo folder's order references
    warehouse: dict[str, Any] = field(default_factory=dict)
    locations: list[int] = field(default_factory=list)  # the warehouse's stock location and below
    version: str = ""
    fresh: bool = False  # real server: a new demo folder (first run, --reset) whose set of orders is not begun yet

    def ref(self, base: str) -> str:
        return f"{base}-{self.generation}" if self.generation else base

    def base_ref(self, ref: str) -> str:
        return ref[: -len(self.generation) - 1] if self.generation and ref.endswith(f"-{self.generation}") else ref

    @property
    def out_type(self) -> int:
        return self.warehouse["out_type_id"][0]

    @property
    def stock_location(self) -> int:
        return self.warehouse["lot_stock_id"][0]


def real_folder(url: str, database: str) -> Path:
    """A folder per server and database beside the stand-in's: .demo-127.0.0.1_8069-odoo3pl."""
    host = urllib.parse.urlsplit(url if "://" in url else f"https://{url}").netloc or url
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", f"{host.replace(':', '_')}-{database}")
    return BASE.with_name(f"{BASE.name}-{slug}")


# ----------------------------------------------------------------------------------------------- setup


def keys(folder: Path) -> tuple[Any, Any]:
    from sandbox.sftp_server import KeyPair

    folder.mkdir(parents=True, exist_ok=True)
    pairs = []
    for name in ("host_key", "client_key"):
        path = folder / name
        if path.exists():
            pairs.append(KeyPair(private_openssh=path.read_text(), public_line=Path(f"{path}.pub").read_text().strip()))
        else:
            pair = KeyPair.generate()
            pair.write(path)
            pairs.append(pair)
    return pairs[0], pairs[1]


def airflow_env(site: Site, sftp_conn: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "AIRFLOW_CONN_ODOO_DEFAULT": json.dumps({"conn_type": "odoo", "host": site.url, "login": site.login, "password": site.password,
                                                 "extra": {"database": site.database, "protocol": site.protocol}}),
        "AIRFLOW_CONN_DEMO3PL_SFTP": sftp_conn,
        "AIRFLOW_CONN_THREEPL_LEDGER": json.dumps({"conn_type": "sqlite", "host": str(DEMO / "ledger.db")}),
        "THREEPL_REPORTS_DIR": str(DEMO / "reports"),
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__API__HOST": "127.0.0.1",
        # `airflow dags test` has no one to answer finance's question (ask_finance would wait for ever, seen on a
        # real Odoo 17 where a lot's variance is above tolerance): the demo's variances wait as params approvals
        "THREEPL_APPROVALS": "params",
    })
    if site.real:  # the generated partner (example: false, the demo's warehouse); the shipped example is skipped
        env["THREEPL_PARTNERS_DIR"] = str(DEMO / "partners")
        env.pop("THREEPL_EXAMPLES", None)
    else:
        env["THREEPL_EXAMPLES"] = "true"  # the demo runs the shipped example partner demo3pl
    for name in ("THREEPL_LEDGER_URL", "ODOO_PASSWORD"):
        env.pop(name, None)
    return env


def dag_test(env: dict[str, str], dag_id: str, logical_date: datetime | None = None) -> bool:
    cmd = [sys.executable, "-m", "airflow", "dags", "test", dag_id]
    if logical_date is not None:
        cmd.append(logical_date.isoformat())
    log("airflow dags test " + " ".join(cmd[5:]))
    (DEMO / "logs").mkdir(exist_ok=True)
    try:
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired as exc:  # `dags test` keeps waiting on a task up for retry
        (DEMO / "logs" / f"{dag_id}.log").write_text(str(exc.stdout or "") + str(exc.stderr or ""))
        print(f"    timed out: see {DEMO / 'logs' / (dag_id + '.log')}")
        return False
    (DEMO / "logs" / f"{dag_id}.log").write_text(done.stdout + done.stderr)
    keep_task_logs(done.stdout + done.stderr)  # the UI shows them (dags test writes none)
    for match in re.finditer(r"Odoo calls: \d+ (\{[^{}]*\})", done.stdout + done.stderr):  # each task's own tally
        DAG_CALLS.update(json.loads(match.group(1)))
    output = done.stdout + done.stderr
    state_line = [line for line in output.splitlines() if "state=" in line and "DagRun" in line]
    ok = done.returncode == 0 and not any("state=failed" in line for line in state_line)
    # the run's last task, needs_a_person, fails the run when it leaves blocking items: that is the run's answer,
    # not a failure of the demo, unless another task failed too
    said = re.search(r"(\d+) item\(s\) need a person \((\d+) blocking\)", output)
    if not ok and "NEEDS A PERSON" in output and not re.search(r"task\(s\) .* failed; their logs say why", output):
        ok = True
    if said and int(said.group(2)):
        NEEDS.append(f"{dag_id}{' ' + logical_date.date().isoformat() if logical_date else ''}: "
                     f"{said.group(2)} blocking item(s) of {said.group(1)} (run marked failed by needs_a_person)")
    if not ok:
        print(f"    failed: see {DEMO / 'logs' / (dag_id + '.log')}")
    return ok


def one(client: Any, model: str, domain: list[Any], what: str, fields: list[str] | None = None) -> Any:
    found = client.execute(model, "search_read", domain, fields=fields or ["id"], limit=1, order="id")
    if not found:
        raise DemoSetupError(f"Odoo has no {what} ({model} {domain})")
    return found[0] if fields else found[0]["id"]


def find_warehouse(client: Any, site: Site, code: str) -> None:
    fields = ["name", "code", "lot_stock_id", "out_type_id", "in_type_id", "view_location_id", "company_id"]
    site.warehouse = one(client, "stock.warehouse", [["code", "=", code]], f"warehouse {code}", fields)
    site.locations = client.execute("stock.location", "search", [["id", "child_of", site.stock_location]])


def standin_lookups(client: Any, site: Site) -> dict[str, Any]:
    """The stand-in's records the demo uses (Odoo's demo data), looked up, never assumed."""
    find_warehouse(client, site, "3PL")
    return {"country": one(client, "res.country", [["code", "=", "US"]], "country US"),
            "carrier": one(client, "delivery.carrier", [["name", "=", CARRIER]], f"carrier {CARRIER}"),
            "case": one(client, "uom.uom", [["name", "=", CASE_UOM]], f"unit {CASE_UOM}"),
            "customers": {key: one(client, "res.partner", [["name", "=", spec[0]]], f"customer {spec[0]}") for key, spec in CUSTOMERS.items()}}


def seed_orders(client: Any, site: Site, ids: dict[str, Any]) -> None:
    """The demo's sale orders in the 3PL warehouse (created once per demo folder)."""
    if not site.real:
        if client.execute("sale.order", "search", [["client_order_ref", "=like", "DEMO-%"]], limit=1):
            return
        client.execute("res.users", "write", [client.uid], {"email": "etl@demo.example"})
        ids["no_zip"] = client.execute("res.partner", "create", {"name": NO_ZIP[0], "street": NO_ZIP[1], "city": NO_ZIP[2],
                                                                 "country_id": ids["country"]})
    for ref, customer, lines, _ in ORDERS:
        partner_id = ids["customers"][customer] if customer else ids["no_zip"]
        order_lines = []
        for sku, qty, unit in lines:
            [pid] = client.execute("product.product", "search", [["default_code", "=", CODES[sku]]])
            order_lines.append([0, 0, {"product_id": pid, "product_uom_qty": qty, **({client.dialect.order_line_uom: ids[unit]} if unit else {})}])
        if site.real and client.execute("sale.order", "search", [["client_order_ref", "=", site.ref(ref)], ["warehouse_id", "=", site.warehouse["id"]]], limit=1):
            continue
        so = client.execute("sale.order", "create", {"partner_id": partner_id, "warehouse_id": site.warehouse["id"], "client_order_ref": site.ref(ref),
                                                     "carrier_id": ids["carrier"], "order_line": order_lines})
        client.execute("sale.order", "action_confirm", [so])


# ----------------------------------------------------------------------------------- a real Odoo server


def real_setup(client: Any, site: Site, now: datetime) -> dict[str, Any]:
    """Find (or create once) everything the demo needs on a real server, in its own warehouse."""
    [user] = client.execute("res.users", "read", [client.uid], fields=["login", "email", "company_id"])
    if not user["email"]:  # Odoo refuses backorders and chatter notes from a user without one
        client.execute("res.users", "write", [client.uid], {"email": f"{re.sub(r'[^A-Za-z0-9._-]', '_', user['login'])}@3pl-demo.example"})
    company = user["company_id"][0]
    found = client.execute("stock.warehouse", "search_read", [["code", "=", WAREHOUSE_CODE]], fields=["name"])
    if found and found[0]["name"] != WAREHOUSE_NAME:
        raise DemoSetupError(f"Odoo already has a warehouse with code {WAREHOUSE_CODE} ({found[0]['name']!r}) that the demo did not create; "
                             "the demo works only in its own warehouse")
    if not found:
        log(f"creating the demo's own warehouse {WAREHOUSE_NAME!r} ({WAREHOUSE_CODE})")
        from threepl_bridge.odoo.errors import OdooAccessError

        try:
            client.execute("stock.warehouse", "create", {"name": WAREHOUSE_NAME, "code": WAREHOUSE_CODE, "company_id": company})
        except OdooAccessError as exc:  # the company's second warehouse switches on a user group: administrators only
            raise DemoSetupError(f"the API user may not create the demo's warehouse on this server ({exc.odoo_message}); Odoo turns on "
                                 "its multi-warehouse setting with the company's second warehouse, which only an administrator may do: "
                                 f"create a warehouse named {WAREHOUSE_NAME!r} with code {WAREHOUSE_CODE} as an administrator "
                                 "(Inventory > Configuration > Warehouses) and run the demo again") from None
    find_warehouse(client, site, WAREHOUSE_CODE)
    dialect = client.dialect  # what differs between Odoo 17, 18 and 19
    kind_fields = ["default_code", *dialect.product_kind_fields, "tracking", "uom_id"]
    own = {sku: f"{sku}-{WAREHOUSE_CODE}" for sku in PRODUCTS}
    found_products = {p["default_code"]: p for p in client.execute("product.product", "search_read", [["default_code", "in", sorted([*PRODUCTS, *own.values()])]],
                                                                   fields=kind_fields)}
    products: dict[str, Any] = {}
    for sku, (name, tracking, cost) in PRODUCTS.items():
        p = found_products.get(sku)
        if p is not None and (not dialect.is_storable(p) or p["tracking"] != tracking):  # the server's own product: left alone
            log(f"product {sku} on this server is {dialect.product_kind(p)}/tracking {p['tracking']} (the demo needs a storable product, "
                f"tracking {tracking}); the demo uses its own {own[sku]} and does not change yours")
            p = found_products.get(own[sku])
            CODES[sku] = own[sku]
        if p is None:
            log(f"creating product {CODES[sku]} ({name})")
            pid = client.execute("product.product", "create", {"name": name, "default_code": CODES[sku], **dialect.storable_values, "tracking": tracking,
                                                               "standard_price": cost, "list_price": round(cost * 1.6, 2)})
            [p] = client.execute("product.product", "read", [pid], fields=kind_fields)
        if not dialect.is_storable(p) or p["tracking"] != tracking:
            raise DemoSetupError(f"product {CODES[sku]} exists but is {dialect.product_kind(p)}/tracking {p['tracking']} (the demo needs a storable "
                                 f"product, tracking {tracking}); the demo does not change your products")
        products[sku] = p
    lots = {}
    for sku, lot, _ in OPENING_STOCK:
        if lot:
            pid = products[sku]["id"]
            found = client.execute("stock.lot", "search", [["name", "=", lot], ["product_id", "=", pid]], limit=1)
            lots[(sku, lot)] = found[0] if found else client.load_create("stock.lot", [{"name": lot, "product_id": pid, "company_id": company}])[0]
    seed_stock(client, site, products, lots, now)
    [unit] = client.execute("uom.uom", "read", [products["E-COM11"]["uom_id"][0]], fields=dialect.unit_fields)
    family = dialect.unit_family(unit)
    case = [u["id"] for u in client.execute("uom.uom", "search_read", [["name", "=", CASE_UOM]], fields=dialect.unit_fields)
            if dialect.unit_family(u) == family][:1]
    if not case:
        log(f"creating the unit {CASE_UOM!r}")
        case = [client.execute("uom.uom", "create", dialect.bigger_unit_values(CASE_UOM, unit, 12))]
    carrier = client.execute("delivery.carrier", "search", [["name", "=", CARRIER]], limit=1)
    if not carrier:
        log(f"creating the carrier {CARRIER!r}")
        service = client.execute("product.product", "create", {"name": f"{CARRIER} (3PL demo)", **dialect.service_values, "list_price": 0})
        carrier = [client.execute("delivery.carrier", "create", {"name": CARRIER, "product_id": service, "delivery_type": "fixed"})]
    country = one(client, "res.country", [["code", "=", "US"]], "country US")
    customers: dict[str, int] = {}
    for key, (name, street, zip_code, city) in [*CUSTOMERS.items(), ("nozip", (NO_ZIP[0], NO_ZIP[1], "", NO_ZIP[2]))]:
        ref = f"DEMO3PL-{key.upper()}"
        found = client.execute("res.partner", "search", [["ref", "=", ref]], limit=1)
        customers[key] = found[0] if found else client.execute("res.partner", "create", {
            "name": f"{name} (3PL demo)", "ref": ref, "street": street, "zip": zip_code or False, "city": city, "country_id": country,
            "company_id": company})
    return {"country": country, "carrier": carrier[0], "case": case[0], "no_zip": customers.pop("nozip"), "customers": customers}


def seed_stock(client: Any, site: Site, products: dict[str, Any], lots: dict[tuple[str, str], int], now: datetime) -> None:
    """Opening stock in the demo warehouse by inventory adjustment, once; dated the day before, like the stand-in's
    (the 3PL's count is compared with Odoo at the time of the count, so the goods must have been there then)."""
    created = []
    for sku, lot, qty in OPENING_STOCK:
        pid, lot_id = products[sku]["id"], lots.get((sku, lot), False)
        if client.execute("stock.move.line", "search", [["move_id.reference", "=", SEED_NAME], ["product_id", "=", pid], ["lot_id", "=", lot_id],
                                                         ["location_dest_id", "=", site.stock_location]], limit=1):
            continue
        log(f"opening stock in {WAREHOUSE_CODE}: {qty} {sku} {lot}".rstrip())
        client.execute("stock.quant", "create", {"product_id": pid, "location_id": site.stock_location, "lot_id": lot_id,
                                                 "inventory_quantity_auto_apply": qty}, context={"inventory_mode": True, "inventory_name": SEED_NAME})
        created.append(pid)
    if created:
        stamp = fmt(now - timedelta(days=1))
        moves = client.execute("stock.move", "search", [["reference", "=", SEED_NAME], ["location_dest_id", "=", site.stock_location],
                                                         ["product_id", "in", created], ["date", ">", stamp]])
        client.execute("stock.move", "write", moves, {"date": stamp})
        client.execute("stock.move.line", "write", client.execute("stock.move.line", "search", [["move_id", "in", moves]]), {"date": stamp})


def retire_earlier_runs(client: Any, site: Site) -> None:
    """A new demo folder (first run, --reset) starts a new set of orders: the open pickings of the demo's earlier
    orders in its warehouse are cancelled (only the demo's own), so they are not released to the new ledger."""
    open_pickings = client.execute("stock.picking", "search_read", [["picking_type_id", "=", site.out_type], ["state", "not in", ["done", "cancel"]]],
                                   fields=["origin", "sale_id"])
    sales = {s["id"]: s["client_order_ref"] or "" for s in client.execute(
        "sale.order", "read", sorted({p["sale_id"][0] for p in open_pickings if p["sale_id"]}), fields=["client_order_ref"])}
    mine = re.compile(r"^DEMO-\d+-[0-9A-F]{4}$")  # the references the demo gives its orders (Site.ref)
    refs = {p["id"]: sales.get(p["sale_id"][0], "") if p["sale_id"] else (p["origin"] or "") for p in open_pickings}
    stale = [pid for pid, ref in refs.items() if mine.match(ref) and not ref.endswith(f"-{site.generation}")]
    if stale:
        log(f"cancelling {len(stale)} open picking(s) of earlier demo runs in {WAREHOUSE_CODE}")
        client.execute("stock.picking", "action_cancel", stale)


def partner_yaml(site: Site) -> Path:
    """The shipped demo3pl partner, pointed at the demo's warehouse: same code and layouts, not an example."""
    import yaml

    data = yaml.safe_load((REPO / "sftp_formats" / "partners" / f"{PARTNER}.yaml").read_text())
    data["example"] = False
    data["odoo"]["warehouses"] = [WAREHOUSE_CODE]
    # the 3PL stocks the demo's products only (the server's other products are not its business)
    data["products"] = {"domain": [["default_code", "in", sorted(CODES.values())]]}
    data["policy"]["damaged_location"] = f"{WAREHOUSE_CODE}/Quarantine"  # the demo warehouse's (sandbox/demo_goods.py)
    path = DEMO / "partners" / f"{PARTNER}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    header = (f"# Generated by bin/demo for {site.url} (database {site.database}): sftp_formats/partners/{PARTNER}.yaml\n"
              f"# pointed at the demo's own warehouse {WAREHOUSE_CODE}. Layouts: sftp_formats/layouts/.\n")
    path.write_text(header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    return path


def fmt(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def server_now(url: str) -> datetime:
    """The server's clock (the HTTP Date of a version call), so the 3PL's timestamps follow the server, not us."""
    request = urllib.request.Request(url.rstrip("/") + "/xmlrpc/2/common", data=xmlrpc.client.dumps((), "version").encode(),
                                     headers={"Content-Type": "text/xml"})
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - the URL the user gave
        stamp = response.headers.get("Date")
    return email.utils.parsedate_to_datetime(stamp).astimezone(timezone.utc) if stamp else datetime.now(timezone.utc).replace(microsecond=0)


# ---------------------------------------------------------------------------------------- the 3PL acts


def warehouse_stock(client: Any, site: Site, moment: datetime) -> dict[str, int]:
    """What the 3PL holds when the demo starts ("SKU|LOT": quantity), as Odoo has it. On a real server: as Odoo
    had it at the 3PL's count (done moves up to then), since the demo's timeline lies in the recent past and an
    earlier demo run on the server may have moved stock in it."""
    stock: dict[str, int] = {}
    if not site.real:
        for q in client.execute("stock.quant", "search_read", [["location_id", "child_of", site.stock_location]], fields=["product_id", "lot_id", "quantity"]):
            sku = q["product_id"][1].split("]")[0].lstrip("[")
            key = f"{sku}|{q['lot_id'][1] if q['lot_id'] else ''}"
            stock[key] = stock.get(key, 0) + int(q["quantity"])
        return stock
    inside = set(site.locations)
    lines = client.execute("stock.move.line", "search_read", [["state", "=", "done"], ["date", "<=", fmt(moment)], "|", ["location_id", "in", site.locations],
                                                               ["location_dest_id", "in", site.locations]],
                           fields=["product_id", "lot_id", "quantity_product_uom", "location_id", "location_dest_id"])
    codes = {p["id"]: p["default_code"] for p in client.execute("product.product", "read", sorted({l["product_id"][0] for l in lines}),
                                                                fields=["default_code"])}
    for line in lines:
        into, out = line["location_dest_id"][0] in inside, line["location_id"][0] in inside
        if into != out:
            key = f"{codes[line['product_id'][0]]}|{line['lot_id'][1] if line['lot_id'] else ''}"
            stock[key] = stock.get(key, 0) + int(line["quantity_product_uom"]) * (1 if into else -1)
    return {k: v for k, v in stock.items() if v}


def local(moment: datetime) -> str:
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo("America/Los_Angeles")).strftime("%Y-%m-%d %H:%M:%S")


def three_pl_acts(tpl: Any, pickings: dict[str, str], now: datetime) -> None:
    """The warehouse picks up its orders and ships (the files it writes are what the pipeline reads)."""
    orders = tpl.new_orders()
    by_ref = {ref: pickings.get(ref) for ref, *_ in ORDERS}
    lines = {ref: orders.get(name, []) for ref, name in by_ref.items() if name}
    stamp = now.strftime("%Y%m%d")
    if lines.get("DEMO-1"):
        tpl.ship(f"DISPATCH_{stamp}_001.csv", [(l, l.qty, "", "P1") for l in lines["DEMO-1"]], local(now - timedelta(hours=2)), bom=True)
    if lines.get("DEMO-2") and lines.get("DEMO-3") and lines.get("DEMO-4"):
        rows = [(lines["DEMO-2"][0], 6, "", "P2"), (lines["DEMO-3"][0], lines["DEMO-3"][0].qty, "LOT-B", "P3")]
        rows += [(l, l.qty, "", "P4") for l in lines["DEMO-4"]]
        extra = type(lines["DEMO-4"][0])(order_ref=lines["DEMO-4"][0].order_ref, line=2, sku="FURN_9999X", qty=1, uom="EA", carrier="The Poste")
        rows.append((extra, 1, "", "P4"))
        tpl.ship(f"DISPATCH_{stamp}_002.csv", rows, local(now - timedelta(minutes=90)))
    tpl._late = lines.get("DEMO-7")  # noqa: SLF001 - shipped now, its file is written after the count


def three_pl_counts(tpl: Any, now: datetime) -> None:
    """The count (30 minutes ago) and, after it, the late confirmation."""
    late = getattr(tpl, "_late", None)
    stamp = now.strftime("%Y%m%d")
    in_transit = {f"{l.sku}|": l.qty for l in late} if late else {}
    counted = count_moment(now)
    tpl.count(f"STOCK_{stamp}_0600.csv", local(counted), shrinkage={f"{CODES['FURN_8855']}|": 2}, in_transit=in_transit)
    if late:  # shipped an hour ago, before the count; the confirmation only now
        tpl.ship(f"DISPATCH_{stamp}_003.csv", [(l, l.qty, "", "P7") for l in late], local(now - timedelta(minutes=60)))


def count_moment(now: datetime) -> datetime:
    return now - timedelta(minutes=30)


# --------------------------------------------------------------------------------------------- summary


def fingerprint(client: Any, ledger: Any, site: Site) -> dict[str, int]:
    from sqlalchemy import func, select

    from threepl_bridge.ledger.models import Exchange, Posting, ReleasedPicking

    with ledger.session() as s:
        exchanges = s.scalar(select(func.count()).select_from(Exchange)) or 0
        postings = s.scalar(select(func.count()).select_from(Posting).where(Posting.state == "done")) or 0
        released = s.scalar(select(func.count()).select_from(ReleasedPicking)) or 0
    # a real server: only what happens in the demo's warehouse (others may be using the server meanwhile)
    if client.dialect.has_valuation_layers:  # Odoo 17, 18: one valuation layer per valued move
        model, move = "stock.valuation.layer", "stock_move_id."
    else:  # Odoo 19: the moves carry their value
        model, move = "stock.move", ""
    where = ["|", [f"{move}location_id", "in", site.locations], [f"{move}location_dest_id", "in", site.locations]] if site.real else []
    valued = where + ([["state", "=", "done"], ["value", "!=", 0]] if not move else [])
    return {"files": exchanges, "postings": postings, "released": released,
            "done_pickings": client.execute("stock.picking", "search_count", [["state", "=", "done"], ["picking_type_id", "=", site.out_type]]),
            "valued_moves": client.execute(model, "search_count", valued)}


def summary(client: Any, ledger: Any, reports: Path) -> tuple[list[str], bool]:
    from threepl_bridge.ledger.states import Outcome

    out: list[str] = []
    released = ledger.released_pickings(PARTNER)
    names = {r.picking_name for r in released.values()}
    done = client.execute("stock.picking", "search_read", [["name", "in", sorted(names)], ["state", "=", "done"]], fields=["name"])
    held = [e for e in ledger.open_exceptions(PARTNER) if e.object_type == "picking" and e.code.startswith("ORDER_")]
    out.append(f"Orders released to the 3PL: {len(released)} ({', '.join(sorted(names))})")
    out.append(f"Shipped and posted in Odoo: {len(done)} ({', '.join(sorted(d['name'] for d in done))})")
    out.append(f"Held, with reasons: {len(held)}")
    out += [f"   {e.object_ref}: {e.code} - {e.message}" for e in held]
    rows = Counter(r["code"] for r in ledger.dispatch_rows(PARTNER) if r["outcome"] == Outcome.EXCEPTION)
    records = Counter(e.code for e in ledger.open_exceptions(PARTNER))
    codes = rows + records
    out.append("Exceptions by code: " + ", ".join(f"{c} {n}" for c, n in sorted(codes.items())))
    pending = [e for e in ledger.open_exceptions(PARTNER) if e.code == "DISPATCH_PENDING_AT_3PL"]
    out += [f"   pending: {e.message}" for e in pending]
    recons = ledger.reconciliations(PARTNER)
    for recon in recons:
        counts = ledger.reconciliation_counts(recon.id)
        lines = ledger.reconciliation_lines(recon.id)
        out.append(f"Reconciliation R{recon.id} at {recon.as_of:%Y-%m-%d %H:%M} UTC: {recon.state}; "
                   + ", ".join(f"{k} {v}" for k, v in counts.items()) + f"; variance value {recon.variance_value} {recon.currency}")
        out += [f"   {l.classification}: {l.sku} {l.lot} {l.explanation or ''} "
                f"{'(adjusted)' if l.posting_id else '(waits for approval)' if l.approval == 'pending' else ''}".rstrip()
                for l in lines if l.classification in ("timing", "variance")]
    month_end = sorted(reports.glob(f"{PARTNER}/month_end_????-??.csv"))
    books_ok = bool(month_end)
    for path in month_end:
        sections: dict[str, list[list[str]]] = {}
        for row in csv.reader(io.StringIO(path.read_text(), newline="")):
            sections.setdefault(row[0], []).append(row[1:])
        month = path.stem[-7:]
        out.append(f"Month-end verdict ({month}): {sections.get('verdict', [['', '?']])[0][1]}")
        bridge = {r[0]: r[1] for r in sections.get("bridge", [])}
        cur = re.sub(r".*\((\w+)\).*", r"\1", sections.get("bridge:header", [["", ""]])[0][1])
        out.append(f"   valuation bridge ({cur}): " + ", ".join(f"{k.lower()} {v}" for k, v in bridge.items()))
        rows = sections.get("gl_tie_out", [])
        tie = [r[1] for r in rows]
        differences = sections.get("gl_differences", [])
        if len(rows) > 4:  # the version books no stock entries (Odoo 19 by default): the tie-out is for information
            out.append(f"   GL tie-out: {rows[4][0][:1].lower()}{rows[4][0][1:]}")
        else:
            out.append(f"   GL tie-out: general ledger {tie[0] if tie else '?'}, layers {tie[1] if len(tie) > 1 else '?'}, difference "
                       f"{tie[2] if len(tie) > 2 else '?'}" + (f"; {len(differences)} entr{'y' if len(differences) == 1 else 'ies'} listed" if differences else ""))
        books_ok = books_ok and len(bridge) == 6 and len(tie) >= 4 and (path.with_name(f"valuation_bridge_{month}.csv")).exists()
    out.append("Finance reports:")
    out += [f"   {p}" for p in sorted(reports.glob("*/*.html")) + sorted(reports.glob("*/*.csv")) + sorted(reports.glob("*/*.xlsx"))]
    quality = sorted(reports.glob("*/quality/*.html"))
    out.append(f"Data-quality pages, one per file: {len(quality)} in {reports / PARTNER / 'quality'}")
    ok = (len(released) >= 5 and len(done) >= 4 and {"ORDER_ADDRESS_INCOMPLETE", "ORDER_UOM_MISMATCH"} <= {e.code for e in held}
          and "DISPATCH_SKU_NOT_ON_PICKING" in codes and bool(pending) and bool(recons) and bool(month_end) and books_ok and bool(quality)
          and any(l.classification == "timing" for r in recons for l in ledger.reconciliation_lines(r.id))
          and any(l.classification == "variance" for r in recons for l in ledger.reconciliation_lines(r.id)))
    return out, ok


# ------------------------------------------------------------------------------------------------- main


def run(no_ui: bool, site: Site) -> int:
    from sandbox.odoo_standin import OdooStandIn, build
    from sandbox.sftp_server import EmbeddedSftpServer
    from threepl_bridge.odoo.client import OdooClient, OdooSettings
    from threepl_bridge.specs.loader import discover_partners, load_partner

    DEMO.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    env_odoo = None
    if site.real:
        (DEMO / ".gitignore").write_text("*\n")  # the demo's state, never part of the checkout
        site_file = DEMO / "site.json"
        state = json.loads(site_file.read_text()) if site_file.exists() else {}
        site.fresh = not state.get("retired")  # the earlier runs' open orders are not cancelled yet
        second_run = bool(state.get("completed"))  # like the stand-in's saved database: a run went through before
        site.generation = state.get("generation") or uuid.uuid4().hex[:4].upper()
        state.update({"url": site.url, "database": site.database, "login": site.login, "generation": site.generation})
        site_file.write_text(json.dumps(state, indent=1))
        partner = load_partner(partner_yaml(site))
    else:
        partner = discover_partners(examples=True).get(PARTNER)
        # the 3PL's warehouse was stocked in the previous month: the month end of the closed month has a bridge to show
        month_start = datetime.now(timezone.utc).replace(day=1, hour=8, minute=0, second=0, microsecond=0)
        env_odoo = build(version=site.standin_version, stocked_at=(month_start - timedelta(days=10)).replace(tzinfo=None))
        state_file = DEMO / "odoo.pickle"
        second_run = state_file.exists()
        if second_run:
            env_odoo.load(state_file)
    host_key, client_key = keys(DEMO / "keys")
    log("preparing Airflow's metadata database (SQLite)")
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, capture_output=True)
    subprocess.run([sys.executable, "-m", "airflow", "pools", "set", ODOO_POOL, os.environ.get("THREEPL_ODOO_POOL_SLOTS", "4"),
                    "concurrent Odoo calls of all threepl-bridge tasks"], check=True, capture_output=True)
    odoo = OdooStandIn(env_odoo) if env_odoo is not None else None
    with odoo or contextlib.nullcontext(), EmbeddedSftpServer(DEMO / "sftp", host_key=host_key, client_key=client_key) as sftp:
        if odoo is not None:
            site.url = odoo.url
        client = OdooClient(OdooSettings(url=site.url, database=site.database, login=site.login, password=site.password, protocol=site.protocol))
        return _loop(no_ui, site, partner, client, sftp, env_odoo, second_run, started)


def _loop(no_ui: bool, site: Site, partner: Any, client: Any, sftp: Any, env_odoo: Any, second_run: bool, started: float) -> int:
    from sandbox.three_pl import Simulated3PL
    from threepl_bridge.ledger.repo import Ledger
    from threepl_bridge.odoo.hook import check_connection

    site.version = str(client.version().get("server_version", "?"))
    where = (f"Odoo {site.version} at {site.url} (database {site.database}, user {site.login}) over {client.protocol}" if site.real
             else f"Odoo stand-in answering as {site.version} on {site.url} over {client.protocol}")
    log(f"{where}; SFTP 3PL server on 127.0.0.1:{sftp.port} (host key {sftp.host_key_line[:32]}...)")
    env = airflow_env(site, sftp.airflow_connection())
    ledger = Ledger.open(f"sqlite:///{DEMO / 'ledger.db'}")
    docs = {d: partner.document(d) for d in ("orders", "asn", "dispatches", "stock", "receipts", "returns", "adjustments")}
    tpl = Simulated3PL(DEMO / "sftp", DEMO / "3pl_state.json", orders_folder=docs["orders"].folder,
                       dispatch_folder=docs["dispatches"].folder, stock_folder=docs["stock"].folder, receipts_folder=docs["receipts"].folder,
                       returns_folder=docs["returns"].folder, adjustments_folder=docs["adjustments"].folder, asn_folder=docs["asn"].folder)
    # the demo's moment, taken from the server's clock on the first run and kept: a rerun acts on the same day
    now = tpl.anchor(env_odoo.now().replace(tzinfo=timezone.utc, microsecond=0) if env_odoo is not None else server_now(site.url))
    if site.real:
        ids = real_setup(client, site, now)
        partner_yaml(site)  # again: with the codes the demo's products have on this server
        ready, message = check_connection(client)
        if not ready:
            print(f"\nThe API user is not ready for the pipeline: {message}\n(see 'Point it at your own Odoo' in README.md)")
            return 1
        if site.fresh:
            retire_earlier_runs(client, site)
            site_file = DEMO / "site.json"
            site_file.write_text(json.dumps({**json.loads(site_file.read_text()), "retired": True}, indent=1))
    else:
        ids = standin_lookups(client, site)
    seed_orders(client, site, ids)
    goods = demo_goods.setup(client, site, WAREHOUSE_CODE if site.real else "3PL", CODES)
    if not tpl.state.stock:
        tpl.receive_stock(warehouse_stock(client, site, count_moment(now)))
    before = fingerprint(client, ledger, site)
    ok = dag_test(env, f"{PARTNER}_products_to_3pl") and dag_test(env, f"{PARTNER}_orders_to_3pl")
    refs = [site.ref(ref) for ref, *_ in ORDERS]
    sales = client.execute("sale.order", "search_read", [["client_order_ref", "in", refs], ["warehouse_id", "=", site.warehouse["id"]]],
                           fields=["client_order_ref", "name"])
    by_so: dict[int, str] = {}  # by sale_id: a picking's origin is not its order's name on every version (18.0: it is not)
    by_so_id: dict[int, int] = {}
    for p in client.execute("stock.picking", "search_read", [["sale_id", "in", [s["id"] for s in sales]], ["picking_type_id", "=", site.out_type]],
                            fields=["sale_id", "name"], order="id"):
        by_so.setdefault(p["sale_id"][0], p["name"])  # the order's own picking, not a later backorder
        by_so_id.setdefault(p["sale_id"][0], p["id"])
    log("the simulated 3PL picks up its orders and ships")
    three_pl_acts(tpl, {site.base_ref(s["client_order_ref"]): by_so.get(s["id"]) for s in sales}, now)
    ok = dag_test(env, f"{PARTNER}_dispatches_from_3pl") and ok
    ids_by_ref = {site.base_ref(s["client_order_ref"]): by_so_id.get(s["id"]) for s in sales}
    read = {p["id"]: p for p in client.execute("stock.picking", "read", sorted(i for i in ids_by_ref.values() if i), fields=["name", "state"])}
    deliveries = {ref: read[i] for ref, i in ids_by_ref.items() if i in read}
    rma = demo_goods.announce_return(client, deliveries.get(demo_goods.RMA_OF))
    ok = dag_test(env, f"{PARTNER}_receipts_to_3pl") and ok  # the purchase receipt and the return customer service announced
    log("the 3PL receives the purchase order, takes back two returns and books its own damage adjustments")
    demo_goods.three_pl_goods(tpl, goods, deliveries, rma, now, local, CODES)
    for flow in ("receipts_from_3pl", "returns_from_3pl", "adjustments_from_3pl"):
        ok = dag_test(env, f"{PARTNER}_{flow}") and ok
    log("the 3PL counts its stock (and confirms a late shipment after the count)")
    three_pl_counts(tpl, now)
    ok = dag_test(env, f"{PARTNER}_stock_from_3pl") and ok
    log("three days later: the late confirmation is posted, the order never shipped is overdue")
    ok = dag_test(env, f"{PARTNER}_dispatches_from_3pl", now + timedelta(days=3)) and ok
    ok = dag_test(env, "month_end_valuation", now.replace(day=1, hour=0, minute=0, second=0)) and ok
    if env_odoo is not None:
        env_odoo.save(DEMO / "odoo.pickle")
    else:
        site_file = DEMO / "site.json"
        site_file.write_text(json.dumps({**json.loads(site_file.read_text()), "completed": True}, indent=1))
    after = fingerprint(client, ledger, site)
    lines, loop_ok = summary(client, ledger, DEMO / "reports")
    goods_lines, goods_ok = demo_goods.summary(client, ledger, PARTNER, goods)
    at = next(i for i, line in enumerate(lines) if line.startswith("Exceptions by code"))
    lines[at:at] = goods_lines  # after the orders, shipments and holds
    loop_ok = loop_ok and goods_ok
    print("\n== Summary ==")
    if site.real:
        print(f"Odoo server_version {site.version} at {site.url}, database {site.database}, user {site.login}, over {client.protocol}")
        print(f"The demo's warehouse: {site.warehouse['name']} ({WAREHOUSE_CODE}); its orders {site.ref('DEMO-n')}")
    else:
        print(f"Odoo stand-in server_version {site.version}, over {client.protocol}")
    print("\n".join(lines))
    print("Runs that need a person (the exceptions: python -m threepl_bridge exceptions list):" if NEEDS else "No run needs a person.")
    for line in NEEDS:
        print(f"  {line}")
    if second_run:
        same = before == after
        print(f"Second run: {'nothing new, nothing doubled' if same else 'CHANGED: ' + json.dumps({'before': before, 'after': after})}")
        ok = ok and same
    ok = ok and loop_ok
    # the same measure on both servers: what the DAG runs' tasks report sending, and what the demo itself sent; the
    # stand-in also counts what it received, which must be their sum
    calls = {"dag_runs": dict(sorted(DAG_CALLS.items())), "demo": dict(sorted(client.calls.items()))}
    received = getattr(env_odoo, "calls", None) if not site.real else None
    if received is not None:
        calls["received_by_the_stand_in"] = dict(sorted(received.items()))
    (DEMO / "logs" / "odoo_calls.json").write_text(json.dumps(calls, indent=1))
    print(f"Odoo calls: {sum(DAG_CALLS.values())} by the DAG runs' tasks, {sum(client.calls.values())} by the demo itself "
          f"(set-up, the 3PL's view, summary)"
          + (f"; {sum(received.values())} received by the stand-in" if received is not None else "")
          + f"; by method in {DEMO / 'logs' / 'odoo_calls.json'}")
    print(f"\nDEMO {'OK' if ok else 'FAILED'} in {time.monotonic() - started:.0f} s  (logs of each DAG run: {DEMO / 'logs'})")
    if no_ui or not ok:
        return 0 if ok else 1
    return serve_ui(env)


def serve_ui(env: dict[str, str]) -> int:
    """airflow standalone on 127.0.0.1:8080 with the same connections, until Ctrl+C."""
    home = Path(env.get("AIRFLOW_HOME", REPO / ".airflow"))
    proc = subprocess.Popen([sys.executable, "-m", "airflow", "standalone"], env=env, start_new_session=True,
                            stdout=open(DEMO / "logs" / "standalone.log", "w"), stderr=subprocess.STDOUT)
    password_file = home / "simple_auth_manager_passwords.json.generated"
    for _ in range(120):
        if password_file.exists():
            break
        time.sleep(1)
    login = json.loads(password_file.read_text()) if password_file.exists() else {}
    user, password = next(iter(login.items())) if login else ("admin", "(see " + str(password_file) + ")")
    print(f"\nAirflow UI: http://127.0.0.1:8080  login {user} / {password}   (Ctrl+C to stop)")
    try:
        proc.wait()
    except KeyboardInterrupt:
        pass
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        proc.wait(30)
    return 0


def main() -> None:
    global DEMO
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     epilog="The password or API key of the Odoo user is read from ODOO_PASSWORD (never a flag).")
    parser.add_argument("--no-ui", action="store_true", help="exit after the summary (implied by CI=true)")
    parser.add_argument("--reset", action="store_true", help="start from scratch (delete the demo folder and its ledger; on a real server "
                                                             "the demo's earlier open orders are cancelled and new ones created)")
    parser.add_argument("--odoo-url", default=os.environ.get("ODOO_URL"), help="a real Odoo (17, 18 or 19) instead of the stand-in (default: ODOO_URL)")
    parser.add_argument("--odoo-version", default=os.environ.get("ODOO_STANDIN_VERSION", "17"), choices=["17", "18", "19", "17.0", "18.0", "19.0"],
                        help="the Odoo version the stand-in answers as (default: ODOO_STANDIN_VERSION or 17)")
    parser.add_argument("--protocol", default=os.environ.get("ODOO_PROTOCOL", "auto"), choices=["auto", "xmlrpc", "jsonrpc", "json2"],
                        help="the external API to speak (default: ODOO_PROTOCOL or auto: JSON-2 for Odoo 19, XML-RPC before)")
    parser.add_argument("--odoo-db", default=os.environ.get("ODOO_DB"), help="its database (default: ODOO_DB)")
    parser.add_argument("--odoo-user", default=os.environ.get("ODOO_USER"), help="the API user's login (default: ODOO_USER)")
    args = parser.parse_args()
    from sandbox.odoo_standin.env import standin_version

    version = standin_version(args.odoo_version)
    site = Site(url="", database="odoo3pl", login="etl", password=API_KEY, protocol=args.protocol, standin_version=version)
    if version != "17.0":  # a stand-in of another version keeps its state apart from the 17 one's
        DEMO = BASE.with_name(f"{BASE.name}-standin{version.split('.')[0]}")
    if args.odoo_url:
        password = os.environ.get("ODOO_PASSWORD")
        if not password and sys.stdin.isatty():
            import getpass

            password = getpass.getpass(f"Odoo password or API key of {args.odoo_user}: ")
        missing = [name for name, value in (("--odoo-db (or ODOO_DB)", args.odoo_db), ("--odoo-user (or ODOO_USER)", args.odoo_user),
                                            ("ODOO_PASSWORD in the environment", password)) if not value]
        if missing:
            parser.error("against a real Odoo the demo needs " + ", ".join(missing))
        url = args.odoo_url if "://" in args.odoo_url else f"https://{args.odoo_url}"
        site = Site(url=url.rstrip("/"), database=args.odoo_db, login=args.odoo_user, password=str(password), real=True,
                    protocol=args.protocol)
        DEMO = real_folder(site.url, site.database)
    if args.reset and DEMO.exists():
        import shutil

        shutil.rmtree(DEMO)
    no_ui = args.no_ui or os.environ.get("CI", "").lower() == "true"
    from threepl_bridge.odoo.errors import OdooError

    try:
        sys.exit(run(no_ui, site))
    except DemoSetupError as exc:
        print(f"\nDEMO FAILED: {exc}")
        sys.exit(1)
    except OdooError as exc:
        if not site.real:
            raise
        print(f"\nDEMO FAILED: Odoo at {site.url} (database {site.database}, user {site.login}): {exc}")
        sys.exit(1)


if __name__ == "__main__":
    main()
