"""The fault matrix (issue 13, "What to build", tests/reliability): a fault at every step boundary of every flow,
and after recovery Odoo and the ledger are exactly as after a fault-free run of the same input.

The scenario (:class:`Scenario`), run phase by phase, every phase as a task would run it:

1. ``products``: the products flow (prepare, deliver, finalize);
2. ``orders``: three confirmed sales in the 3PL warehouse (set-up, never faulted), then the orders flow (watch,
   prepare, deliver, note released): a plain order, an order of two lines and a lot-tracked one;
3. ``dispatches``: one dispatch file: the plain order, the two lines, the lot order in two lots, and a row for
   an order Odoo does not know (the row exception);
4. ``stock``: one snapshot counted after the dispatches: every quant Odoo holds matches, but the row exception's
   unit (``timing``: shipped, not posted) and CHEAP-1, counted one short (a ``variance`` within the tolerance:
   adjusted at once).

A fault case arms one fault in one phase, runs the phase (it may fail, as the task would), clears the fault and
runs the phase again (Airflow's retry, or the next scheduled run), then runs the later phases fault-free. The
phases before the faulted one are fault-free and the same in every case: on SQLite a case starts from the
reference run's world saved just before its phase (:class:`Saved`); on PostgreSQL it runs them. The
result is compared with the fault-free reference (run once per module on SQLite; the snapshots are normalised:
no database ids, records by name) by :func:`snapshot`: Odoo's pickings (state, date_done, tracking), moves
(quantity, state), lot lines, quants per product/lot/location, valuation layers (count, quantities and values),
chatter notes per picking; the ledger's exchanges by name (state, counts), row outcomes, postings by key and state,
reconciliations and their lines, open exceptions by code and object, released pickings, the files the 3PL
received. Then the **replay**: the faulted phase's file is dropped again and processed: the Odoo snapshot does
not change (nothing posted twice).

Fault cases (``id`` = the parameter; PostgreSQL runs the ones marked *pg* too):

====================================  =========  ==========================================================
case                                   phase      fault
====================================  =========  ==========================================================
sftp-{list,stat,get,rename}-{b,a}      dispatch   the SSH connection drops at the request (b: before it is
                                                  executed, a: after); rename 1 is the file's move to
                                                  archive/, rename 2 its marker's (``sftp-marker-{b,a}``)
sftp-{list,get,rename}-{b,a}           stock      the same on the stock snapshot
sftp-orders-{put,rename}-{b,a}         orders     the same on the orders upload (``.part`` written, publish);
                                                  products uploads: tests/flows/test_outbound_faults.py
odoo-<method>-<mode>                   dispatch   FaultyOdoo in front of the stand-in on each write the
                                                  dispatch path makes (button_validate, write [stock.move,
                                                  stock.picking, stock.move.line], create [stock.move.line,
                                                  mail.message], do_unreserve; unlink only
                                                  runs on a retry: reached by the kill cases);
                                                  modes ``lost_reply``, ``timeout_unapplied``, ``502`` x100,
                                                  ``serialization`` x100
odoo-stock-<method>-<mode>             stock      the same on the stock.quant write (the adjustment)
odoo-orders-<method>-<mode>            orders     the same on the orders flow's write (the notes' create)
access (its own test, below)           dispatch   access error twice: the batch, then its first half (the
                                                  plain order): that picking is refused; explicit expected
                                                  state; the replay (fixed permission) posts it, once
kill-<Qualname>-<before|after>         dispatch   SIGKILL of a real worker process (tests/reliability/worker.py,
                                                  forked from a warm parent) at each ledger commit:
                                                  Ledger.start_postings, Ledger.complete_postings,
                                                  Ledger.record_rows, Ledger.close_counts, Ledger.transition;
                                                  at the Odoo and SFTP side effects (OdooClient.call_button,
                                                  OdooClient.execute write/create, SftpTransport.move_unique)
                                                  the worker dies in-process at the same nth call (SystemExit:
                                                  the side effect's outcome is the same); recovery: a normal run
kill-stock-<Qualname>-<before|after>   stock      the same at Ledger.store_reconciliation, Ledger.complete_postings,
                                                  Ledger.set_line_posted (SIGKILL), the quant write
                                                  (OdooClient.execute, in-process)
exit-orders-<step>-<before|after>      orders     the worker dies (in-process) at Ledger.mark_sent, and at
                                                  the orders flow's note_released
overlap-stock                          stock      two real worker processes on the same snapshot (the
                                                  dispatch variant: tests/reliability/test_overlap.py)
====================================  =========  ==========================================================
"""

from __future__ import annotations

import dataclasses
import copy
import hashlib
import importlib
import pickle
import re
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from sandbox.odoo_standin import OdooStandIn, build
from sandbox.sftp_server import EmbeddedSftpServer
from tests.faults import FaultyOdoo
from tests.flows.conftest import FIXTURES, ODOO_NOW, REPO, RUN_AT, World, dispatch_csv, drop, stock_csv
from tests.reliability.conftest import finish, run_worker, start, warm_workers
from threepl_bridge.flows.dispatches import DISPATCHES
from threepl_bridge.flows import orders as orders_flow
from threepl_bridge.flows import products as products_flow
from threepl_bridge.flows.exchange import handle_file, list_files
from threepl_bridge.flows.outbound import deliver_pending
from threepl_bridge.flows.stock import STOCK
from threepl_bridge.ledger import models as m
from threepl_bridge.ledger.repo import Ledger
from threepl_bridge.odoo.client import OdooClient, OdooSettings
from threepl_bridge.specs.loader import load_partner
from threepl_bridge.transport.sftp import SftpTransport

AT = "2026-11-20 01:10:00"  # the count time (Los Angeles): after the stand-in's stock was booked, before RUN_AT
STOCK_LOC = 35  # 3PL/Stock
DISPATCH_NAME = "DISPATCH_MATRIX.csv"
STOCK_NAME = "STOCK_MATRIX.csv"
PHASES = ("products", "orders", "dispatches", "stock")


# ------------------------------------------------------------------------------------------- the scenario


@dataclass
class Scenario:
    world: World
    proxy: FaultyOdoo
    reports: Path
    picks: dict[str, dict[str, Any]] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    tasks_done: dict[str, Any] = field(default_factory=dict)

    # set-up outside the phases (never faulted)
    def prepare(self) -> None:
        w = self.world
        pid = w.x("product.product", "create", {"name": "CHEAP-1", "default_code": "CHEAP-1", "detailed_type": "product",
                                               "standard_price": 10, "tracking": "none"})
        w.x("stock.quant", "create", {"product_id": pid, "location_id": STOCK_LOC, "inventory_quantity_auto_apply": 3},
            context={"inventory_mode": True})

    def task(self, name: str, body: Any) -> Any:
        """One Airflow task of an outbound DAG run: a retry (the recovery) runs only the tasks not done yet."""
        if name not in self.tasks_done:
            self.tasks_done[name] = body()
        return self.tasks_done[name]

    def products(self) -> None:
        """dags/products_to_3pl.py: prepare -> deliver -> advance_watermark."""
        w, p = self.world, self.world.demo
        prepared = self.task("products.prepare", lambda: products_flow.prepare_products(partner=p, client=w.odoo, ledger=w.ledger, now=RUN_AT).as_dict())
        self.task("products.deliver", lambda: deliver_pending(w.ledger, self.transport(), p, "products"))
        self.task("products.advance_watermark", lambda: products_flow.finalize_products(partner=p, ledger=w.ledger, prepared=prepared))

    def sell(self) -> None:
        w = self.world
        self.picks = {"one": w.sell([("FURN_7800", 2)]), "two": w.sell([("FURN_8855", 10), ("E-COM11", 4)]),
                      "lots": w.sell([("FURN_5555", 10)])}

    def orders(self) -> None:
        """dags/orders_to_3pl.py: settle_pending -> watch_released -> prepare_orders -> deliver_files -> note_in_chatter."""
        w, p = self.world, self.world.demo
        self.task("orders.settle", lambda: [deliver_pending(w.ledger, self.transport(), p, kind) for kind in ("orders", "cancellations")])

        def watch() -> Any:
            out = orders_flow.watch_released(partner=p, client=w.odoo, ledger=w.ledger, now=RUN_AT)
            deliver_pending(w.ledger, self.transport(), p, "cancellations")
            return out

        self.task("orders.watch", watch)
        prepared = self.task("orders.prepare", lambda: orders_flow.prepare_orders(partner=p, client=w.odoo, ledger=w.ledger, now=RUN_AT).as_dict())
        self.task("orders.deliver", lambda: deliver_pending(w.ledger, self.transport(), p, "orders"))
        self.task("orders.notes", lambda: sum(orders_flow.note_released(partner=p, client=w.odoo, ledger=w.ledger, exchange_id=int(eid))
                                              for eid in prepared.get("exchange_ids") or []))

    def dispatch_file(self) -> bytes:
        one, two, lots = (self.picks[k]["name"] for k in ("one", "two", "lots"))
        return dispatch_csv([
            f"{one},1,FURN_7800,,2,EA,,2026-11-02 10:00:00,The Poste,TP1,P1",
            f"{two},1,FURN_8855,,10,EA,,2026-11-02 10:00:00,Standard delivery,SD1,P2",
            f"{two},2,E-COM11,,4,EA,,2026-11-02 10:00:00,Standard delivery,SD1,P2",
            f"{lots},1,FURN_5555,,6,EA,LOT-A,2026-11-02 10:00:00,Standard delivery,SD2,P3",
            f"{lots},1,FURN_5555,,4,EA,LOT-B,2026-11-02 10:00:00,Standard delivery,SD2,P3",
            "WH/OUT/99999,1,FURN_6666,,1,EA,,2026-11-02 10:00:00,Standard delivery,SD9,P9",  # an order Odoo does not know
        ])

    def stock_file(self) -> bytes:
        """Every quant Odoo holds in 3PL/Stock, counted as held; FURN_6666 one less (the unposted row: timing),
        CHEAP-1 one less (a variance of 10.00: auto-approved)."""
        w = self.world
        held = w.x("stock.quant", "search_read", [["location_id", "=", STOCK_LOC], ["quantity", "!=", 0]],
                   fields=["product_id", "lot_id", "quantity"], order="id")
        sku = {p["id"]: p["default_code"] for p in w.x("product.product", "read", sorted({q["product_id"][0] for q in held}), fields=["default_code"])}
        less = {"FURN_6666": 1, "CHEAP-1": 1}
        rows = []
        for q in held:
            code = sku[q["product_id"][0]]
            rows.append(f"{code},{q['lot_id'][1] if q['lot_id'] else ''},{q['quantity'] - less.pop(code, 0):g},EA,ok,{AT}")
        assert not less, less
        return stock_csv(sorted(rows))

    def drop_dispatches(self) -> None:
        self.files.setdefault("dispatches", self.dispatch_file())
        drop(self.world, self.world.demo, "dispatches", DISPATCH_NAME, self.files["dispatches"])

    def drop_stock(self) -> None:
        self.files.setdefault("stock", self.stock_file())
        drop(self.world, self.world.demo, "stock", STOCK_NAME, self.files["stock"])

    def transport(self) -> SftpTransport:
        return SftpTransport(self.world.demo.spec.sftp.conn_id, sleep=lambda s: None)

    def inbound(self, kind: str) -> list:
        w, transport = self.world, self.transport()
        flow = DISPATCHES if kind == "dispatches" else STOCK
        return [handle_file(flow, w.demo, name, transport=transport, ledger=w.ledger, client=w.odoo, now=RUN_AT,
                            options={"reports_dir": self.reports})
                for name in list_files(w.demo, flow, transport, w.ledger)]

    def dispatches(self) -> None:
        self.inbound("dispatches")

    def stock(self) -> None:
        self.inbound("stock")

    def before(self, phase: str) -> None:
        """What happens before a phase's task runs (never faulted)."""
        if phase == "orders":
            self.sell()
        elif phase == "dispatches":
            self.drop_dispatches()
        elif phase == "stock":
            self.drop_stock()

    def run_phase(self, phase: str) -> None:
        getattr(self, phase)()


# ------------------------------------------------------------------------------------------- snapshots


def _n(value: Any) -> Any:
    """Numbers compared by value whatever the backend's type (Decimal scale, float)."""
    if isinstance(value, (Decimal, float, int)) and not isinstance(value, bool):
        return format(Decimal(str(value)).normalize(), "f")
    return value


def odoo_snapshot(world: World) -> dict[str, Any]:
    x = world.x
    pickings = x("stock.picking", "search_read", [["picking_type_id.code", "=", "outgoing"]],
                 fields=["name", "state", "date_done", "carrier_tracking_ref", "backorder_id"], order="id")
    pname = {p["id"]: p["name"] for p in pickings}
    moves = x("stock.move", "search_read", [["picking_id", "in", list(pname)]],
              fields=["picking_id", "product_id", "product_uom_qty", "quantity", "state", "date"], order="id")
    lines = x("stock.move.line", "search_read", [["picking_id", "in", list(pname)]],
              fields=["picking_id", "product_id", "lot_id", "quantity", "picked", "date"], order="id")
    quants = x("stock.quant", "search_read", [["location_id.usage", "in", ["internal", "customer", "inventory"]]],
               fields=["product_id", "lot_id", "location_id", "quantity"], order="id")
    layers = x("stock.valuation.layer", "search_read", [], fields=["product_id", "quantity", "value"], order="id")
    notes = x("mail.message", "search_read", [["model", "=", "stock.picking"], ["res_id", "in", list(pname)], ["message_type", "=", "comment"]],
              fields=["res_id", "body"], order="id")
    inventory = x("stock.move", "search_read", [["is_inventory", "=", True], ["state", "=", "done"]],
                  fields=["reference", "product_id", "quantity"], order="id")

    def name(ref: Any) -> Any:
        return ref[1] if ref else None

    q: dict[tuple, str] = {}
    for r in quants:
        key = (name(r["product_id"]), name(r["lot_id"]) or "", name(r["location_id"]))
        q[key] = _n(Decimal(q.get(key, "0")) + Decimal(str(r["quantity"])))
    return {
        "pickings": {p["name"]: (p["state"], p["date_done"], p["carrier_tracking_ref"], name(p["backorder_id"])) for p in pickings},
        "moves": sorted((pname[r["picking_id"][0]], name(r["product_id"]), _n(r["product_uom_qty"]), _n(r["quantity"]), r["state"], r["date"])
                        for r in moves),
        "move_lines": sorted((pname[r["picking_id"][0]], name(r["product_id"]), name(r["lot_id"]) or "", _n(r["quantity"]), r["picked"])
                             for r in lines if r["quantity"]),
        "quants": {k: v for k, v in sorted(q.items()) if v != "0"},
        "valuation_layers": (len(layers), sorted((name(r["product_id"]), _n(r["quantity"]), _n(r["value"])) for r in layers)),
        "notes": sorted((pname[r["res_id"]], re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", "<wall clock>", re.sub(r"<[^>]*>", "", r["body"] or "")))
                        for r in notes),
        "inventory_moves": sorted((re.sub(r"R\d+", "R#", r["reference"] or ""), name(r["product_id"]), _n(r["quantity"])) for r in inventory),
    }


def ledger_snapshot(world: World) -> dict[str, Any]:
    pickings = {p["id"]: p["name"] for p in world.x("stock.picking", "search_read", [], fields=["name"])}
    with world.ledger.session() as s:
        exchanges = list(s.scalars(select(m.Exchange).order_by(m.Exchange.id)))
        ex = {e.id: f"{e.direction}:{e.kind}:{e.remote_name}#{e.arrival}" for e in exchanges}
        outcomes = list(s.scalars(select(m.RowOutcome)))
        postings = list(s.scalars(select(m.Posting)))
        recons = list(s.scalars(select(m.Reconciliation).order_by(m.Reconciliation.id)))
        lines = list(s.scalars(select(m.ReconciliationLine)))
        exceptions = list(s.scalars(select(m.RecordException).where(m.RecordException.status == "open")))
        released = list(s.scalars(select(m.ReleasedPicking)))
        rec = {r.id: f"R{n}" for n, r in enumerate(recons, 1)}
        post_key = {p.id: p.idem_key for p in postings}

        def key(text: str | None) -> str | None:
            """Ids inside keys and references, by name."""
            if text is None:
                return None
            text = re.sub(r"^(dispatch(?:-after)?):(\d+):(\d+)$", lambda g: f"{g[1]}:{pickings.get(int(g[2]), g[2])}:{ex.get(int(g[3]), g[3])}", text)
            text = re.sub(r"^adjust:(\d+):", lambda g: f"adjust:{rec.get(int(g[1]), g[1])}:", text)
            text = re.sub(r"stock\.picking,(\d+)", lambda g: f"stock.picking,{pickings.get(int(g[1]), g[1])}", text)
            return re.sub(r"reconciliation,(\d+)", lambda g: f"reconciliation,{rec.get(int(g[1]), g[1])}", text)

        def ref(text: str) -> str:
            return re.sub(r"#(\d+)$", lambda g: f"#{ex.get(int(g[1]), g[1])}", text)

        return {
            "exchanges": sorted((ex[e.id], e.state, e.rows_total, e.rows_posted, e.rows_exception, e.rows_duplicate,
                                 ex.get(e.duplicate_of_id), (e.moved_to or "").rsplit("/", 1)[0]) for e in exchanges),
            "rows": sorted((ex[o.exchange_id], o.row_number, o.outcome, o.code, o.field, key(o.odoo_ref)) for o in outcomes),
            "postings": sorted((key(p.idem_key), p.target, p.state, ex.get(p.exchange_id)) for p in postings),
            "reconciliations": sorted((rec[r.id], ex[r.exchange_id], r.state, _n(r.variance_value), str(r.as_of)) for r in recons),
            "reconciliation_lines": sorted((rec[l.reconciliation_id], l.sku, l.lot, _n(l.threepl_qty), _n(l.odoo_qty), _n(l.timing_qty),
                                            _n(l.variance_qty), _n(l.variance_value), l.classification, l.approval,
                                            key(post_key.get(l.posting_id))) for l in lines),
            "open_exceptions": sorted((e.code, e.object_type, ref(e.object_ref), e.occurrences) for e in exceptions),
            "released": sorted((r.picking_name, r.state, ex[r.exchange_id]) for r in released),
        }


def sftp_snapshot(world: World) -> dict[str, Any]:
    """What the 3PL holds: every file under the SFTP root (outbound folders, archive/, error/) by content."""
    out = {}
    for path in sorted(world.sftp_root.rglob("*")):
        if path.is_file():
            rel = path.relative_to(world.sftp_root)
            out[str(rel)] = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    return out


def snapshot(world: World) -> dict[str, Any]:
    return {"odoo": odoo_snapshot(world), "ledger": ledger_snapshot(world), "sftp": sftp_snapshot(world)}


# ------------------------------------------------------------------------------------------- worlds


@contextmanager
def odoo_world(root: Path, ledger_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[World, FaultyOdoo]]:
    """The flows' world (stand-in, embedded SFTP server, ledger) whose client talks to Odoo through the fault proxy
    (no back-off between retries)."""
    env = build(etl_email="etl@example.com", frozen_now=ODOO_NOW)
    with OdooStandIn(env) as odoo, EmbeddedSftpServer(root / "sftp") as sftp, FaultyOdoo(odoo.url) as proxy:
        for conn_id in ("demo3pl_sftp", "semi3pl_sftp"):
            monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", sftp.airflow_connection())
        client = OdooClient(OdooSettings(url=proxy.url, database="odoo3pl", login="etl", password="standin-etl-api-key", backoff=0.0))
        world = World(env=env, odoo=client, ledger=Ledger.open(ledger_url), sftp_root=root / "sftp",
                      demo=load_partner(REPO / "sftp_formats" / "partners" / "demo3pl.yaml"),
                      semi=load_partner(FIXTURES / "partners" / "semi3pl.yaml"), sftp=sftp)
        world.ledger_url = ledger_url  # type: ignore[attr-defined] - for the worker processes
        yield world, proxy


def run_clean(world: World, proxy: FaultyOdoo, reports: Path,
              save: Any = None) -> tuple[Scenario, dict[str, list[tuple[str, str]]]]:
    """The fault-free run; returns the Odoo calls (model, method) of each phase, in order. ``save(sc, phase)`` is
    called before each phase (the world as a fault case in that phase finds it)."""
    sc = Scenario(world, proxy, reports)
    sc.prepare()
    calls: dict[str, list[tuple[str, str]]] = {}
    for phase in PHASES:
        if save is not None:
            save(sc, phase)
        sc.before(phase)
        mark = len(proxy.log)
        sc.run_phase(phase)
        calls[phase] = [(model, method) for model, method, _ in proxy.log[mark:] if model]
    return sc, calls


# ------------------------------------------------------------------------------------------- the saved worlds


@dataclass(frozen=True)
class Saved:
    """The fault-free run's world just before a phase (SQLite ledger): the stand-in's state (its records, id counters,
    sequences and users, as :meth:`Env.snapshot` keeps them for a rollback), a copy of the SFTP tree, a copy of the
    ledger database and the scenario's own state (its pickings, files, the outbound tasks done). A case faulted in
    that phase starts from it instead of running the phases before it again: they are fault-free and the same in
    every case (the reference run is that very run)."""
    odoo: bytes
    sftp: Path
    ledger: Path
    scenario: dict[str, Any]
    snapshot: dict[str, Any]  # the world's snapshot when it was saved (test_a_saved_world_restores_as_it_was)


def _sqlite_path(url: str) -> Path:
    assert url.startswith("sqlite:///"), url
    return Path(url.removeprefix("sqlite:///"))


def _copy_sqlite(src: Path, dst: Path) -> None:
    """A consistent copy of a (WAL) SQLite database through SQLite's backup API."""
    source, target = sqlite3.connect(src), sqlite3.connect(dst)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()


def save_world(sc: Scenario, phase: str, root: Path, ledger_url: str) -> Saved:
    env = sc.world.env
    with env.lock:  # type: ignore[attr-defined]
        odoo = pickle.dumps(({n: mdl.records for n, mdl in env.models.items()}, env._ids, env._sequences, env.users))  # type: ignore[attr-defined]
    folder = root / f"saved-{phase}"
    shutil.copytree(sc.world.sftp_root, folder / "sftp")
    _copy_sqlite(_sqlite_path(ledger_url), folder / "ledger.db")
    state = copy.deepcopy({"picks": sc.picks, "files": sc.files, "tasks_done": sc.tasks_done})
    return Saved(odoo=odoo, sftp=folder / "sftp", ledger=folder / "ledger.db", scenario=state, snapshot=snapshot(sc.world))


def restore_world(sc: Scenario, saved: Saved, ledger_url: str) -> None:
    """The test's world (just built, empty) becomes the saved one: same Odoo records and ids, same files, same ledger."""
    w, env = sc.world, sc.world.env
    records, ids, sequences, users = pickle.loads(saved.odoo)
    with env.lock:  # type: ignore[attr-defined]
        for name, recs in records.items():
            env.models[name].records = recs  # type: ignore[attr-defined]
        env._ids, env._sequences, env.users = ids, sequences, users  # type: ignore[attr-defined]
    shutil.copytree(saved.sftp, w.sftp_root, dirs_exist_ok=True)
    w.ledger.engine.dispose()
    _copy_sqlite(saved.ledger, _sqlite_path(ledger_url))
    w.ledger.engine.dispose()
    state = copy.deepcopy(saved.scenario)
    sc.picks, sc.files, sc.tasks_done = state["picks"], state["files"], state["tasks_done"]


def start_at(sc: Scenario, phase: str, saved: dict[str, Saved], ledger_url: str) -> tuple[str, ...]:
    """Bring the scenario to just before ``phase``: from the saved world on SQLite, by running the phases before it
    on PostgreSQL. Returns the phases left to run."""
    if ledger_url.startswith("sqlite") and phase in saved:
        restore_world(sc, saved[phase], ledger_url)
        return PHASES[PHASES.index(phase):]
    sc.prepare()
    return PHASES


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The fault-free run's snapshot (SQLite ledger), its calls, and its world saved before each faulted phase."""
    root = tmp_path_factory.mktemp("reference")
    url = f"sqlite:///{root / 'ledger.db'}"
    saved: dict[str, Saved] = {}

    def save(sc: Scenario, phase: str) -> None:
        if phase in FAULTED_PHASES:
            saved[phase] = save_world(sc, phase, root, url)

    with pytest.MonkeyPatch.context() as patch, odoo_world(root, url, patch) as (world, proxy):
        sc, calls = run_clean(world, proxy, root / "reports", save)
        return {"snapshot": snapshot(world), "calls": calls, "saved": saved}


@pytest.fixture(scope="module", autouse=True)
def warm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The kill and overlap cases' workers are forked from one warm parent (tests/reliability/conftest.py,
    WarmParent): real processes, really SIGKILLed, without importing pandas and Great Expectations each time."""
    with warm_workers(tmp_path_factory.mktemp("workers")):
        yield


@pytest.fixture
def matrix_world(tmp_path: Path, ledger_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[World, FaultyOdoo]]:
    with odoo_world(tmp_path, ledger_url, monkeypatch) as pair:
        yield pair


# ------------------------------------------------------------------------------------------- the cases


@dataclass(frozen=True)
class Case:
    id: str
    phase: str
    how: str  # sftp | odoo | kill (a real worker process SIGKILLed) | die (in-process, at a side effect) | exit | overlap
    args: tuple = ()
    pg: bool = False  # also on the PostgreSQL ledger
    xfail: str | None = None

    def param(self, backend: str) -> Any:
        marks = [pytest.mark.xfail(strict=True, reason=self.xfail)] if self.xfail else []
        return pytest.param(backend, self, id=f"{backend}-{self.id}", marks=marks)


def _sftp_cases() -> list[Case]:
    out = []
    for phase, ops in (("dispatches", [("list", 1, None), ("stat", 1, None), ("get", 1, None), ("rename", 1, None), ("marker", 2, None)]),
                       ("stock", [("list", 1, None), ("get", 1, None), ("rename", 1, None)]),
                       ("orders", [("put", 1, "/to_3pl/orders"), ("rename", 1, "/to_3pl/orders")])):
        for name, nth, path in ops:
            for after in (False, True):
                prefix = "sftp" if phase == "dispatches" else f"sftp-{phase}"
                out.append(Case(f"{prefix}-{name}-{'a' if after else 'b'}", phase, "sftp",
                                ("rename" if name == "marker" else name, nth, after, path), pg=(phase, name, after) == ("dispatches", "rename", True)))
    return out


MODES = (("lost_reply", 1), ("timeout_unapplied", 1), ("502", 100), ("serialization", 100))
ODOO_WRITES = {
    # tracking refs and back-dating are writes grouped by value here (a few distinct values; many go in one load)
    "dispatches": [("stock.picking", "button_validate"), ("stock.move", "write"), ("stock.picking", "write"),
                   ("stock.move.line", "write"), ("stock.move.line", "create"), ("mail.message", "create"), ("stock.picking", "do_unreserve")],
    # stock.move.line unlink only runs on a retry (lines an interrupted attempt wrote): the kill-execute-stock.move.line.create
    # cases reach it
    "stock": [("stock.quant", "write")],
    "orders": [("mail.message", "create")],
}


def _odoo_cases() -> list[Case]:
    out = []
    for phase, methods in ODOO_WRITES.items():
        for model, method in methods:
            for mode, times in MODES:
                prefix = {"dispatches": "odoo", "stock": "odoo-stock", "orders": "odoo-orders"}[phase]
                out.append(Case(f"{prefix}-{model}.{method}-{mode}", phase, "odoo", (model, method, mode, times),
                                pg=(method, mode) in (("button_validate", "lost_reply"), ("write", "502")) and model == "stock.quant"
                                or (model, method, mode) == ("stock.picking", "button_validate", "lost_reply")))
    return out


def _kill(qualname: str, module: str = "threepl_bridge.ledger.repo") -> str:
    return f"{module}:{qualname}"


CLIENT = "threepl_bridge.odoo.client"
TRANSPORT = "threepl_bridge.transport.sftp"
KILLS = {
    "dispatches": [
        ("start_postings-1", _kill("Ledger.start_postings"), 1), ("start_postings-2", _kill("Ledger.start_postings"), 2),
        ("call_button", _kill("OdooClient.call_button", CLIENT), 1),
        ("complete_postings-1", _kill("Ledger.complete_postings"), 1), ("complete_postings-2", _kill("Ledger.complete_postings"), 2),
        ("execute-stock.picking.write-1", _kill("OdooClient.execute", CLIENT), ("stock.picking", "write", 1)),
        ("execute-stock.picking.write-2", _kill("OdooClient.execute", CLIENT), ("stock.picking", "write", 2)),
        ("execute-stock.move.line.create", _kill("OdooClient.execute", CLIENT), ("stock.move.line", "create", 1)),
        ("execute-mail.message.create", _kill("OdooClient.execute", CLIENT), ("mail.message", "create", 1)),
        ("record_rows", _kill("Ledger.record_rows"), 1), ("close_counts", _kill("Ledger.close_counts"), 1),
        ("transition-processed", _kill("Ledger.transition"), 2), ("move_unique", _kill("SftpTransport.move_unique", TRANSPORT), 1),
    ],
    "stock": [
        ("store_reconciliation", _kill("Ledger.store_reconciliation"), 1),
        ("execute-stock.quant.write", _kill("OdooClient.execute", CLIENT), ("stock.quant", "write", 1)),
        ("complete_postings", _kill("Ledger.complete_postings"), 1), ("set_line_posted", _kill("Ledger.set_line_posted"), 1),
    ],
}
PG_KILLS = {("dispatches", "complete_postings-1", "before"), ("dispatches", "transition-processed", "after"), ("stock", "execute-stock.quant.write", "after")}
# The deaths at an Odoo or SFTP side effect (not at a ledger commit): the side effect's own outcome (sent or not, its
# reply lost) is the same whether the process dies in-process (SystemExit: nothing after the call runs in this
# attempt) or by SIGKILL, so they run in-process (matched by the same nth call as the worker's --kill-at). Every
# death between a ledger commit and the next step stays a real SIGKILL of a worker process.
IN_PROCESS = {"call_button", "execute-stock.picking.write-1", "execute-stock.picking.write-2", "execute-stock.move.line.create",
              "execute-mail.message.create", "move_unique", "execute-stock.quant.write"}


def _kill_cases() -> list[Case]:
    out = []
    for phase, kills in KILLS.items():
        for name, target, nth in kills:
            for when in ("before", "after"):
                prefix = "kill" if phase == "dispatches" else f"kill-{phase}"
                out.append(Case(f"{prefix}-{name}-{when}", phase, "die" if name in IN_PROCESS else "kill", (target, when, nth),
                                pg=(phase, name, when) in PG_KILLS))
    return out


EXITS = [("mark_sent", Ledger, "mark_sent"), ("note_released", "orders", "note_released")]


def _exit_cases() -> list[Case]:
    return [Case(f"exit-orders-{name}-{when}", "orders", "exit", (owner, attr, when)) for name, owner, attr in EXITS for when in ("before", "after")]


CASES = [*_sftp_cases(), *_odoo_cases(), *_kill_cases(), *_exit_cases(), Case("overlap-stock", "stock", "overlap", pg=True)]
XFAIL: dict[str, str] = {}  # case id -> the defect that keeps recovery from the reference (none left: all ten found were fixed)
CASES = [dataclasses.replace(c, xfail=XFAIL.get(c.id)) for c in CASES]
FAULTED_PHASES = {c.phase for c in CASES} | {"dispatches"}  # the access test's phase too
PARAMS = [c.param("sqlite") for c in CASES] + [c.param("postgresql") for c in CASES if c.pg]


# ------------------------------------------------------------------------------------------- running a case


def kill_nth(case: Case, calls: dict[str, list[tuple[str, str]]]) -> int:
    _, _, nth = case.args
    if isinstance(nth, tuple):  # the nth OdooClient.execute of the phase that is (model, method) #k
        model, method, k = nth
        seen = [i for i, call in enumerate(calls[case.phase], 1) if call == (model, method)]
        assert len(seen) >= k, (case.id, calls[case.phase])
        nth = seen[k - 1]
    return nth


def kill_spec(case: Case, calls: dict[str, list[tuple[str, str]]]) -> str:
    target, when, _ = case.args
    return f"{target}:{when}:{kill_nth(case, calls)}"


def kill_target(target: str) -> tuple[Any, str]:
    """``module:Qualified.name`` (the worker's --kill-at target) -> (owner, attribute)."""
    module_name, qualname = target.split(":")
    owner: Any = importlib.import_module(module_name)
    *path, attr = qualname.split(".")
    for part in path:
        owner = getattr(owner, part)
    return owner, attr


def inject(sc: Scenario, case: Case, calls: dict[str, list[tuple[str, str]]], monkeypatch: pytest.MonkeyPatch) -> None:
    """The phase's first attempt, with the case's fault; it may fail, as the task would."""
    w = sc.world
    if case.how in ("sftp", "odoo", "exit", "die"):
        if case.how == "sftp":
            op, nth, after, path = case.args
            fault = w.sftp.drop_on(op, nth=nth, after=after, path=path)
        elif case.how == "odoo":
            model, method, mode, times = case.args
            fault = sc.proxy.fail(method, mode, times=times, model=model)
        elif case.how == "die":
            target, when, _ = case.args
            fault = _dying(monkeypatch, *kill_target(target), when, nth=kill_nth(case, calls))
        else:
            owner, attr, when = case.args
            fault = _dying(monkeypatch, orders_flow if owner == "orders" else owner, attr, when)
        try:
            sc.run_phase(case.phase)
        except BaseException as exc:  # noqa: BLE001 - the task failed (or the worker died): the retry follows
            if isinstance(exc, KeyboardInterrupt):
                raise
        assert fault.fired, f"{case.id}: the fault was never triggered"
        w.sftp.clear_faults()
        sc.proxy.clear()
        monkeypatch.undo()
    elif case.how == "kill":
        run = run_worker(w, case.phase, kill_at=(kill_spec(case, calls),))
        assert run.killed, f"{case.id}: the worker was not killed (rc {run.returncode}): {run.stderr}"
    elif case.how == "overlap":
        a, b = start(w, case.phase), start(w, case.phase)
        ra, rb = finish(a), finish(b)
        assert (ra.returncode, rb.returncode) == (0, 0), ra.stderr + rb.stderr


@dataclass
class Dying:
    fired: bool = False


def _dying(monkeypatch: pytest.MonkeyPatch, owner: Any, attr: str, when: str, *, nth: int = 1) -> Dying:
    """The worker dies (in-process: SystemExit) just before or just after the nth call (counted like the worker's
    --kill-at) of ``owner.attr``."""
    original = getattr(owner, attr)
    state = Dying()
    calls = {"n": 0}

    def dying(*args: Any, **kwargs: Any) -> Any:
        if state.fired:
            return original(*args, **kwargs)
        calls["n"] += 1
        if calls["n"] != nth:
            return original(*args, **kwargs)
        if when == "before":
            state.fired = True
            raise SystemExit(f"killed before {attr} #{nth}")
        original(*args, **kwargs)
        state.fired = True
        raise SystemExit(f"killed after {attr} #{nth}")

    monkeypatch.setattr(owner, attr, dying)
    return state


def replay(sc: Scenario, phase: str) -> None:
    """The faulted phase's input again: the same file dropped again (inbound), the next scheduled run (outbound)."""
    if phase == "dispatches":
        sc.drop_dispatches()
    elif phase == "stock":
        sc.drop_stock()
    sc.tasks_done.clear()  # a new DAG run
    sc.run_phase(phase)


def differences(got: dict[str, Any], want: dict[str, Any], path: str = "") -> list[str]:
    """Where two snapshots differ, section by section (what is only in the run, what is only in the reference)."""
    out = []
    for k in sorted(set(got) | set(want), key=str):
        a, b = got.get(k), want.get(k)
        if a == b:
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            out += differences(a, b, f"{path}{k}.")
        elif isinstance(a, list) and isinstance(b, list):
            extra = [x for x in a if x not in b]
            missing = [x for x in b if x not in a]
            out.append(f"{path}{k}: only after the fault {extra or '(none; counts differ)'}; only in the reference {missing}")
        else:
            out.append(f"{path}{k}: after the fault {a!r}; reference {b!r}")
    return out


@pytest.mark.parametrize("ledger_url, case", PARAMS, indirect=["ledger_url"])
def test_recovery_reaches_the_fault_free_state(reference, matrix_world, ledger_url, case, monkeypatch, tmp_path):
    world, proxy = matrix_world
    monkeypatch.setenv("THREEPL_REPORTS_DIR", str(tmp_path / "reports"))  # the worker processes' reports
    sc = Scenario(world, proxy, tmp_path / "reports")
    for phase in start_at(sc, case.phase, reference["saved"], ledger_url):
        sc.before(phase)
        if phase == case.phase:
            with pytest.MonkeyPatch.context() as patch:
                inject(sc, case, reference["calls"], patch)
        sc.run_phase(phase)  # the recovery (or the phase's only run, for the phases without the fault)
    got = snapshot(world)
    problems = differences(got, reference["snapshot"])
    assert not problems, f"{case.id}: after recovery:\n" + "\n".join(problems)
    replay(sc, case.phase)
    problems = differences(odoo_snapshot(world), got["odoo"])
    assert not problems, f"{case.id}: the replay changed Odoo:\n" + "\n".join(problems)


@pytest.mark.parametrize("ledger_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("phase", sorted(FAULTED_PHASES))
def test_a_saved_world_restores_as_it_was(reference, matrix_world, ledger_url, phase, tmp_path):
    """The cases start from a saved world: restored into a fresh world, it is the world that was saved (Odoo, the
    ledger and the SFTP tree by :func:`snapshot`; the ids too: a later phase finds the same records), and the
    phase then runs from it exactly as in the reference run (same Odoo calls)."""
    world, proxy = matrix_world
    saved = reference["saved"][phase]
    sc = Scenario(world, proxy, tmp_path / "reports")
    assert start_at(sc, phase, reference["saved"], ledger_url) == PHASES[PHASES.index(phase):]
    problems = differences(snapshot(world), saved.snapshot)
    assert not problems, f"{phase}: the restored world differs:\n" + "\n".join(problems)
    records = pickle.loads(saved.odoo)[0]
    for model in ("product.product", "stock.picking", "stock.quant"):
        ids = world.x(model, "search", [], context={"active_test": False})
        assert sorted(ids) == sorted(records[model]), model
    assert "CHEAP-1" in {r["default_code"] for r in world.x("product.product", "search_read", [], fields=["default_code"])}
    sc.before(phase)
    mark = len(proxy.log)
    sc.run_phase(phase)
    assert [(model, method) for model, method, _ in proxy.log[mark:] if model] == reference["calls"][phase]


@pytest.mark.parametrize("ledger_url", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
def test_an_access_error_mid_batch_refuses_only_that_picking_and_its_replay_posts_it_once(reference, matrix_world, ledger_url, tmp_path):
    """``odoo-access-button_validate``: Odoo refuses the batch, then its first half (the plain order) with an access
    error. Only that picking is refused (its row is DISPATCH_POST_FAILED, the others post); once the permission is
    fixed, the file dropped again posts it, once: Odoo is then exactly as after the fault-free run."""
    world, proxy = matrix_world
    sc = Scenario(world, proxy, tmp_path / "reports")
    for phase in start_at(sc, "dispatches", reference["saved"], ledger_url):
        if phase == "dispatches":
            break
        sc.before(phase)
        sc.run_phase(phase)
    sc.before("dispatches")
    rule = proxy.fail("button_validate", "access", times=2)
    sc.dispatches()
    assert rule.fired == 2 and proxy.calls("button_validate") == ["access", "access", "forward"]
    proxy.clear()
    one, two, lots = (sc.picks[k]["name"] for k in ("one", "two", "lots"))
    got = snapshot(world)
    want = reference["snapshot"]
    assert {k: v[0] for k, v in got["odoo"]["pickings"].items()} == {one: "assigned", two: "done", lots: "done"}
    assert [m for m in got["odoo"]["moves"] if m[0] != one] == [m for m in want["odoo"]["moves"] if m[0] != one]
    assert [m[4] for m in got["odoo"]["moves"] if m[0] == one] == ["assigned"]
    name = f"inbound:dispatches:{DISPATCH_NAME}#1"
    assert [r for r in got["ledger"]["rows"] if r[0] == name] == [
        (name, 2, "exception", "DISPATCH_POST_FAILED", "", None),
        *[r for r in want["ledger"]["rows"] if r[0] == name and r[1] != 2]]
    assert got["ledger"]["open_exceptions"] == want["ledger"]["open_exceptions"]  # row exceptions are the rows' outcomes
    assert (f"dispatch:{one}:{name}", "stock.picking.button_validate", "failed", name) in got["ledger"]["postings"]

    replay(sc, "dispatches")  # the permission fixed, the 3PL (or an operator) drops the file again
    sc.before("stock")
    sc.stock()
    after = snapshot(world)
    problems = differences(after["odoo"], want["odoo"])
    assert not problems, "after the replay:\n" + "\n".join(problems)
    assert after["ledger"]["open_exceptions"] == want["ledger"]["open_exceptions"]
    again = f"inbound:dispatches:{DISPATCH_NAME}#2"
    assert [r[2:4] for r in after["ledger"]["rows"] if r[0] == again] == [
        ("posted", ""), ("duplicate", ""), ("duplicate", ""), ("duplicate", ""), ("duplicate", ""), ("exception", "DISPATCH_UNKNOWN_ORDER")]
