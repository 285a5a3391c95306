"""Stock adjustments the 3PL made on its own (damage found, shrinkage, a found pallet, a recount, expiry) -> Odoo
inventory adjustments, through the same reconciliation, approval and exactly-once posting as stock variances.

Each file becomes one reconciliation (``store_reconciliation``, once per file: a retry finds it) whose lines are
the file's signed changes per (SKU, lot), classification ``adjusted``, with the rows and the 3PL's reasons (mapped
by ``policy.adjustment_reasons``) in the explanation. Lines within the partner's ``auto_approve`` tolerance (units
and value at Odoo's unit cost) are posted at once by :func:`threepl_bridge.flows.adjustments.post_adjustments`
(``inventory_quantity_auto_apply`` with ``accounting_date``, contract F6; a write-ahead record per line); larger
ones wait for the same approval as stock variances (``<partner>_stock_from_3pl`` with ``reconciliation_id``). A
stock count taken after an adjustment that Odoo does not carry yet explains it as timing (``not_in_odoo_at``),
never as a second variance.

The reconciliation is dated on the file's latest adjustment moment: its lines are posted with that accounting
date (a 3PL sends its adjustments per event or per day).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from threepl_bridge import codes
from threepl_bridge.flows.adjustments import post_adjustments
from threepl_bridge.flows.exchange import Inbound, InboundKind, Processed
from threepl_bridge.flows.goods_in import row_json
from threepl_bridge.formats.reader import ParsedRow
from threepl_bridge.ledger.states import Outcome
from threepl_bridge.odoo.stock_queries import StockQueries

KIND = "adjustments"
KEEP = ("sku", "barcode", "lot", "quantity", "uom", "reason", "note", "adjusted_at")


def row_data(row: ParsedRow) -> str:
    return row_json(row, KEEP)


def process(work: Inbound) -> Processed:
    partner, ledger, exchange = work.partner, work.ledger, work.exchange
    odoo = StockQueries(work.client, partner)
    recon_id = ledger.reconciliation_for(partner.code, exchange.id)
    if recon_id is None:
        recon_id = _reconcile(work, odoo)
    else:  # a retry: the rows' problems are those of the first attempt, found again the same way
        _check(work, odoo, odoo.storable_by_sku())
    failed = work.failed_rows()
    posted = post_adjustments(partner, work.client, ledger, recon_id) if recon_id else 0
    outcomes = [{"row_number": r.number, "outcome": Outcome.POSTED, "odoo_ref": f"reconciliation,{recon_id}", "data": row_data(r)}
                for r in work.rows if r.number not in failed]
    waiting = sum(1 for line in ledger.reconciliation_lines(recon_id) if line.approval == "pending") if recon_id else 0
    return Processed(outcomes=outcomes, note=f"reconciliation {recon_id}" if recon_id else "nothing to adjust",
                     result={"reconciliation_id": recon_id, "adjusted": posted, "awaiting_approval": waiting})


def _check(work: Inbound, odoo: StockQueries, products: dict[str, dict[str, Any]]) -> list[tuple[ParsedRow, dict[str, Any], Decimal]]:
    """The valid rows with their product and signed quantity in the product's unit; the others' problems on ``work``."""
    partner = work.partner
    reasons = partner.spec.policy.adjustment_reasons
    factors = {u.code: Decimal(u.factor) for u in partner.spec.uom}
    default = partner.default_uom(KIND)
    lock = odoo.lock_dates([odoo.company.id]).get(odoo.company.id)
    out = []
    for r in work.valid_rows():
        v = r.values
        product = products.get(v["sku"])
        if product is None:
            work.problems.append(codes.ADJUSTMENT_UNKNOWN_SKU(row=r.number, field="sku", value=v["sku"]))
        elif v["reason"] not in reasons:
            work.problems.append(codes.ADJUSTMENT_REASON_UNKNOWN(row=r.number, field="reason", value=v["reason"], allowed=sorted(reasons)))
        elif product.get("tracking") in ("lot", "serial") and not v.get("lot"):
            work.problems.append(codes.ADJUSTMENT_LOT_MISSING(row=r.number, field="lot", value=None, sku=v["sku"], tracking=product["tracking"]))
        elif lock and v["adjusted_at"].astimezone(partner.spec.company_tz).date().isoformat() <= lock:
            day = v["adjusted_at"].astimezone(partner.spec.company_tz).date()
            work.problems.append(codes.ADJUSTMENT_LOCKED_PERIOD(row=r.number, field="adjusted_at", value=v["adjusted_at"], day=day, lock=lock))
        else:
            code = v.get("uom") or default
            out.append((r, product, Decimal(v["quantity"]) * factors.get(code or "", Decimal(1))))
    return out


def _reconcile(work: Inbound, odoo: StockQueries) -> int | None:
    partner = work.partner
    valid = _check(work, odoo, odoo.storable_by_sku())
    if not valid:
        return None
    change: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    why: dict[tuple[str, str], list[str]] = defaultdict(list)
    product_of: dict[tuple[str, str], dict[str, Any]] = {}
    reasons = partner.spec.policy.adjustment_reasons
    for r, product, qty in valid:
        key = (r.values["sku"], r.values.get("lot") or "")
        change[key] += qty
        product_of[key] = product
        note = f", {r.values['note']}" if r.values.get("note") else ""
        why[key].append(f"row {r.number}: {qty.normalize():+f} {r.values['reason']} ({reasons[r.values['reason']]}{note}) "
                        f"{r.values['adjusted_at']:%Y-%m-%d %H:%M} UTC")
    costs = odoo.unit_costs(p["id"] for p in product_of.values())
    tolerance = partner.spec.policy.auto_approve
    lines, total = [], Decimal(0)
    for key, qty in sorted(change.items()):
        product = product_of[key]
        cost = costs.get(product["id"]) or Decimal(str(product.get("standard_price") or 0))
        value = (qty * cost).quantize(Decimal("0.01"))
        total += value
        approval = "none" if not qty else ("auto" if abs(qty) <= tolerance.units and abs(value) <= tolerance.value else "pending")
        lines.append(dict(sku=key[0], lot=key[1], product_id=product["id"], threepl_qty=None, odoo_qty=None, timing_qty=Decimal(0), variance_qty=qty,
                          unit_cost=cost, variance_value=value, classification="adjusted", explanation="3PL adjustment: " + "; ".join(why[key]),
                          approval=approval))
    as_of: datetime = max(r.values["adjusted_at"] for r, _, _ in valid)
    dq = [{"expectation": s.expectation, "column": s.column, "code": s.code, "success": s.success, "unexpected": s.unexpected} for s in work.summary]
    return work.ledger.store_reconciliation(partner=partner.code, exchange_id=work.exchange.id, as_of=as_of, currency=odoo.company.currency,
                                            lines=lines, variance_value=total, data_quality=dq, unknown_rows={})


ADJUSTMENTS = InboundKind(
    name=KIND, unreadable=codes.ADJUSTMENT_FILE_UNREADABLE, value_unreadable=codes.ADJUSTMENT_FIELD_INVALID, process=process,
    row_data=row_data, settled=lambda work: {"reconciliation_id": work.ledger.reconciliation_for(work.partner.code, work.exchange.id)},
)
