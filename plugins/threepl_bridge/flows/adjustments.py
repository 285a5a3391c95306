"""Stock adjustments from a reconciliation: the true variances, posted once each, dated on the count's day.

Each adjustment goes through ``stock.quant.inventory_quantity_auto_apply`` with ``accounting_date`` = the count's
date in the company's calendar (contract F6; never by writing ``quantity``), as a write-ahead posting keyed by
reconciliation and (SKU, lot), so re-posting a reconciliation never adjusts twice.

A snapshot counts the 3PL's stock as a whole, and a partner may run several warehouses: a shortfall is taken
from the warehouses that hold the product (in the order the spec names them, none taken below zero while
another still holds some), and a surplus is added where the product already is (else in the first warehouse).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from threepl_bridge import codes
from threepl_bridge.errors import BadRequest
from threepl_bridge.ledger.models import ReconciliationLine
from threepl_bridge.ledger.repo import Ledger
from threepl_bridge.odoo.client import OdooClient
from threepl_bridge.odoo.errors import OdooError
from threepl_bridge.odoo.stock_queries import StockQueries
from threepl_bridge.specs.models import Partner


def post_adjustments(partner: Partner, client: OdooClient, ledger: Ledger, recon_id: int, *, approved_only: bool) -> int:
    """Post the reconciliation's adjustable lines (auto-approved, and approved by an operator); returns how
    many were posted now. Each line is a write-ahead posting keyed by reconciliation and (SKU, lot)."""
    recon = ledger.reconciliation(recon_id)
    wanted = ("approved",) if approved_only else ("auto", "approved")
    lines = [l for l in ledger.reconciliation_lines(recon_id) if l.approval in wanted and l.variance_qty != 0 and l.product_id]
    if not lines:
        ledger.refresh_reconciliation_state(recon_id)
        return 0
    odoo = StockQueries(client, partner)
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
            quant_id = _apply(odoo, line, accounting_date, name)
        except OdooError as exc:
            ledger.fail_posting(partner.code, key, error=str(exc))
            problem = codes.STOCK_ADJUSTMENT_FAILED(field="variance_qty", value=line.variance_qty, odoo_message=exc.odoo_message)
            ledger.raise_exception(partner=partner.code, code=problem.code, object_type="reconciliation_line",
                                   object_ref=f"R{recon_id} {line.sku} {line.lot}".strip(), message=problem.message)
            continue
        ledger.complete_postings(partner.code, [(key, quant_id)])
        ledger.set_line_posted(line.id, key)
        posted += 1
    ledger.refresh_reconciliation_state(recon_id)
    return posted


def _apply(odoo: StockQueries, line: ReconciliationLine, accounting_date: str, name: str) -> int:
    """Set the quants' inventory_quantity_auto_apply = today's quantity + the variance (contract F6 recipe B/C),
    spread over the partner's warehouses as the module says; returns the last quant written."""
    client = odoo.client
    ctx = {"inventory_mode": True, "inventory_name": name}
    lot_id: int | bool = False
    if line.lot:
        lots = client.execute("stock.lot", "search", [["name", "=", line.lot], ["product_id", "=", line.product_id]], limit=1)
        lot_id = lots[0] if lots else client.execute("stock.lot", "create", {"name": line.lot, "product_id": line.product_id})
    quants = odoo.quants(line.product_id, lot_id)
    changes = _spread(line.variance_qty, [(q["id"], Decimal(str(q["quantity"]))) for q in quants])
    written = 0
    for quant_id, target in changes:
        client.execute("stock.quant", "write", [quant_id], {"inventory_quantity_auto_apply": float(target), "accounting_date": accounting_date}, context=ctx)
        written = quant_id
    if written:
        return written
    values: dict[str, Any] = {"product_id": line.product_id, "location_id": odoo.stock_roots[0], "inventory_quantity_auto_apply": float(line.variance_qty),
                              "accounting_date": accounting_date}
    if lot_id:
        values["lot_id"] = lot_id
    return int(client.execute("stock.quant", "create", values, context=ctx))


def _spread(variance: Decimal, quants: list[tuple[int, Decimal]]) -> list[tuple[int, Decimal]]:
    """(quant, new quantity) for each quant to change. A surplus goes to the first quant; a shortfall is taken
    from the quants in order, none below zero while a later one still holds stock (the last takes the rest)."""
    if not quants:
        return []
    if variance >= 0:
        quant_id, qty = quants[0]
        return [(quant_id, qty + variance)]
    need = -variance
    out = []
    holding = [(qid, qty) for qid, qty in quants if qty > 0] or [quants[0]]
    for n, (quant_id, qty) in enumerate(holding):
        take = need if n == len(holding) - 1 else min(need, qty)
        if take:
            out.append((quant_id, qty - take))
            need -= take
        if not need:
            break
    return out


def approve(partner: Partner, client: OdooClient, ledger: Ledger, recon_id: int, keys: list[str] | None, approver: str) -> int:
    """An operator approves pending lines (``SKU`` or ``SKU|LOT``; None = all pending) and they are posted."""
    recon = ledger.reconciliation(recon_id)
    if recon.partner != partner.code:
        raise BadRequest(f"reconciliation {recon_id} belongs to {recon.partner}, not {partner.code}")
    ledger.approve_lines(recon_id, keys, approver)
    return post_adjustments(partner, client, ledger, recon_id, approved_only=True)
