"""The bad-input corpus (issue 13): every file of ``tests/data/bad/MANIFEST.yaml`` through the real inbound lifecycle.

One run per kind and partner (the flow tests' world: the Odoo stand-in, the embedded SFTP server, a SQLite ledger):
every file of the group and a good file of the same kind are dropped and processed in the same run, then the group
runs a second time. Per file: exactly its expected code(s) (file-level: the exchange in error and the kind's
FILE_UNREADABLE exception; row-level: the row outcome codes by row number, every other row posted), a message naming
the file (and the row), nothing of a bad row posted in Odoo (its picking stays open; a snapshot adjusts nothing), and
the second run finds nothing left in the inbox and changes nothing. A case marked ``xfail`` in the manifest is a
known defect of the code base: it xfails strictly (it must fail today; once fixed, remove the mark).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from sandbox.odoo_standin import OdooStandIn, build
from sandbox.sftp_server import EmbeddedSftpServer
from tests.conftest import REPO
from tests.flows.conftest import FIXTURES, ODOO_NOW, RUN_AT, World, drop
from threepl_bridge.ledger.repo import Ledger
from threepl_bridge.odoo.client import OdooClient, OdooSettings
from threepl_bridge.specs.loader import load_partner
from threepl_bridge.transport.sftp import SftpTransport

BAD = REPO / "tests" / "data" / "bad"
CASES: list[dict[str, Any]] = yaml.safe_load((BAD / "MANIFEST.yaml").read_text(encoding="utf-8"))["cases"]
GROUPS = sorted({(c["kind"], c["partner"]) for c in CASES})
GroupKey = tuple[str, str, str]  # kind, partner, and the file of a case that runs alone ("" for the shared run)
STOCK_LOCATION = 35  # 3PL/Stock
BARCODE = "4006381333931"  # given to FURN_7800 (the "barcode instead of SKU" case)
MAX_FILE_MB = "0.05"
PLACEHOLDER = re.compile(rb"\{((?:ORDER|LOTS)_[A-Z0-9_]+|UNRELEASED)\}")
GOOD = {  # the good file of each group, processed in the same run as the bad ones
    ("dispatches", "demo3pl"): ("DISPATCH_zz_good.csv", "order_ref,line,sku,barcode,qty_shipped,uom,lot,shipped_at,carrier,tracking_no,parcel_id\r\n"
                                "{ORDER_GOOD},1,FURN_7800,,2,EA,,2026-11-20 00:30:00,The Poste,TP9,P9\r\n"
                                "{LOTS_GOOD},1,FURN_5555,,10,EA,LOT-A,2026-11-20 00:30:00,The Poste,TP9,P9\r\n"),
    ("dispatches", "semi3pl"): ("VERSAND_zz_good.txt", "Auftrag;Pos;Artikel;Menge;ME;Charge;Versandzeit;Spediteur;Sendungsnummer\n"
                                "{ORDER_GOOD};1;FURN_7800;2;EA;;20.11.2026 09:30;Die Post;DP9\n"),
    ("stock", "demo3pl"): ("STOCK_zz_good.csv", "sku,lot,qty_on_hand,uom,status,snapshot_at\r\n{HELD_ROWS}\r\n"),
    ("stock", "semi3pl"): ("BESTAND_zz_good.txt", "Artikel;Charge;Bestand;ME;Stichtag\n{HELD_ROWS}\n"),
}
HELD_FORMAT = {"demo3pl": "{sku},{lot},{qty:g},EA,ok,2026-11-20 01:10:00", "semi3pl": "{sku};{lot};{qty:g};EA;20.11.2026 10:10"}


# ------------------------------------------------------------------------------------------------- one group


@dataclass
class Group:
    """One kind and partner: its world, the orders behind the placeholders, and what the two runs did."""

    world: World
    kind: str
    partner: Any
    reports: Path
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)  # placeholder -> picking
    dropped: dict[str, str] = field(default_factory=dict)  # manifest file -> the name it was dropped under
    first: dict[str, Any] = field(default_factory=dict)  # name -> FileResult, or the error text
    second_listed: list[str] = field(default_factory=list)
    second: dict[str, Any] = field(default_factory=dict)
    before_second: dict[str, Any] = field(default_factory=dict)
    after_second: dict[str, Any] = field(default_factory=dict)
    error: str | None = None  # the run itself failed (the listing)
    cases: list[dict[str, Any]] = field(default_factory=list)


def _world(stack: ExitStack, root: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    env = build(etl_email="etl@example.com", frozen_now=ODOO_NOW)
    odoo = stack.enter_context(OdooStandIn(env))
    sftp = stack.enter_context(EmbeddedSftpServer(root / "sftp"))
    for conn_id in ("demo3pl_sftp", "semi3pl_sftp"):
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", sftp.airflow_connection())
    client = OdooClient(OdooSettings(url=odoo.url, database="odoo3pl", login="etl", password="standin-etl-api-key"))
    return World(env=env, odoo=client, ledger=Ledger.open(f"sqlite:///{root / 'ledger.db'}"), sftp_root=root / "sftp",
                 demo=load_partner(REPO / "sftp_formats" / "partners" / "demo3pl.yaml"),
                 semi=load_partner(FIXTURES / "partners" / "semi3pl.yaml"), sftp=sftp)


def _cases(kind: str, partner: str, alone: str = "") -> list[dict[str, Any]]:
    """The cases of one run: the group's shared run, or one case with ``own_run`` (its defect changes Odoo for the files after it)."""
    return [c for c in CASES if (c["kind"], c["partner"]) == (kind, partner) and (c["file"] == alone if alone else not c.get("own_run"))]


def _release_orders(world: World, partner: Any, files: list[bytes]) -> dict[str, dict[str, Any]]:
    """A sale order per placeholder: released to the partner, but ``{UNRELEASED}`` (confirmed after the release)."""
    world.x("product.product", "write", [8], {"barcode": BARCODE})  # FURN_7800
    world.run_products(partner)
    wanted = sorted({m.decode() for data in files for m in PLACEHOLDER.findall(data)})
    orders = {}
    for name in wanted:
        if name != "UNRELEASED":
            orders[name] = world.sell([("FURN_5555", 10)] if name.startswith("LOTS_") else [("FURN_7800", 2)])
    world.run_orders(partner)
    released = set(world.ledger.released_pickings(partner.code, [p["id"] for p in orders.values()]))
    assert released == {p["id"] for p in orders.values()}, "every placeholder order must be released"
    if "UNRELEASED" in wanted:
        orders["UNRELEASED"] = world.sell([("FURN_7800", 2)])
    return orders


def _held_rows(world: World, partner: Any) -> list[tuple[str, str]]:
    """(SKU, line) matching every quant Odoo holds in 3PL/Stock, in the partner's stock layout."""
    held = world.x("stock.quant", "search_read", [["location_id", "=", STOCK_LOCATION], ["quantity", "!=", 0]],
                   fields=["product_id", "lot_id", "quantity"])
    sku = {p["id"]: p["default_code"] for p in world.x("product.product", "read", sorted({q["product_id"][0] for q in held}), fields=["default_code"])}
    return [(sku[q["product_id"][0]], HELD_FORMAT[partner.code].format(sku=sku[q["product_id"][0]], lot=q["lot_id"][1] if q["lot_id"] else "",
                                                                        qty=q["quantity"])) for q in held]


def _substitute(data: bytes, orders: dict[str, dict[str, Any]], held: list[tuple[str, str]], case: dict[str, Any], encoding: str,
                reverse: bool = False) -> bytes:
    data = PLACEHOLDER.sub(lambda m: orders[m.group(1).decode()]["name"].encode(), data)
    if b"{HELD_ROWS}" in data:
        nl = b"\r\n" if b"\r\n" in data else b"\r" if b"\r" in data else b"\n"
        skip, keep = case.get("held_skip", []), case.get("held_keep", [])
        lines = [line for sku, line in held if sku not in skip and (sku in keep or sku.encode() not in data)][:: -1 if reverse else 1]
        data = data.replace(b"{HELD_ROWS}", nl.join(line.encode(encoding) for line in lines))
    return data


def _run(group: Group) -> tuple[list[str], dict[str, Any]]:
    from threepl_bridge.flows.dispatches import DISPATCHES
    from threepl_bridge.flows.exchange import handle_file, list_files
    from threepl_bridge.flows.stock import STOCK

    kind = DISPATCHES if group.kind == "dispatches" else STOCK
    transport = SftpTransport(group.partner.spec.sftp.conn_id, sleep=lambda s: None)
    names = list_files(group.partner, kind, transport, group.world.ledger)
    out: dict[str, Any] = {}
    for name in names:
        try:
            out[name] = handle_file(kind, group.partner, name, transport=transport, ledger=group.world.ledger, client=group.world.odoo,
                                    now=RUN_AT, options={"reports_dir": group.reports})
        except Exception as exc:  # a task that fails: the case's defect, reported per file
            out[name] = f"{type(exc).__name__}: {exc}"
    return names, out


def _state(group: Group) -> dict[str, Any]:
    """What a second run must not change: the ledger's exchanges and open exceptions, Odoo's pickings and quants."""
    world = group.world
    pickings = world.x("stock.picking", "search_read", [], fields=["name", "state"])
    quants = world.x("stock.quant", "search_read", [["location_id", "=", STOCK_LOCATION]], fields=["product_id", "lot_id", "quantity"])
    exchanges = sorted((e.id, str(e.state), e.rows_posted, e.rows_exception) for e in _exchanges(world))
    return {"exchanges": exchanges, "exceptions": sorted((e.code, e.object_ref) for e in world.ledger.open_exceptions()),
            "pickings": sorted((p["name"], p["state"]) for p in pickings),
            "quants": sorted((q["product_id"][0], q["lot_id"][0] if q["lot_id"] else 0, q["quantity"]) for q in quants)}


def _exchanges(world: World) -> list[Any]:
    from sqlalchemy import select

    from threepl_bridge.ledger.models import Exchange

    with world.ledger.session() as s:
        return list(s.scalars(select(Exchange).where(Exchange.direction == "inbound")))


def _run_group(kind: str, partner_code: str, alone: str, root: Path, stack: ExitStack, monkeypatch: pytest.MonkeyPatch) -> Group:
    world = _world(stack, root, monkeypatch)
    partner = world.demo if partner_code == "demo3pl" else world.semi
    group = Group(world=world, kind=kind, partner=partner, reports=root / "reports")
    monkeypatch.setenv("THREEPL_MAX_FILE_MB", MAX_FILE_MB)
    cases = _cases(kind, partner_code, alone)
    group.cases = cases
    good_name, good_text = GOOD[(kind, partner_code)]
    raw = {c["file"]: (BAD / c["file"]).read_bytes() for c in cases}
    raw[good_name] = good_text.encode()
    group.orders = _release_orders(world, partner, list(raw.values())) if kind == "dispatches" else {}
    held = _held_rows(world, partner) if kind == "stock" else []
    encoding = partner.layout_for(kind).encoding.replace("utf-8-sig", "utf-8")  # one BOM per file, not per line
    for c in [*cases, {"file": good_name}]:
        name = c.get("remote_name") or Path(c["file"]).name
        # the good file lists the held rows in reverse: its content is no other file's (that would be a duplicate)
        data = _substitute(raw[c["file"]], group.orders, held, c, encoding, reverse=c["file"] == good_name)
        drop(world, partner, kind, name, data)
        group.dropped[c["file"]] = name
    try:
        _, group.first = _run(group)
        group.before_second = _state(group)
        group.second_listed, group.second = _run(group)
        group.after_second = _state(group)
    except Exception as exc:  # the listing itself failed: every case of the group fails with it
        group.error = f"{type(exc).__name__}: {exc}"
    return group


@pytest.fixture(scope="module")
def groups(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    done: dict[GroupKey, Group] = {}
    with ExitStack() as stack, pytest.MonkeyPatch.context() as monkeypatch:
        def get(kind: str, partner: str, alone: str = "") -> Group:
            if (kind, partner, alone) not in done:
                root = tmp_path_factory.mktemp(f"bad-{kind}-{partner}")
                done[(kind, partner, alone)] = _run_group(kind, partner, alone, root, stack, monkeypatch)
            return done[(kind, partner, alone)]

        yield get


# --------------------------------------------------------------------------------------------- per case


def _exchange(group: Group, name: str) -> Any:
    from threepl_bridge.flows.inbox import reg_name

    doc = group.partner.document(group.kind)
    found = group.world.ledger.inbound_named(group.partner.code, group.kind, doc.folder, name)
    return found or group.world.ledger.inbound_named(group.partner.code, group.kind, doc.folder, reg_name(name))


def _unreadable_code(kind: str) -> str:
    return "DISPATCH_FILE_UNREADABLE" if kind == "dispatches" else "STOCK_FILE_UNREADABLE"


def check_case(group: Group, c: dict[str, Any]) -> None:
    assert group.error is None, f"the run failed: {group.error}"
    name = group.dropped[c["file"]]
    first = group.first.get(name)
    assert not isinstance(first, str), f"the task failed on {name!r}: {first}"
    assert name not in group.second_listed, f"{name!r} is still in the inbox after the first run"
    exchange = _exchange(group, name)
    assert exchange is not None, f"{name!r} was never recorded"
    ledger = group.world.ledger
    file_exceptions = {e.code: e for e in ledger.open_exceptions(group.partner.code) if e.exchange_id == exchange.id and e.object_type == "file"}
    outcomes = {o.row_number: o for o in ledger.row_outcomes(exchange.id)}
    expected_file = c.get("file_code")
    shown = exchange.remote_name

    if expected_file == _unreadable_code(group.kind):
        assert str(exchange.state) == "input_error", (exchange.state, exchange.error)
        assert set(file_exceptions) == {expected_file}, {k: v.message for k, v in file_exceptions.items()}
        assert shown in file_exceptions[expected_file].message
        assert (exchange.moved_to or "").startswith(group.partner.spec.sftp.error_folder), exchange.moved_to
        assert not outcomes
        return

    assert str(exchange.state) == "input_processed", (exchange.state, exchange.error)
    assert set(file_exceptions) == ({expected_file} if expected_file else set()), {k: v.message for k, v in file_exceptions.items()}
    if expected_file:
        assert shown in file_exceptions[expected_file].message
    if "rows_total" in c:
        assert exchange.rows_total == c["rows_total"]
    got = {n: o.code for n, o in outcomes.items() if o.outcome == "exception"}
    assert got == c["rows"], {n: (o.code, o.message) for n, o in outcomes.items() if o.outcome == "exception"}
    not_posted = {n: (o.outcome, o.code) for n, o in outcomes.items() if n not in c["rows"] and o.outcome != "posted"}
    assert not not_posted, not_posted
    assert exchange.rows_total == len(outcomes)
    for n in c["rows"]:
        message = outcomes[n].message or ""
        assert f"{shown} row {n}" in message, message
        assert outcomes[n].field or "fields instead of" in message, f"row {n}: no field named ({message})"  # a ragged row names its line
    for n, values in (c.get("stored") or {}).items():
        data = json.loads(outcomes[n].data or "{}")
        assert {k: data.get(k) for k in values} == values, data
    if group.kind == "dispatches":
        _check_odoo_dispatches(group, c, outcomes)
    else:
        _check_snapshot(group, c, exchange, outcomes)


def _check_odoo_dispatches(group: Group, c: dict[str, Any], outcomes: dict[int, Any]) -> None:
    """A posted row's picking is done in Odoo; the orders of the file no posted row names stay open."""
    posted_refs = {json.loads(o.data or "{}").get("order_ref") for o in outcomes.values() if o.outcome == "posted"}
    used = {m.decode() for m in PLACEHOLDER.findall((BAD / c["file"]).read_bytes())}
    for placeholder in used:
        picking = group.orders[placeholder]
        [state] = group.world.x("stock.picking", "read", [picking["id"]], fields=["state"])
        if picking["name"] in posted_refs:
            assert state["state"] == "done", (placeholder, picking["name"], state)
        else:
            assert state["state"] != "done", f"{placeholder} ({picking['name']}) was posted from a bad row"


def _check_snapshot(group: Group, c: dict[str, Any], exchange: Any, outcomes: dict[int, Any]) -> None:
    """Nothing of a snapshot that matches Odoo but for its bad rows is a variance, an adjustment or a write-off."""
    ledger = group.world.ledger
    recon = ledger.reconciliation_for(group.partner.code, exchange.id)
    if c.get("file_code"):
        assert recon is None, "a snapshot without a valid row must not be reconciled"
        return
    assert recon is not None
    wrong = [(l.sku, l.lot, l.classification, str(l.variance_qty), l.approval) for l in ledger.reconciliation_lines(recon)
             if l.classification not in ("match", "rejected", "unknown_sku") or l.variance_qty != 0 or l.approval not in ("none", "")]
    assert not wrong, f"variances or adjustments from a snapshot that matches Odoo but for its bad rows: {wrong}"
    if c.get("report_cells"):
        result = group.first[group.dropped[c["file"]]]
        [report] = [p for p in result.reports if p.endswith(".csv")]
        cells = {cell for row in csv.reader(io.StringIO(Path(report).read_text(encoding="utf-8"))) for cell in row}
        messages = " ".join(o.message or "" for o in outcomes.values())
        for text in c["report_cells"]:
            assert text in messages, f"{text!r} is not kept as it is in the row's message"
            assert text not in cells and any(cell.startswith("'" + text) for cell in cells), f"{text!r} reaches the CSV as a formula"


def _param(c: dict[str, Any]) -> Any:
    marks = [pytest.mark.xfail(reason=c["xfail"], strict=True)] if c.get("xfail") else []
    return pytest.param(c, id=c["file"], marks=marks)


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_bad_file_produces_its_code(groups, case):
    check_case(groups(case["kind"], case["partner"], case["file"] if case.get("own_run") else ""), case)


# ---------------------------------------------------------------------------------------------- per group


@pytest.mark.parametrize(("kind", "partner"), GROUPS)
def test_the_good_file_of_the_same_run_is_processed(groups, kind, partner):
    group = groups(kind, partner)
    assert group.error is None, group.error
    name = GOOD[(kind, partner)][0]
    result = group.first[name]
    assert not isinstance(result, str), result
    assert result.state == "input_processed" and result.exception == 0 and result.posted == result.rows > 0, result
    if kind == "dispatches":
        for placeholder in ("ORDER_GOOD", "LOTS_GOOD"):
            if placeholder in group.orders:
                [picking] = group.world.x("stock.picking", "read", [group.orders[placeholder]["id"]], fields=["state"])
                assert picking["state"] == "done"
    else:
        assert group.world.ledger.reconciliation_lines(result.reconciliation_id) == []  # matches are counted, not kept as lines
        assert set(result.classes) == {"match"} and result.classes["match"] == result.rows, result.classes


@pytest.mark.parametrize(("kind", "partner"), GROUPS)
def test_a_second_run_changes_nothing(groups, kind, partner):
    group = groups(kind, partner)
    assert group.error is None, group.error
    known = {group.dropped[c["file"]] for c in group.cases if c.get("xfail")}  # their own cases xfail for it
    left = {name: result for name, result in group.second.items() if name not in known}
    assert [n for n in group.second_listed if n not in known] == [] and left == {}, left
    if not set(group.second_listed) & known:  # a known defect's file retried every run changes its own records
        assert group.after_second == group.before_second
    if kind == "stock":  # every snapshot matches Odoo but for its bad rows: nothing adjusted, nothing written off
        moves = group.world.x("stock.move", "search_read", [["is_inventory", "=", True], ["reference", "like", "3PL count R"]], fields=["reference"])
        of_known = {f"3PL count R{r.reconciliation_id} " for n, r in group.first.items() if n in known and not isinstance(r, str)}
        assert [m["reference"] for m in moves if not any(m["reference"].startswith(k) for k in of_known)] == []


def test_the_corpus_is_large_and_complete():
    files = {p.relative_to(BAD).as_posix() for p in BAD.glob("*/*/*") if p.is_file()}
    assert files == {c["file"] for c in CASES}, "every corpus file is in the manifest, and every manifest file exists"
    assert len(CASES) >= 60 and {(c["kind"], c["partner"]) for c in CASES} == set(GOOD)
    for c in CASES:
        assert c["attack"] and ("file_code" in c or "rows" in c), c
