"""The exactly-once property of dispatch posting (issue 13, "What to build": the Hypothesis property test).

For ANY sequence of arrivals (the five shipped lines of three released orders - one plain, one of two lines, one
lot-tracked in two lots - split over files in any grouping and order), duplicates (the same file again, the same
content under another name), replays (``request_replay`` of a settled file; a file dropped again after the
accounting period is reopened), crashes (``Killed``, a BaseException like a worker's death, raised just before or
just after the nth call of a ledger, Odoo-client or SFTP step) and Odoo faults on the wire
(:class:`tests.faults.FaultyOdoo`: 502 longer than the retries, a timeout with and without the effect applied,
a serialization failure, an access error), followed by recovery runs:

- at every step: no line is delivered more than once (Odoo's done move lines per product and lot never exceed
  what was shipped), no line has more than one ``posted`` row outcome in the ledger, no move is valued twice;
- after recovery (faults gone, the period reopened, every file dropped again): every shipped line is delivered
  exactly once, Odoo and the ledger agree line by line, each delivered move has one valuation layer, every row of
  every processed exchange has exactly one outcome and the counts add up, and no file or exchange is left stuck.

The Odoo stand-in, the fault proxy and the SFTP server are started once for the test; each example gets a fresh
stand-in world (``build()`` takes milliseconds), a fresh SQLite ledger and an empty SFTP tree. With ``CI=true``
the examples are derandomized (reproducible); the number of examples run is printed (``-s``) and written to
``$THREEPL_PROPERTY_REPORT`` when set.
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from sandbox.odoo_standin import OdooStandIn, build
from sandbox.sftp_server import EmbeddedSftpServer
from tests.conftest import REPO
from tests.faults import FaultyOdoo
from tests.flows.conftest import FIXTURES, ODOO_NOW, RUN_AT, World, dispatch_csv
from threepl_bridge.ledger.models import Exchange
from threepl_bridge.ledger.repo import Ledger
from threepl_bridge.ledger.states import State
from threepl_bridge.odoo.client import OdooClient, OdooSettings
from threepl_bridge.specs.loader import load_partner

CUSTOMERS = 5  # the stand-in's Partners/Customers location (sandbox/odoo_standin/models.py)
SHIPPED_AT = "2026-11-19 10:00:00"  # the demo partner's local time; the run is 2026-11-20 09:30 UTC
LOCK = "2026-11-19"  # a lock date that closes the shipping day

# the fixed set of physical shipments: (order, line, sku, qty, lot, carrier, tracking, parcel)
LINES = (
    ("one", 1, "FURN_7800", 2, "", "The Poste", "TP1", "P1"),
    ("two", 1, "FURN_8855", 10, "", "Standard delivery", "SD1", "P2"),
    ("two", 2, "E-COM11", 4, "", "Standard delivery", "SD1", "P2"),
    ("lots", 1, "FURN_5555", 6, "LOT-A", "Standard delivery", "SD2", "P3"),
    ("lots", 1, "FURN_5555", 4, "LOT-B", "Standard delivery", "SD3", "P4"),
)


class Killed(BaseException):
    """The worker dies here (not an Exception: nothing in the code under test may catch it)."""


# step boundaries a crash is injected at: (module, owner, method)
KILL_POINTS = (
    ("threepl_bridge.ledger.repo", "Ledger", "register_inbound"),
    ("threepl_bridge.ledger.repo", "Ledger", "transition"),
    ("threepl_bridge.ledger.repo", "Ledger", "start_postings"),
    ("threepl_bridge.ledger.repo", "Ledger", "complete_postings"),
    ("threepl_bridge.ledger.repo", "Ledger", "record_rows"),
    ("threepl_bridge.ledger.repo", "Ledger", "close_counts"),
    ("threepl_bridge.ledger.repo", "Ledger", "set_moved"),
    ("threepl_bridge.odoo.client", "OdooClient", "call_button"),
    ("threepl_bridge.odoo.client", "OdooClient", "write_many"),
    ("threepl_bridge.odoo.client", "OdooClient", "create_many"),
    ("threepl_bridge.odoo.client", "OdooClient", "execute"),
    ("threepl_bridge.transport.sftp", "SftpTransport", "move_unique"),
)
ODOO_FAULTS = ("502", "timeout_unapplied", "lost_reply", "serialization", "access")
FAULT_METHODS = ("button_validate", "write", "create", "search_read", "read")

# ------------------------------------------------------------------------------------------ strategies

lines_of_a_file = st.lists(st.integers(0, len(LINES) - 1), min_size=1, max_size=len(LINES), unique=True)
crash = st.tuples(st.just("kill"), st.sampled_from(range(len(KILL_POINTS))), st.sampled_from(("before", "after")), st.integers(1, 4))
odoo_fault = st.tuples(st.just("odoo"), st.sampled_from(FAULT_METHODS), st.sampled_from(ODOO_FAULTS), st.sampled_from((1, 2, 50)))
action = st.one_of(
    st.tuples(st.just("arrive"), lines_of_a_file),
    st.tuples(st.just("again"), st.integers(0, 5)),  # the same file (name and bytes) once it left the inbox
    st.tuples(st.just("copy"), st.integers(0, 5)),  # the same bytes under another name
    st.tuples(st.just("replay"), st.integers(0, 5)),  # request_replay of a settled file
    st.tuples(st.just("lock")),
    st.tuples(st.just("unlock")),
    st.tuples(st.just("run"), st.one_of(st.none(), crash, odoo_fault)),
)
scenario = st.lists(action, min_size=1, max_size=8)

EXAMPLES = int(os.environ.get("THREEPL_PROPERTY_EXAMPLES", "15"))
RUNS: list[list[tuple]] = []  # every example run (their count is reported)
TIMES: list[tuple[str, float]] = []


# ------------------------------------------------------------------------------------------ the world


class Harness:
    """Servers started once; :meth:`fresh` gives each example a new stand-in world, ledger and SFTP tree."""

    def __init__(self, stack: ExitStack, root: Path) -> None:
        self.root = root
        self.standin = stack.enter_context(OdooStandIn(build(etl_email="etl@example.com", frozen_now=ODOO_NOW)))
        self.proxy = stack.enter_context(FaultyOdoo(self.standin.url))
        self.sftp_root = root / "sftp"
        self.sftp = stack.enter_context(EmbeddedSftpServer(self.sftp_root))
        self.demo = load_partner(REPO / "sftp_formats" / "partners" / "demo3pl.yaml")
        self.semi = load_partner(FIXTURES / "partners" / "semi3pl.yaml")
        self.n = 0

    def fresh(self) -> World:
        self.n += 1
        env = build(etl_email="etl@example.com", frozen_now=ODOO_NOW)
        self.standin.env = env
        self.standin._server.RequestHandlerClass.env = env  # the running server answers from the new world
        self.proxy.clear()
        for child in self.sftp_root.iterdir() if self.sftp_root.exists() else ():
            shutil.rmtree(child) if child.is_dir() else child.unlink()
        client = OdooClient(OdooSettings(url=self.proxy.url, database="odoo3pl", login="etl", password="standin-etl-api-key",
                                         backoff=0.0, timeout=5.0), sleep=lambda s: None)
        ledger = Ledger.open(f"sqlite:///{self.root / f'ledger-{self.n}.db'}")
        return World(env=env, odoo=client, ledger=ledger, sftp_root=self.sftp_root, demo=self.demo, semi=self.semi, sftp=self.sftp)

    def admin(self) -> OdooClient:
        return OdooClient(OdooSettings(url=self.standin.url, database="odoo3pl", login="admin", password="admin"))


@pytest.fixture(scope="module")
def harness():
    old = {k: os.environ.get(k) for k in ("AIRFLOW_CONN_DEMO3PL_SFTP", "AIRFLOW_CONN_SEMI3PL_SFTP")}
    root = Path(tempfile.mkdtemp(prefix="property-"))
    with ExitStack() as stack:
        h = Harness(stack, root)
        for k in old:
            os.environ[k] = h.sftp.airflow_connection()
        yield h
    line = f"exactly-once property: {len(RUNS)} examples run (max_examples={EXAMPLES}, derandomize={os.environ.get('CI') == 'true'})"
    print(f"\n{line}")
    if os.environ.get("THREEPL_PROPERTY_REPORT"):
        Path(os.environ["THREEPL_PROPERTY_REPORT"]).write_text(line + "\n")
    for k, v in old.items():
        os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
    shutil.rmtree(root, ignore_errors=True)


@contextmanager
def killed_at(point: int, when: str, nth: int):
    """``Killed`` just before or just after the nth call of a step (the process dies: leases die with it)."""
    import importlib

    module, owner_name, attr = KILL_POINTS[point]
    owner = getattr(importlib.import_module(module), owner_name)
    own = attr in owner.__dict__
    original = getattr(owner, attr)  # plain functions (Ledger's are on its aggregate mixins)
    calls = {"n": 0}

    @functools.wraps(original)
    def dying(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == nth and when == "before":
            raise Killed(f"{owner_name}.{attr} before call {nth}")
        result = original(*args, **kwargs)
        if calls["n"] == nth and when == "after":
            raise Killed(f"{owner_name}.{attr} after call {nth}")
        return result

    setattr(owner, attr, dying)
    try:
        yield
    finally:
        setattr(owner, attr, original) if own else delattr(owner, attr)


class Model:
    """One example: the files the 3PL sent and what the bridge did with them."""

    def __init__(self, h: Harness, w: World, released: dict[str, dict]) -> None:
        self.h, self.w, self.released = h, w, released
        self.files: list[tuple[str, bytes]] = []  # every distinct file sent: (name, bytes)
        self.sent: set[int] = set()  # the lines (indices of LINES) in any file sent
        self.layers_before = self.layers()
        self.inbox = w.sftp_root / w.demo.document("dispatches").folder.lstrip("/")

    # -- the 3PL and the operator

    def body(self, indices: list[int]) -> bytes:
        rows = []
        for i in indices:
            order, line, sku, qty, lot, carrier, tracking, parcel = LINES[i]
            rows.append(f"{self.released[order]['name']},{line},{sku},,{qty},EA,{lot},{SHIPPED_AT},{carrier},{tracking},{parcel}")
        return dispatch_csv(rows)

    def in_inbox(self, name: str) -> bool:
        return (self.inbox / name).exists()

    def drop(self, name: str, data: bytes) -> None:
        self.inbox.mkdir(parents=True, exist_ok=True)
        (self.inbox / name).write_bytes(data)
        (self.inbox / f"{name}.ok").write_bytes(b"")

    def arrive(self, indices: list[int]) -> None:
        name = f"DISPATCH_{len(self.files):02d}.csv"
        self.sent.update(indices)
        self.files.append((name, self.body(indices)))
        self.drop(name, self.files[-1][1])

    def again(self, k: int) -> None:
        if self.files:
            name, data = self.files[k % len(self.files)]
            if not self.in_inbox(name):
                self.drop(name, data)

    def copy(self, k: int) -> None:
        if self.files:
            _, data = self.files[k % len(self.files)]
            name = f"DISPATCH_{len(self.files):02d}_COPY.csv"
            self.files.append((name, data))
            self.drop(name, data)

    def replay(self, k: int) -> None:
        from threepl_bridge.flows.inbox import request_replay

        settled = [e for e in self.exchanges() if e.state in (State.INPUT_PROCESSED, State.INPUT_DUPLICATE, State.INPUT_ERROR)
                   and e.moved_to and not self.in_inbox(e.remote_name)]
        if settled:
            exchange = settled[k % len(settled)]
            request_replay(self.w.demo, exchange.id, transport=self.w.transport(self.w.demo), ledger=self.w.ledger)

    def lock(self, date: str | bool) -> None:
        self.h.admin().execute("res.company", "write", [1], {"period_lock_date": date})

    def run(self, fault: tuple | None = None) -> None:
        """One run of the dispatch DAG: one task per listed file (a task that fails or dies leaves the others)."""
        from threepl_bridge.flows.dispatches import DISPATCHES
        from threepl_bridge.flows.exchange import handle_file, list_files

        transport = self.w.transport(self.w.demo)
        with ExitStack() as faults:
            if fault and fault[0] == "kill":
                faults.enter_context(killed_at(*fault[1:]))
            elif fault and fault[0] == "odoo":
                self.h.proxy.fail(fault[1], fault[2], times=fault[3])
            try:
                names = list_files(self.w.demo, DISPATCHES, transport, self.w.ledger)
            except (Exception, Killed):
                return  # the listing task failed or died: nothing was handled
            for name in names:
                try:
                    handle_file(DISPATCHES, self.w.demo, name, transport=transport, ledger=self.w.ledger, client=self.w.odoo, now=RUN_AT)
                except (Exception, Killed):
                    pass  # this file's task failed or died; Airflow retries it (a later run here)
        self.h.proxy.clear()

    # -- what Odoo and the ledger hold

    def exchanges(self) -> list[Exchange]:
        with self.w.ledger.session() as s:
            return list(s.query(Exchange).filter_by(partner=self.w.demo.code, kind="dispatches").order_by(Exchange.id))

    def delivered(self) -> dict[tuple[str, str], float]:
        """(sku, lot) -> quantity Odoo delivered to customers (done move lines)."""
        out: dict[tuple[str, str], float] = {}
        for ml in self.h.admin().execute("stock.move.line", "search_read", [["state", "=", "done"], ["location_dest_id", "=", CUSTOMERS]],
                                         fields=["product_id", "lot_id", "quantity"]):
            sku = ml["product_id"][1].split("]")[0].strip("[")
            lot = ml["lot_id"][1] if ml["lot_id"] else ""
            out[(sku, lot)] = out.get((sku, lot), 0.0) + ml["quantity"]
        return {k: v for k, v in out.items() if v}

    def posted(self) -> dict[tuple[str, str], list[tuple[int, int]]]:
        """(sku, lot) -> every (exchange, row) with a posted outcome for that line."""
        out: dict[tuple[str, str], list[tuple[int, int]]] = {}
        for r in self.w.ledger.dispatch_rows(self.w.demo.code):
            if r["outcome"] == "posted":
                out.setdefault((r["data"]["sku"], r["data"].get("lot") or ""), []).append((r["exchange_id"], r["row"]))
        return out

    def layers(self) -> list[dict]:
        return self.h.admin().execute("stock.valuation.layer", "search_read", [], fields=["stock_move_id", "quantity"])

    def check_never_more(self) -> None:
        shipped = {(sku, lot): float(qty) for _, _, sku, qty, lot, *_ in LINES}
        delivered = self.delivered()
        over = {k: v for k, v in delivered.items() if v > shipped.get(k, 0.0) + 1e-9}
        assert not over, f"delivered more than shipped: {over}"
        twice = {k: v for k, v in self.posted().items() if len(v) > 1}
        assert not twice, f"lines with more than one posted row outcome: {twice}"
        moves = [l["stock_move_id"][0] for l in self.layers()[len(self.layers_before):] if l["stock_move_id"]]
        assert len(moves) == len(set(moves)), f"a move valued twice: {sorted(moves)}"

    def recover(self) -> None:
        """Faults gone, the period reopened, every file the 3PL sent dropped again, the runs retried."""
        self.lock(False)
        self.run()
        for name, data in dict(self.files).items():
            if not self.in_inbox(name):
                self.drop(name, data)
        self.run()
        self.run()

    def check_exactly_once(self) -> None:
        self.check_never_more()
        sent = {(LINES[i][2], LINES[i][4]) for i in self.sent}
        shipped = {(sku, lot): float(qty) for _, _, sku, qty, lot, *_ in LINES}
        assert self.delivered() == {k: shipped[k] for k in sent}, "Odoo does not hold every line sent, exactly once"
        assert set(self.posted()) == sent, "the ledger does not hold one posted outcome per line sent"
        new_layers = self.layers()[len(self.layers_before):]
        delivered_moves = {m["id"] for m in self.h.admin().execute("stock.move", "search_read", [["state", "=", "done"], ["location_dest_id", "=", CUSTOMERS]],
                                                                  fields=["id"])}
        assert sorted(l["stock_move_id"][0] for l in new_layers) == sorted(delivered_moves), "each delivered move valued once"
        for e in self.exchanges():
            assert e.state in (State.INPUT_PROCESSED, State.INPUT_DUPLICATE, State.INPUT_ERROR), f"{e.remote_name} (exchange {e.id}) stuck in {e.state}"
            if e.state == State.INPUT_PROCESSED:
                by_row: dict[int, set[str]] = {}
                for o in self.w.ledger.row_outcomes(e.id):
                    by_row.setdefault(o.row_number, set()).add(str(o.outcome))
                assert all(len(v) == 1 for v in by_row.values()), f"exchange {e.id}: a row with two outcomes {by_row}"
                assert len(by_row) == e.rows_total == e.rows_posted + e.rows_duplicate + e.rows_exception
        left = sorted(p.name for p in self.inbox.iterdir()) if self.inbox.exists() else []
        assert not left, f"files stuck in the inbox: {left}"


def released_world(h: Harness) -> tuple[World, dict[str, dict]]:
    w = h.fresh()
    w.run_products(w.demo)
    one = w.sell([("FURN_7800", 2)])
    two = w.sell([("FURN_8855", 10), ("E-COM11", 4)])
    lots = w.sell([("FURN_5555", 10)])
    w.run_orders(w.demo)
    return w, {"one": one, "two": two, "lots": lots}


def play(h: Harness, actions: list[tuple]) -> None:
    import time

    started = time.perf_counter()
    w, released = released_world(h)
    TIMES.append(("setup", time.perf_counter() - started))
    m = Model(h, w, released)
    for act in actions:
        if act[0] == "arrive":
            m.arrive(act[1])
        elif act[0] in ("again", "copy", "replay"):
            getattr(m, act[0])(act[1])
        elif act[0] == "lock":
            m.lock(LOCK)
        elif act[0] == "unlock":
            m.lock(False)
        else:
            m.run(act[1])
        m.check_never_more()
    m.recover()
    m.check_exactly_once()
    TIMES.append(("example", time.perf_counter() - started))


@settings(max_examples=EXAMPLES, deadline=None, derandomize=os.environ.get("CI") == "true", database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large])
@given(actions=scenario)
def test_each_physical_shipment_is_posted_exactly_once(harness, actions):
    RUNS.append(actions)
    play(harness, actions)
