"""Month-end valuation check: is the month ready to close on the 3PL's truth?

For a closed month (in the company's calendar) and a partner it compares what the 3PL's files say left or
arrived in that month with what Odoo carries as stock journal entries *dated in that month*, lists the
adjustments posted, everything still unposted and why, builds the valuation bridge of the partner's warehouses
and the general-ledger tie-out (:mod:`threepl_bridge.flows.books`), and gives a verdict: ready to close, or not,
with the blocking items, each naming who acts (operations or finance) and what to do. Deterministic: the same
ledger and Odoo content give byte-identical reports (backfills).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from threepl_bridge import codes
from threepl_bridge.flows.books import Bridge, TieOut, compute_books
from threepl_bridge.formats.codec import format_decimal
from threepl_bridge.ledger.repo import Ledger
from threepl_bridge.ledger.states import Outcome
from threepl_bridge.odoo.client import OdooClient
from threepl_bridge.odoo.stock_queries import StockQueries
from threepl_bridge.odoo.valuation import valued_moves
from threepl_bridge.specs.models import Partner

log = logging.getLogger(__name__)


OPERATIONS, FINANCE, ENGINEERS = "operations", "finance", "engineers"


class Blocker(str):
    """One blocking item: its text, and who acts on it (:attr:`who`)."""

    who: str

    def __new__(cls, who: str, text: str) -> "Blocker":
        self = super().__new__(cls, text)
        self.who = who
        return self


@dataclass
class MonthEnd:
    partner: str
    month: str  # YYYY-MM
    currency: str
    figures: list[tuple[str, str, Decimal, Decimal, str]] = field(default_factory=list)  # section, metric, units, value, detail
    unposted: list[tuple[str, str, str]] = field(default_factory=list)  # kind, reference, why
    blocking: list[Blocker] = field(default_factory=list)
    bridge: Bridge = field(default_factory=Bridge)
    tie_out: TieOut = field(default_factory=TieOut)
    trend: list[tuple[str, Decimal, int]] = field(default_factory=list)  # month, variance value, exceptions raised
    files: list[tuple[Any, dict[str, Any] | None]] = field(default_factory=list)  # files with movements of the month, their quality

    @property
    def ready(self) -> bool:
        return not self.blocking

    @property
    def verdict(self) -> str:
        if self.ready:
            return f"READY TO CLOSE {self.month} for {self.partner}: every 3PL movement of the month is posted in Odoo in the month."
        return f"NOT READY to close {self.month} for {self.partner}: {len(self.blocking)} blocking item(s): " + "; ".join(self.blocking)


def month_bounds(month: date) -> tuple[date, date]:
    first = month.replace(day=1)
    last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return first, last


def compute(partner: Partner, client: OdooClient, ledger: Ledger, month: date) -> MonthEnd:
    first, last = month_bounds(month)
    tz = partner.spec.company_tz
    start = datetime.combine(first, time.min, tz)
    end = datetime.combine(last + timedelta(days=1), time.min, tz)
    odoo = StockQueries(client, partner)
    report = MonthEnd(partner=partner.code, month=first.strftime("%Y-%m"), currency=odoo.company.currency)
    factors = {u.code: Decimal(u.factor) for u in partner.spec.uom}

    # --- the 3PL's side: dispatch rows shipped in the month, by outcome
    units: dict[str, Decimal] = defaultdict(Decimal)
    by_picking_3pl: dict[int, Decimal] = defaultdict(Decimal)  # posted units per Odoo picking
    names: dict[int, str] = {}
    files: set[int] = set()  # the files with movements of the month (their data quality is on the report)
    for row in sorted(ledger.dispatch_rows(partner.code), key=lambda r: (str(r["file"]), int(r["row"]))):  # type: ignore[arg-type]
        data = row["data"]
        if not data.get("shipped_at") or data.get("quantity") is None:
            continue
        shipped = datetime.fromisoformat(data["shipped_at"])
        if not start <= shipped < end:
            continue
        qty = Decimal(str(data["quantity"])) * factors.get(data.get("uom") or "", Decimal(1))
        files.add(int(row["exchange_id"]))  # type: ignore[call-overload]
        units[str(row["outcome"])] += qty
        if row["outcome"] == Outcome.POSTED and str(row.get("odoo_ref") or "").startswith("stock.picking,"):
            pid = int(str(row["odoo_ref"]).split(",")[1])
            by_picking_3pl[pid] += qty
            names.setdefault(pid, str(data.get("order_ref") or pid))
        if row["outcome"] == Outcome.EXCEPTION:
            ref = f"{row['file']} row {row['row']} ({data.get('order_ref')}, {data.get('sku')} x {format_decimal(qty)})"
            report.unposted.append(("dispatch", ref, str(row["code"])))
            entry = codes.CODES.get(str(row["code"]))
            report.blocking.append(Blocker(OPERATIONS, f"dispatch {ref} not posted: {entry.title if entry else ''} ({row['code']}) - "
                                                       f"{entry.action if entry else 'fix the cause (exceptions view)'}; then replay the file"))
    for outcome in (Outcome.POSTED, Outcome.DUPLICATE, Outcome.EXCEPTION):
        report.figures.append(("3pl_files", f"dispatched_{outcome}", units[outcome], Decimal(0), "units in dispatch files shipped in the month"))

    # --- Odoo's side: stock moves valued in the month (journal entries dated in it), for the partner's warehouses
    locations = set(odoo.stock_locations)
    buckets: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    by_picking_odoo: dict[int, Decimal] = defaultdict(Decimal)  # units dispatched per picking, valued in the month
    drafts = 0
    for valued in valued_moves(client, first, last):
        move = valued.move
        src_in, dest_in = move["location_id"][0] in locations, move["location_dest_id"][0] in locations
        if src_in == dest_in:
            continue
        kind = "adjustments" if move.get("is_inventory") else ("dispatched" if src_in else "received")
        buckets[kind][0] += valued.quantity
        buckets[kind][1] += -valued.value if src_in else valued.value
        if kind == "dispatched" and move.get("picking_id"):
            by_picking_odoo[move["picking_id"][0]] += valued.quantity
            names[move["picking_id"][0]] = move["picking_id"][1]
        drafts += not valued.posted
    for kind in ("dispatched", "received", "adjustments"):
        qty, value = buckets[kind]
        report.figures.append(("odoo_entries_in_month", kind, qty, value.quantize(Decimal("0.01")), "stock valuation entries dated in the month"))
    if drafts:
        report.blocking.append(Blocker(FINANCE, f"{drafts} stock journal entr{'y' if drafts == 1 else 'ies'} of the month still in draft - "
                                                "post or cancel them in Odoo"))
    posted_units = units[Outcome.POSTED]
    if posted_units != buckets["dispatched"][0]:
        report.figures.append(("check", "dispatched_units_difference", posted_units - buckets["dispatched"][0], Decimal(0),
                               "3PL units posted minus Odoo units dispatched in the month; every picking behind it is listed as blocking"))
        _explain_dispatch_difference(report, by_picking_3pl, by_picking_odoo, names, posted_units - buckets["dispatched"][0])

    # --- files not processed, reconciliations waiting for approval
    for exchange in ledger.unsettled_inbound(partner.code):
        files.add(exchange.id)
        report.unposted.append((exchange.kind, exchange.remote_name, f"file {exchange.state}"))
        report.blocking.append(Blocker(OPERATIONS, f"{exchange.kind} file {exchange.remote_name} is {exchange.state}, not processed - "
                                                   "run its DAG, or replay the file once its cause is fixed"))
    for recon in ledger.reconciliations(partner.code):
        if not start <= recon.as_of < end:
            continue
        files.add(recon.exchange_id)
        lines = ledger.reconciliation_lines(recon.id)
        for l in [l for l in lines if l.approval == "pending"] + [l for l in lines if l.approval == "rejected"]:
            ref = f"R{recon.id} {l.sku}{' ' + l.lot if l.lot else ''} ({format_decimal(l.variance_qty)} units, {l.variance_value:,.2f} {report.currency})"
            why = "waits for approval" if l.approval == "pending" else f"rejected by {l.approved_by}: the count is disputed"
            report.unposted.append(("adjustment", ref, why))
            report.blocking.append(Blocker(FINANCE, f"stock variance {ref} {why} - approve or reject it (stock DAG's ask_finance)")
                                   if l.approval == "pending" else
                                   Blocker(OPERATIONS, f"stock variance {ref} {why} - have the 3PL recount, then approve the new count"))
    _open_exceptions(report, ledger, partner.code, end)
    _books(report, client, odoo.company.id, locations, first, last, tz)
    report.trend = ledger.monthly_trend(partner.code, first)
    report.files = [(ledger.exchange(x), ledger.quality(x)) for x in sorted(files)]
    return report


COVERED = frozenset({"STOCK_VARIANCE_TO_APPROVE", "STOCK_VARIANCE_REJECTED"})  # listed line by line above


def _open_exceptions(report: MonthEnd, ledger: Ledger, partner: str, end: datetime) -> None:
    """Open blocking exceptions of the inbound flows raised before the close (a quarantined file, an adjustment Odoo
    refused): what they hold back may be the month's movements."""
    for e in ledger.open_exceptions(partner):
        entry = codes.CODES.get(e.code)
        if (entry is None or entry.severity != codes.Severity.ERROR or e.code in COVERED or not e.code.startswith(("DISPATCH_", "STOCK_"))
                or e.first_seen_at >= end):
            continue
        report.unposted.append((entry.object_type, e.object_ref, e.code))
        report.blocking.append(Blocker(OPERATIONS if entry.object_type in ("file", "row", "picking") else FINANCE,
                                       f"{entry.title}: {e.message} - {entry.action}"))


def _books(report: MonthEnd, client: OdooClient, company_id: int, locations: set[int], first: date, last: date, tz: Any) -> None:
    """The valuation bridge and the GL tie-out; a tie-out difference blocks the close, for finance, entry by entry."""
    report.bridge, report.tie_out = compute_books(client, company_id, locations, first, last, tz)
    tie = report.tie_out
    if not tie.booked:
        return
    for item in tie.differences:
        action = {"entry_without_layer": "reverse it, or book the matching stock valuation (a revaluation) in Odoo",
                  "layer_without_entry": "post its valuation entry (check the category's accounts) in Odoo",
                  "entry_not_posted": "post or cancel the entry in Odoo"}[item.reason]
        report.blocking.append(Blocker(FINANCE, f"GL tie-out: {item.entry} ({item.date}, {item.amount} {report.currency}): "
                                                f"{item.detail} - {action}"))
    for item in tie.dating:
        if item.reason == "dated_after_close":
            report.blocking.append(Blocker(FINANCE, f"GL tie-out: {item.entry} is dated {item.date}, after the close, though the goods moved "
                                                    "in the month (a lock date?) - accept it in the next month or re-date it"))


def _explain_dispatch_difference(report: MonthEnd, threepl: dict[int, Decimal], odoo: dict[int, Decimal], names: dict[int, str],
                                 total: Decimal) -> None:
    """Every picking where the 3PL's posted units and Odoo's units dispatched in the month differ blocks the
    close, saying why; a difference no picking explains blocks it too."""
    explained = Decimal(0)
    for pid in sorted(set(threepl) | set(odoo), key=lambda p: names.get(p, str(p))):
        ours, theirs = threepl.get(pid, Decimal(0)), odoo.get(pid, Decimal(0))
        if ours == theirs:
            continue
        explained += ours - theirs
        name = names.get(pid, str(pid))
        if not ours:
            why = (f"delivery {name}: {format_decimal(theirs)} units left the 3PL's warehouse in Odoo's books this month, but no "
                   "3PL dispatch file reports them (validated by hand in Odoo?) - operations: confirm with the 3PL, or reverse it")
        elif not theirs:
            why = (f"delivery {name}: {format_decimal(ours)} units shipped this month per the 3PL, but Odoo dates their "
                   "valuation entry in another month - finance: check the entry's date (lock date, late posting)")
        else:
            why = (f"delivery {name}: {format_decimal(ours)} units per the 3PL, {format_decimal(theirs)} in Odoo's entries of the "
                   "month - operations: compare the picking with the 3PL's file")
        report.unposted.append(("dispatch", name, "difference between the 3PL and Odoo"))
        report.blocking.append(Blocker(FINANCE if "finance:" in why else OPERATIONS, why))
    if explained != total:
        report.blocking.append(Blocker(ENGINEERS, f"{format_decimal(total - explained)} dispatched units differ between the 3PL's files "
                                                  "and Odoo without a picking to show for it - engineers: check the ledger's dispatch rows"))
