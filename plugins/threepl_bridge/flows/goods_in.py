"""Goods coming into the partner's warehouse: what one incoming picking receives (a supplier's receipt or a
customer's return), and posting it in Odoo exactly once (contract F8, F9, F4, F7).

An :class:`Arrival` holds the valid rows of one incoming picking resolved against Odoo: per move, the move lines
to write (quantity in the product's unit, lot by id or by name - a new lot is created at validation, F8 -, and the
destination: the picking's stock location, or the partner's quarantine or scrap location for damaged goods and
returns to quarantine or scrap). Posting it:

1. prepare (re-runnable: it sets, never adds): a move received whole into its own destination without a lot gets
   ``quantity`` and ``picked`` (F8 step 3); any other received move has its lines replaced (unlink, then one
   created per lot and destination, F7 recipe 2); a move nothing was received of gets ``quantity`` 0 (F2b);
2. validate in groups by accounting day with ``force_period_date`` = the receipt moment's day in the company's
   calendar (F4) and the partner's backorder policy (F8 step 4), each picking with a write-ahead posting record
   (``<kind>:{picking}:{exchange}``), a refused group split until the refused picking is isolated;
3. after validation (``<kind>-after:...``): operational dates on the receipt moment, a chatter note.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

from threepl_bridge import codes
from threepl_bridge.codes import Problem
from threepl_bridge.flows.dispatch_posting import backdate, backorder_hashes, validate
from threepl_bridge.flows.shipments import Shipment
from threepl_bridge.formats.reader import ParsedRow
from threepl_bridge.ledger.repo import Ledger
from threepl_bridge.ledger.states import Outcome
from threepl_bridge.odoo.chatter import post_notes
from threepl_bridge.odoo.client import OdooClient
from threepl_bridge.odoo.errors import OdooError
from threepl_bridge.odoo.stock_queries import StockQueries, Unit
from threepl_bridge.specs.models import Partner


@dataclass(frozen=True)
class Put:
    """One move line to write: ``qty`` in the product's unit (``uom_id``), into ``dest``."""

    qty: Decimal
    uom_id: int
    dest: int
    lot_id: int | None = None
    lot_name: str | None = None


@dataclass
class Arrival(Shipment):
    """The valid rows of one incoming picking resolved against Odoo: a shipment into the warehouse, each received
    move with the lines it gets (``puts``: move id -> lines); ``move_qty`` in the move's unit, ``moment`` the latest
    receipt moment of its rows."""

    puts: dict[int, list[Put]] = field(default_factory=dict)


def line_fingerprint(partner: Partner, kind: str, row: ParsedRow, fields: tuple[str, ...]) -> str:
    """The identity of one received line: the same line in any later file has the same fingerprint."""
    v = row.values
    key = [kind, *(v[f].isoformat() if isinstance(v.get(f), datetime) else str(v.get(f) or "") for f in fields)]
    return f"{partner.code}:" + hashlib.sha256(json.dumps(key).encode()).hexdigest()[:40]


def row_json(row: ParsedRow, keep: tuple[str, ...]) -> str:
    """The row's canonical values as JSON (kept with its outcome: reconciliations and month-end read them)."""
    return json.dumps({k: (v.isoformat() if isinstance(v, (datetime, date)) else str(v) if isinstance(v, Decimal) else v)
                       for k, v in row.values.items() if k in keep and v is not None}, sort_keys=True)


def base_qty(qty: Decimal, move: dict[str, Any], product: dict[str, Any], units: Callable[[], dict[int, Unit]]) -> Decimal:
    """A quantity in the move's unit expressed in the product's unit (what move lines count)."""
    if move["product_uom"][0] == product["uom_id"][0]:
        return qty
    u = units()
    return (qty * Decimal(str(u[move["product_uom"][0]].ratio)) / Decimal(str(u[product["uom_id"][0]].ratio))).quantize(Decimal("0.0001"))


def location_named(odoo: StockQueries, name: str | None) -> int | None:
    """The id of the location with that full name (``3PL/Quarantine``), or None."""
    if not name:
        return None
    found = odoo.client.execute("stock.location", "search", [["complete_name", "=", name]], limit=1)
    return found[0] if found else None


# ------------------------------------------------------------------------------------------------- posting


class GoodsIn:
    """The posting of one inbound kind's arrivals: its posting-record prefix, refusal code and note wording."""

    def __init__(self, kind: str, failed: codes.Code, verb: str) -> None:
        self.kind, self.failed, self.verb = kind, failed, verb
        self.prefix, self.after_prefix = f"{kind}:", f"{kind}-after:"

    def key(self, picking_id: int, exchange_id: int) -> str:
        return f"{self.prefix}{picking_id}:{exchange_id}"

    def post(self, partner: Partner, client: OdooClient, ledger: Ledger, arrivals: list[Arrival], exchange_id: int, file_name: str
             ) -> tuple[dict[int, str], list[Problem], list[str]]:
        """Validate the arrivals in Odoo; returns {row: odoo ref} posted, the refusals, and the pickings' names."""
        posted: dict[int, str] = {}
        issues: list[Problem] = []
        if not arrivals:
            return posted, issues, []
        started = ledger.exchange_postings(partner.code, exchange_id, prefix=self.prefix)
        states = {a.picking["id"]: started.get(a.picking["id"]) for a in arrivals}
        pending = [pid for pid, state in states.items() if state == "intent"]
        in_odoo = StockQueries(client, partner).picking_states(pending) if pending else {}
        todo, validated = [], []
        for a in arrivals:
            pid = a.picking["id"]
            if states[pid] == "intent" and in_odoo.get(pid) == "done":  # applied, the reply (or the commit) lost
                ledger.complete_posting(partner.code, self.key(pid, exchange_id), odoo_id=pid)
                states[pid] = "done"
            if states[pid] == "done":
                posted.update({r.number: f"stock.picking,{pid}" for r in a.rows})
                validated.append(a)
            else:
                todo.append(a)
        self._prepare(client, todo)
        by_date: dict[date, list[Arrival]] = defaultdict(list)
        for a in todo:
            by_date[a.accounting_date].append(a)
        size = client.settings.validate_batch
        for _, group in sorted(by_date.items()):
            for start in range(0, len(group), size):
                chunk = group[start : start + size]
                client.execute("stock.picking", "write", [a.picking["id"] for a in chunk], {"batch_id": False})  # auto-batch (F5)
                validate(partner, client, ledger, chunk, chunk[0].accounting_date, exchange_id, posted, issues, key=self.key, failed=self.failed)
        done = validated + [a for a in todo if all(r.number in posted for r in a.rows)]
        self._after(partner, client, ledger, done, file_name, exchange_id, retried={pid for pid, s in states.items() if s is not None})
        return posted, issues, sorted(a.picking["name"] for a in done)

    @staticmethod
    def _prepare(client: OdooClient, arrivals: list[Arrival]) -> None:
        replace: list[int] = []  # moves whose lines are replaced (their lines as they are now: read just before)
        updates: dict[int, dict[str, Any]] = {}
        new_lines: list[dict[str, Any]] = []
        for a in arrivals:
            for move_id, move in a.moves.items():
                if move["state"] in ("done", "cancel"):
                    continue
                puts = a.puts.get(move_id, [])
                if not puts:
                    if Decimal(str(move.get("quantity", 0))) != 0 or move.get("picked"):
                        updates[move_id] = {"quantity": 0}
                    continue
                [first, *more] = puts
                if not more and first.lot_id is None and first.lot_name is None and first.dest == move["location_dest_id"][0]:
                    updates[move_id] = {"quantity": float(a.move_qty[move_id]), "picked": True}
                    continue
                replace.append(move_id)
                new_lines += [{"move_id": move_id, "picking_id": a.picking["id"], "product_id": move["product_id"][0], "product_uom_id": p.uom_id,
                               "location_id": move["location_id"][0], "location_dest_id": p.dest, "quantity": float(p.qty), "picked": True,
                               **({"lot_id": p.lot_id} if p.lot_id else {"lot_name": p.lot_name} if p.lot_name else {})} for p in puts]
        stale = client.execute("stock.move.line", "search", [["move_id", "in", replace]]) if replace else []
        if stale:
            client.execute("stock.move.line", "unlink", stale)
        if updates:
            client.write_many("stock.move", updates)
        if new_lines:
            client.create_many("stock.move.line", new_lines)

    def _after(self, partner: Partner, client: OdooClient, ledger: Ledger, done: list[Arrival], file_name: str, exchange_id: int,
               *, retried: set[int]) -> None:
        """Operational dates on the receipt moment and a chatter note, journalled so a retry completes them once."""
        keys = {a.picking["id"]: f"{self.after_prefix}{a.picking['id']}:{exchange_id}" for a in done}
        started = ledger.exchange_postings(partner.code, exchange_id, prefix=self.after_prefix)
        todo = [a for a in done if started.get(a.picking["id"]) != "done"]
        if not todo:
            return
        ledger.start_postings(partner.code, [(keys[a.picking["id"]], "stock.picking.after_validation", a.picking["id"]) for a in todo],
                              exchange_id=exchange_id)
        if partner.spec.policy.backdate_moves:
            backdate(client, {a.picking["id"]: a.moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S") for a in todo if a.moment})
        # the rest of an announced receipt stays announced: its backorder is released under the original's ASN (the 3PL
        # receives it under the same reference), never announced again
        split = [a.picking["id"] for a in todo if not a.in_full] if partner.spec.policy.backorder != "cancel" else []
        backorders = client.search_read_in("stock.picking", "backorder_id", split, ["name", "backorder_id"]) if split else []
        hashes = backorder_hashes(client, [b["id"] for b in backorders])
        ledger.release_backorders(partner.code, [(b["id"], b["name"], b["backorder_id"][0], hashes[b["id"]]) for b in backorders])
        announced = ledger.released_pickings(partner.code, [a.picking["id"] for a in todo], states=["released"], kind=None)
        ledger.set_released_states(partner.code, list(announced), "done")  # (a receipt need not have had an ASN)
        text = {a.picking["id"]: f"{self.verb} by 3PL {partner.spec.name}: file {file_name}, rows {', '.join(str(r.number) for r in a.rows)}."
                for a in todo}
        try:
            post_notes(client, "stock.picking", {pid: body for pid, body in text.items() if pid in retried or started.get(pid)})
            post_notes(client, "stock.picking", {pid: body for pid, body in text.items() if not (pid in retried or started.get(pid))},
                       look_first=False)
        except OdooError as exc:
            if exc.retryable:
                raise
        ledger.complete_postings(partner.code, [(keys[a.picking["id"]], a.picking["id"]) for a in todo])


def hold_whole(partner: Partner, arrivals: dict[int, Arrival], problems: list[Problem], rows: list[ParsedRow],
               ref_of: Callable[[ParsedRow], str | None], held: codes.Code) -> list[Arrival]:
    """An arrival with a failing row is held whole (its valid rows become ``held``) unless the partner posts the
    valid part."""
    refs = {r.number: ref_of(r) for r in rows}
    failing: dict[str, list[int]] = defaultdict(list)
    for p in problems:
        if p.row is not None and refs.get(p.row):
            failing[refs[p.row]].append(p.row)  # type: ignore[index]
    keep = []
    for a in arrivals.values():
        bad = sorted({n for ref in {ref_of(r) for r in a.rows} for n in failing.get(ref or "", [])})
        if bad and not partner.spec.policy.post_valid_part:
            problems.extend(held(row=r.number, field="", value=ref_of(r), failed=bad) for r in a.rows)
            continue
        keep.append(a)
    return keep


def row_outcomes(work: Any, duplicates: dict[int, str], posted: dict[int, str], fingerprint: Callable[[Partner, ParsedRow], str],
                 row_data: Callable[[ParsedRow], str]) -> list[dict[str, Any]]:
    """The outcomes of the rows that are not exceptions: duplicates (with why) and posted ones (with the picking)."""
    by_number = {r.number: r for r in work.rows}
    out: list[dict[str, Any]] = [{"row_number": n, "outcome": Outcome.DUPLICATE, "record_key": fingerprint(work.partner, by_number[n]),
                                  "message": why, "data": row_data(by_number[n])} for n, why in duplicates.items()]
    return out + [{"row_number": n, "outcome": Outcome.POSTED, "record_key": fingerprint(work.partner, by_number[n]), "odoo_ref": ref,
                   "data": row_data(by_number[n])} for n, ref in posted.items()]


def duplicate_rows(work: Any, rows: list[ParsedRow], fingerprint: Callable[[Partner, ParsedRow], str]) -> dict[int, str]:
    """Rows already posted from another file (row -> why), each row's fingerprint computed once."""
    keys = {r.number: fingerprint(work.partner, r) for r in rows}
    before = work.ledger.posted_fingerprints(list(keys.values()), exclude_exchange=work.exchange.id)
    return {n: f"already posted from {before[k]}" for n, k in keys.items() if k in before}
