"""3PL stock snapshots reconciled with Odoo at the snapshot's own time, and the true variances adjusted.

For a snapshot taken at T, Odoo's on-hand per product (and lot) in the partner's warehouse is computed *at T* from
done stock move lines (never from today's quant), so a snapshot reconciled a day late gives the same answer.
Each (SKU, lot) is then classified:

- ``match``: the same quantity;
- ``timing``: the difference is explained by dispatches the 3PL made before T that Odoo does not carry at T
  (rows not posted - exceptions or files not processed yet - or posted with a date after T);
- ``variance``: a true difference (lost, damaged, miscounted), valued at Odoo's unit cost (FIFO valuation
  layers; standard price when none remain), in company currency;
- ``unknown_sku``: the 3PL counts a SKU Odoo does not know;
- ``absent``: Odoo holds the product, the snapshot does not list it (``policy.absent_means_zero`` decides
  whether that counts as 0 - a variance - or stays unexplained).

Variances within the partner's auto-approve tolerance (units and value) are adjusted at once through
``stock.quant.inventory_quantity_auto_apply`` with ``accounting_date`` = T's date (contract F6; never by
writing ``quantity``); larger ones wait for an operator's approval. Every adjustment is a write-ahead posting,
so re-posting a reconciliation never adjusts twice.
"""

from __future__ import annotations

import json
import logging
from functools import lru_cache
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from threepl_bridge.formats.reader import UnreadableFile, read_frame, read_rows
from threepl_bridge.ledger.models import ReconciliationLine
from threepl_bridge.formats.codec import format_decimal
from threepl_bridge.ledger.repo import Ledger
from threepl_bridge.ledger.states import Outcome, State
from threepl_bridge.odoo.client import OdooClient
from threepl_bridge.odoo.errors import OdooError
from threepl_bridge.odoo.warehouses import stock_locations, stock_roots
from threepl_bridge.specs.models import Partner
from threepl_bridge.transport.sftp import SftpTransport, TransportError, remote_path

log = logging.getLogger(__name__)
KIND = "stock"
Q = Decimal("0.0001")


@dataclass
class StockResult:
    exchange_id: int
    state: str
    reconciliation_id: int | None = None
    rows: int = 0
    exceptions: int = 0
    classes: dict[str, int] = field(default_factory=dict)
    adjusted: int = 0
    awaiting_approval: int = 0
    reports: list[str] = field(default_factory=list)
    error: str | None = None
    moved_to: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@lru_cache(maxsize=65536)
def _d(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Q)


# ---------------------------------------------------------------------------------------------- entry


def process_stock_file(
    *, partner: Partner, client: OdooClient, ledger: Ledger, transport: SftpTransport, exchange_id: int,
    now: datetime, reports_dir: Any, run_id: str | None = None,
) -> StockResult:
    from threepl_bridge.quality import validate_frame

    exchange = ledger.exchange(exchange_id)
    doc = partner.document(KIND)
    assert doc is not None
    path = remote_path(exchange.remote_folder, exchange.remote_name)
    companions = (doc.complete.marker_suffix,) if doc.complete.rule == "marker" else ()
    result = StockResult(exchange_id=exchange_id, state=exchange.state)
    existing = ledger.reconciliation_for(partner.code, exchange_id)
    if exchange.state in (State.INPUT_PROCESSED, State.INPUT_ERROR, State.INPUT_DUPLICATE):
        if transport.stat(path) is not None:
            target = partner.spec.sftp.error_folder if exchange.state == State.INPUT_ERROR else partner.spec.sftp.archive_folder
            result.moved_to = transport.move_unique(path, target, companions=companions)
        result.reconciliation_id = existing
        return result

    downloaded = transport.read_bytes(path)
    layout = partner.layout_for(KIND)
    try:
        frame, problems = read_frame(layout, downloaded.data, partner.spec.tz)
    except UnreadableFile as exc:
        reason = f"{exchange.remote_name}: {exc}"
        ledger.transition(exchange_id, State.INPUT_ERROR, error=reason, run_id=run_id)
        ledger.raise_exception(partner=partner.code, code="STOCK_FILE_UNREADABLE", object_type="file",
                               object_ref=f"{exchange.remote_name}#{exchange_id}", message=reason, exchange_id=exchange_id)
        result.moved_to = transport.move_unique(path, partner.spec.sftp.error_folder, companions=companions)
        result.state, result.error = State.INPUT_ERROR, reason
        return result
    frame["lot_key"] = frame["lot"].fillna("") if "lot" in frame else ""
    issues: dict[int, tuple[str, str, str]] = {}
    for number, fname, message in problems:
        issues.setdefault(number, ("STOCK_FIELD_INVALID", fname, message))
    found, summary = validate_frame(KIND, frame, parameters={"uom_codes": [u.code for u in partner.spec.uom], "now": now},
                                    parse_failed={(n, f) for n, f, _ in problems})
    for i in found:
        issues.setdefault(i.row, (i.code, i.field, i.message))
    ledger.transition(exchange_id, State.INPUT_VALIDATED, run_id=run_id)
    valid = frame[~frame["row"].isin(list(issues))]

    if existing is None:
        recon_id, unknown_rows = reconcile(partner, client, ledger, transport, exchange_id, valid, summary)
    else:
        recon_id, unknown_rows = existing, ledger.reconciliation_unknown_rows(existing)
    for number, sku in unknown_rows.items():
        issues.setdefault(number, ("STOCK_UNKNOWN_SKU", "sku", f"SKU {sku} is unknown to Odoo"))
    result.reconciliation_id = recon_id
    result.adjusted = post_adjustments(partner, client, ledger, recon_id, approved_only=False)
    outcomes = [{"row_number": n, "outcome": Outcome.EXCEPTION, "code": code, "field": fname, "message": f"{exchange.remote_name} row {n}: {msg}"}
                for n, (code, fname, msg) in issues.items()]
    outcomes += [{"row_number": int(n), "outcome": Outcome.POSTED, "odoo_ref": f"reconciliation,{recon_id}"}
                 for n in frame["row"] if int(n) not in issues]
    ledger.record_rows(exchange_id, outcomes)
    ledger.close_counts(exchange_id, rows_total=len(frame))
    ledger.transition(exchange_id, State.INPUT_PROCESSED, note=f"reconciliation {recon_id}", run_id=run_id)
    result.moved_to = transport.move_unique(path, partner.spec.sftp.archive_folder, companions=companions)
    from threepl_bridge.reports import write_reconciliation_report

    result.reports = [str(p) for p in write_reconciliation_report(ledger, recon_id, reports_dir)]
    lines = ledger.reconciliation_lines(recon_id)
    result.state, result.rows, result.exceptions = State.INPUT_PROCESSED, len(frame), len(issues)
    result.classes = ledger.reconciliation_counts(recon_id)
    result.awaiting_approval = sum(1 for l in lines if l.approval == "pending")
    return result


# ----------------------------------------------------------------------------------------- reconcile


def reconcile(partner: Partner, client: OdooClient, ledger: Ledger, transport: SftpTransport, exchange_id: int, valid: Any,
              summary: list[Any]) -> tuple[int, dict[int, str]]:
    as_of: datetime = valid["as_of"].max().to_pydatetime() if len(valid) else datetime.now(timezone.utc)
    locations = stock_locations(client, partner)
    products = {p["default_code"]: p for p in client.search_read_all("product.product", [["detailed_type", "=", "product"]],
                                                                      ["default_code", "tracking", "standard_price", "uom_id"]) if p.get("default_code")}
    by_id = {p["id"]: p for p in products.values()}
    counted, unknown_rows = count_snapshot(partner, valid, products)
    odoo = _odoo_at(client, locations, as_of, by_id)
    timing, explanations = _timing(partner, client, ledger, transport, as_of, by_id)
    costs = _unit_costs(client, list(by_id))
    currency = _currency(client)
    lines, total, matches = classify(partner, counted, odoo, timing, explanations, costs, products)
    unknown: dict[tuple[str, str], tuple[Decimal, list[int]]] = {}
    for number, (sku, lot, qty) in sorted(unknown_rows.items()):
        total_qty, numbers = unknown.get((sku, lot), (Decimal(0), []))
        unknown[(sku, lot)] = (total_qty + qty, [*numbers, number])
    for (sku, lot), (qty, numbers) in sorted(unknown.items()):
        lines.append(dict(sku=sku, lot=lot, product_id=None, threepl_qty=qty, odoo_qty=None, timing_qty=Decimal(0), variance_qty=Decimal(0),
                          unit_cost=None, variance_value=Decimal(0), classification="unknown_sku",
                          explanation=f"row(s) {', '.join(map(str, numbers))}: not a storable product in Odoo", approval="none"))
    dq = [{"expectation": s.expectation, "column": s.column, "code": s.code, "success": s.success, "unexpected": s.unexpected} for s in summary]
    skus = {n: sku for n, (sku, _, _) in unknown_rows.items()}
    return ledger.store_reconciliation(partner=partner.code, exchange_id=exchange_id, as_of=as_of, currency=currency, lines=lines,
                                       variance_value=total, data_quality=dq, unknown_rows=skus, matches=matches), skus


def count_snapshot(partner: Partner, valid: Any, products: dict[str, dict[str, Any]]
                   ) -> tuple[dict[tuple[str, str], Decimal], dict[int, tuple[str, str, Decimal]]]:
    """The 3PL's count per (SKU, lot) in the product's unit, and the rows (SKU, lot, qty) Odoo does not know."""
    factors = {u.code: Decimal(u.factor) for u in partner.spec.uom}
    counted: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    unknown_rows: dict[int, tuple[str, str, Decimal]] = {}
    default = partner.default_uom(KIND)
    units = valid["uom"] if "uom" in valid else [None] * len(valid)
    for number, sku, lot, qty, uom in zip(valid["row"], valid["sku"], valid["lot_key"], valid["quantity"], units):
        code = uom if isinstance(uom, str) and uom else default
        amount = _d(qty) * factors[code] if code in factors else _d(qty)
        if sku not in products:
            unknown_rows[int(number)] = (sku, lot or "", amount)
            continue
        counted[(sku, lot or "")] += amount
    return counted, unknown_rows


def classify(partner: Partner, counted: dict[tuple[str, str], Decimal], odoo: dict[tuple[str, str], Decimal],
             timing: dict[tuple[str, str], Decimal], explanations: dict[tuple[str, str], str], costs: dict[int, Decimal],
             products: dict[str, dict[str, Any]]) -> tuple[list[dict[str, Any]], Decimal, int]:
    """Classify every (SKU, lot) counted, held in Odoo at T, or explained by timing. Returns the lines that are
    not a plain match (matches are only counted: a snapshot may hold a million of them), the total variance
    value, and the number of matches."""
    tolerance = partner.spec.policy.auto_approve
    keys = sorted(set(counted) | {k for k, v in odoo.items() if v != 0} | {k for k, v in timing.items() if v != 0})
    lines = []
    total = Decimal(0)
    matches = 0
    zero = Decimal(0)
    for key in keys:
        q3 = counted.get(key)
        qo = odoo.get(key, zero)
        t = timing.get(key, zero)
        if q3 is not None and q3 == qo and not t:
            matches += 1
            continue
        sku, lot = key
        product = products[sku]
        absent = q3 is None
        if absent and not partner.spec.policy.absent_means_zero:
            cls, variance = "absent", Decimal(0)
        else:
            diff = (q3 or Decimal(0)) - qo
            variance = diff - t if diff != 0 else Decimal(0)
            cls = "absent" if absent else ("match" if diff == 0 else ("timing" if variance == 0 else "variance"))
        cost = costs.get(product["id"]) or Decimal(str(product.get("standard_price") or 0))
        value = (variance * cost).quantize(Decimal("0.01"))
        total += value
        approval = "none"
        if variance != 0:
            approval = "auto" if abs(variance) <= tolerance.units and abs(value) <= tolerance.value else "pending"
        lines.append(dict(sku=sku, lot=lot, product_id=product["id"], threepl_qty=q3, odoo_qty=qo, timing_qty=t, variance_qty=variance,
                          unit_cost=cost, variance_value=value, classification=cls, explanation=explanations.get((sku, lot)), approval=approval))
    return lines, total, matches


def _odoo_at(client: OdooClient, locations: list[int], as_of: datetime, products: dict[int, dict[str, Any]]) -> dict[tuple[str, str], Decimal]:
    """On-hand per (SKU, lot) in ``locations`` at ``as_of``, from done move lines dated up to then."""
    inside = set(locations)
    stamp = as_of.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    domain = [["state", "=", "done"], ["date", "<=", stamp], "|", ["location_id", "in", locations], ["location_dest_id", "in", locations]]
    totals: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for line in client.search_read_all("stock.move.line", domain, ["product_id", "lot_id", "quantity_product_uom", "location_id", "location_dest_id"]):
        product = products.get(line["product_id"][0])
        if product is None:
            continue
        src_in, dest_in = line["location_id"][0] in inside, line["location_dest_id"][0] in inside
        if src_in == dest_in:
            continue
        key = (product["default_code"], line["lot_id"][1] if line.get("lot_id") else "")
        totals[key] += _d(line["quantity_product_uom"]) * (1 if dest_in else -1)
    return totals


def _timing(partner: Partner, client: OdooClient, ledger: Ledger, transport: SftpTransport, as_of: datetime,
            products: dict[int, dict[str, Any]]) -> tuple[dict[tuple[str, str], Decimal], dict[tuple[str, str], str]]:
    """Goods the 3PL shipped before T that Odoo still holds at T: expected difference (negative) and why."""
    factors = {u.code: Decimal(u.factor) for u in partner.spec.uom}
    known = {p["default_code"] for p in products.values()}
    qty: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    why: dict[tuple[str, str], list[str]] = defaultdict(list)

    def explain(data: dict[str, Any], text: str) -> None:
        if data["sku"] not in known:  # a line for a SKU Odoo does not hold explains no Odoo quantity
            return
        key = (data["sku"], data.get("lot") or "")
        amount = _d(data["quantity"]) * factors.get(data.get("uom") or "", Decimal(1))
        qty[key] -= amount
        why[key].append(f"{format_decimal(amount)} {text}")

    posted_pickings: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in ledger.dispatch_rows(partner.code):
        data = row["data"]
        if not data.get("shipped_at") or not data.get("sku") or data.get("quantity") is None:
            continue
        shipped = datetime.fromisoformat(data["shipped_at"])
        if shipped > as_of:
            continue
        if row["outcome"] == Outcome.EXCEPTION:
            explain(data, f"shipped {shipped:%Y-%m-%d %H:%M} UTC ({row['file']} row {row['row']}), not posted: {row['code']}")
        elif row["outcome"] == Outcome.POSTED and row["odoo_ref"]:
            posted_pickings[int(row["odoo_ref"].split(",")[1])].append(row)
    if posted_pickings:
        stamp = as_of.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        for picking in client.read("stock.picking", sorted(posted_pickings), ["name", "date_done"]):
            if picking.get("date_done") and picking["date_done"] > stamp:
                for row in posted_pickings[picking["id"]]:
                    explain(row["data"], f"shipped before the count, posted in Odoo on {picking['date_done']} ({picking['name']})")
    for name, rows in _unprocessed_dispatches(partner, transport):
        for data in rows:
            if data.get("shipped_at") and datetime.fromisoformat(data["shipped_at"]) <= as_of and data.get("sku"):
                explain(data, f"shipped {data['shipped_at'][:16]} ({name}, not processed yet)")
    return dict(qty), {k: "; ".join(v) for k, v in why.items()}


def _unprocessed_dispatches(partner: Partner, transport: SftpTransport) -> list[tuple[str, list[dict[str, Any]]]]:
    doc = partner.document("dispatches")
    if doc is None:
        return []
    from threepl_bridge.flows.dispatches import row_data

    out = []
    try:
        files = transport.list_complete(doc.folder, doc.file_pattern, doc.complete)
    except TransportError as exc:
        log.warning("timing check without unprocessed dispatch files: %s", exc)
        return []
    for f in files:
        try:
            rows = read_rows(partner.layout_for("dispatches"), transport.read_bytes(f.path).data, partner.spec.tz)
        except UnreadableFile:
            continue
        out.append((f.name, [json.loads(row_data(r)) for r in rows if not r.problems]))
    return out


def _unit_costs(client: OdooClient, product_ids: list[int]) -> dict[int, Decimal]:
    """FIFO: remaining value / remaining quantity of the valuation layers."""
    qty: dict[int, Decimal] = defaultdict(Decimal)
    value: dict[int, Decimal] = defaultdict(Decimal)
    for layer in client.search_read_all("stock.valuation.layer", [["remaining_qty", ">", 0]], ["product_id", "remaining_qty", "remaining_value"]):
        pid = layer["product_id"][0]
        qty[pid] += Decimal(str(layer["remaining_qty"]))
        value[pid] += Decimal(str(layer["remaining_value"]))
    return {pid: (value[pid] / qty[pid]).quantize(Decimal("0.000001")) for pid in qty if qty[pid] > 0}


def _currency(client: OdooClient) -> str:
    [user] = client.execute("res.users", "read", [client.uid], fields=["company_id"])
    [company] = client.execute("res.company", "read", [user["company_id"][0]], fields=["currency_id"])
    return company["currency_id"][1] if company.get("currency_id") else ""


# ------------------------------------------------------------------------------------------ adjustments


def post_adjustments(partner: Partner, client: OdooClient, ledger: Ledger, recon_id: int, *, approved_only: bool) -> int:
    """Post the reconciliation's adjustable lines (auto-approved, and approved by an operator); returns how
    many were posted now. Each line is a write-ahead posting keyed by reconciliation and (SKU, lot)."""
    recon = ledger.reconciliation(recon_id)
    wanted = ("approved",) if approved_only else ("auto", "approved")
    lines = [l for l in ledger.reconciliation_lines(recon_id) if l.approval in wanted and l.variance_qty != 0 and l.product_id]
    if not lines:
        ledger.refresh_reconciliation_state(recon_id)
        return 0
    # a snapshot does not say which of the partner's warehouses holds a count: adjustments go to the first one named
    location = stock_roots(client, partner)[0]
    accounting_date = recon.as_of.astimezone(partner.spec.company_tz).date().isoformat()
    posted = 0
    for line in lines:
        key = f"adjust:{recon_id}:{line.sku}:{line.lot}"
        name = f"3PL count R{recon_id} {line.sku}{' ' + line.lot if line.lot else ''}"
        state = ledger.posting_state(partner.code, key)
        if state == "done":
            continue
        if state == "intent" and client.execute("stock.move", "search", [["reference", "=", name], ["is_inventory", "=", True]], limit=1):
            ledger.complete_posting(partner.code, key)  # applied by an attempt that died before the ledger commit
            ledger.set_line_posted(line.id, key)
            continue
        ledger.start_postings(partner.code, [(key, "stock.quant.inventory_quantity_auto_apply", line.product_id)], exchange_id=recon.exchange_id)
        try:
            quant_id = _apply(client, line, location, accounting_date, name)
        except OdooError as exc:
            ledger.fail_posting(partner.code, key, error=str(exc))
            ledger.raise_exception(partner=partner.code, code="STOCK_ADJUSTMENT_FAILED", object_type="reconciliation_line",
                                   object_ref=f"R{recon_id} {line.sku} {line.lot}".strip(), message=f"Odoo refused the adjustment: {exc.odoo_message}")
            continue
        ledger.complete_postings(partner.code, [(key, quant_id)])
        ledger.set_line_posted(line.id, key)
        posted += 1
    ledger.refresh_reconciliation_state(recon_id)
    return posted


def _apply(client: OdooClient, line: ReconciliationLine, location: int, accounting_date: str, name: str) -> int:
    """stock.quant inventory_quantity_auto_apply = today's quantity + the variance (contract F6 recipe B/C)."""
    ctx = {"inventory_mode": True, "inventory_name": name}
    lot_id: int | bool = False
    if line.lot:
        lots = client.execute("stock.lot", "search", [["name", "=", line.lot], ["product_id", "=", line.product_id]], limit=1)
        lot_id = lots[0] if lots else client.execute("stock.lot", "create", {"name": line.lot, "product_id": line.product_id})
    quants = client.execute("stock.quant", "search_read", [["product_id", "=", line.product_id], ["location_id", "=", location], ["lot_id", "=", lot_id]],
                            fields=["quantity"], limit=1)
    if quants:
        target = Decimal(str(quants[0]["quantity"])) + line.variance_qty
        client.execute("stock.quant", "write", [quants[0]["id"]], {"inventory_quantity_auto_apply": float(target), "accounting_date": accounting_date}, context=ctx)
        return int(quants[0]["id"])
    values: dict[str, Any] = {"product_id": line.product_id, "location_id": location, "inventory_quantity_auto_apply": float(line.variance_qty),
                              "accounting_date": accounting_date}
    if lot_id:
        values["lot_id"] = lot_id
    return int(client.execute("stock.quant", "create", values, context=ctx))


def approve(partner: Partner, client: OdooClient, ledger: Ledger, recon_id: int, keys: list[str] | None, approver: str) -> int:
    """An operator approves pending lines (``SKU`` or ``SKU|LOT``; None = all pending) and they are posted."""
    recon = ledger.reconciliation(recon_id)
    if recon.partner != partner.code:
        raise ValueError(f"reconciliation {recon_id} belongs to {recon.partner}, not {partner.code}")
    ledger.approve_lines(recon_id, keys, approver)
    return post_adjustments(partner, client, ledger, recon_id, approved_only=True)

