"""Month-end valuation check: is the month ready to close on the 3PL's truth?

For a closed month (in the company's calendar) and a partner it compares what the 3PL's files say left or
arrived in that month with what Odoo carries as stock journal entries *dated in that month*, lists the
adjustments posted, everything still unposted and why, and gives a verdict: ready to close, or not, with the
blocking items. Deterministic: the same ledger and Odoo content give byte-identical reports (backfills).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from threepl_bridge.formats.codec import format_decimal
from threepl_bridge.ledger.repo import Ledger
from threepl_bridge.ledger.states import Outcome
from threepl_bridge.odoo.client import OdooClient
from threepl_bridge.odoo.stock_queries import StockQueries
from threepl_bridge.odoo.valuation import valued_moves
from threepl_bridge.specs.models import Partner

log = logging.getLogger(__name__)


@dataclass
class MonthEnd:
    partner: str
    month: str  # YYYY-MM
    currency: str
    figures: list[tuple[str, str, Decimal, Decimal, str]] = field(default_factory=list)  # section, metric, units, value, detail
    unposted: list[tuple[str, str, str]] = field(default_factory=list)  # kind, reference, why
    blocking: list[str] = field(default_factory=list)

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
    for row in sorted(ledger.dispatch_rows(partner.code), key=lambda r: (str(r["file"]), int(r["row"]))):  # type: ignore[arg-type]
        data = row["data"]
        if not data.get("shipped_at") or data.get("quantity") is None:
            continue
        shipped = datetime.fromisoformat(data["shipped_at"])
        if not start <= shipped < end:
            continue
        qty = Decimal(str(data["quantity"])) * factors.get(data.get("uom") or "", Decimal(1))
        units[str(row["outcome"])] += qty
        if row["outcome"] == Outcome.POSTED and str(row.get("odoo_ref") or "").startswith("stock.picking,"):
            pid = int(str(row["odoo_ref"]).split(",")[1])
            by_picking_3pl[pid] += qty
            names.setdefault(pid, str(data.get("order_ref") or pid))
        if row["outcome"] == Outcome.EXCEPTION:
            ref = f"{row['file']} row {row['row']} ({data.get('order_ref')}, {data.get('sku')} x {format_decimal(qty)})"
            report.unposted.append(("dispatch", ref, str(row["code"])))
            report.blocking.append(f"dispatch {ref} not posted: {row['code']}")
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
        report.blocking.append(f"{drafts} stock journal entr{'y' if drafts == 1 else 'ies'} of the month still in draft")
    posted_units = units[Outcome.POSTED]
    if posted_units != buckets["dispatched"][0]:
        report.figures.append(("check", "dispatched_units_difference", posted_units - buckets["dispatched"][0], Decimal(0),
                               "3PL units posted minus Odoo units dispatched in the month; every picking behind it is listed as blocking"))
        _explain_dispatch_difference(report, by_picking_3pl, by_picking_odoo, names, posted_units - buckets["dispatched"][0])

    # --- files not processed, reconciliations waiting for approval
    for exchange in ledger.unsettled_inbound(partner.code):
        report.unposted.append((exchange.kind, exchange.remote_name, f"file {exchange.state}"))
        report.blocking.append(f"{exchange.kind} file {exchange.remote_name} is {exchange.state}, not processed")
    for recon in ledger.reconciliations(partner.code):
        if not start <= recon.as_of < end:
            continue
        pending = [l for l in ledger.reconciliation_lines(recon.id) if l.approval == "pending"]
        for l in pending + [l for l in ledger.reconciliation_lines(recon.id) if l.approval == "rejected"]:
            ref = f"R{recon.id} {l.sku}{' ' + l.lot if l.lot else ''} ({format_decimal(l.variance_qty)} units, {l.variance_value} {report.currency})"
            why = "waits for approval" if l.approval == "pending" else f"rejected by {l.approved_by}: the count is disputed"
            report.unposted.append(("adjustment", ref, why))
            report.blocking.append(f"stock variance {ref} {why}")
    return report


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
        report.blocking.append(why)
    if explained != total:
        report.blocking.append(f"{format_decimal(total - explained)} dispatched units differ between the 3PL's files and Odoo "
                               "without a picking to show for it - engineers: check the ledger's dispatch rows")
