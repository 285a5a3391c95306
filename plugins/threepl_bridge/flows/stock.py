"""3PL stock snapshots reconciled with Odoo at the snapshot's own time, and the true variances adjusted.

For a snapshot taken at T, Odoo's on-hand per product (and lot) in the partner's warehouse is computed *at T* from
done stock move lines (never from today's quant), so a snapshot reconciled a day late gives the same answer.
Each (SKU, lot) is then classified:

- ``match``: the same quantity;
- ``timing``: the difference is explained by dispatches the 3PL made before T that Odoo does not carry at T
  (rows not posted - exceptions or files not processed yet - or posted with a date after T);
- ``variance``: a true difference (lost, damaged, miscounted), valued at Odoo's unit cost (FIFO valuation
  layers; standard price when none remain), in company currency;
- ``unknown_sku``: the 3PL counts a SKU Odoo does not know; ``absent``: Odoo holds the product, the snapshot does not list it (``policy.absent_means_zero`` decides
  whether that counts as 0 - a variance - or stays unexplained; it stays unexplained in a snapshot with a rejected
  row whose SKU cannot be read, as that row may have been the product);
- ``rejected``: a row of the product (SKU and lot; every lot of an untracked product or of a row without a lot)
  was rejected (unreadable, negative, duplicate, future, unknown unit, lot missing...): never absent, never
  adjusted from this snapshot; the explanation names the rows and their codes.

A lot-tracked product counted without a lot, or with a lot Odoo does not know for it, is its row's exception
(``STOCK_LOT_MISSING``, ``STOCK_LOT_UNKNOWN``: a typo would create a phantom lot and write the real one off). A snapshot with no
valid row (header only, every row rejected) is not reconciled at all: a file exception (``STOCK_SNAPSHOT_EMPTY``,
``STOCK_NO_VALID_ROWS``), every row its own exception, nothing adjusted. The count time is always the latest
``as_of`` of the valid rows, never the wall clock. Adjustments of earlier counts that Odoo does not carry at T yet
(posted later, or not posted) are timing, never adjusted a second time.

Variances within the partner's auto-approve tolerance (units and value) are adjusted at once through
``stock.quant.inventory_quantity_auto_apply`` with ``accounting_date`` = T's date (contract F6; never by
writing ``quantity``); larger ones wait for an operator's approval. Every adjustment is a write-ahead posting,
so re-posting a reconciliation never adjusts twice; each run first posts what a transient failure left unposted in
earlier reconciliations (see :mod:`threepl_bridge.flows.adjustments`).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timezone
from decimal import Decimal
from functools import lru_cache
from itertools import compress, repeat
from operator import ne, not_
from typing import Any

from threepl_bridge import codes
from threepl_bridge.flows.adjustments import approve, not_in_odoo_at, post_adjustments, post_outstanding
from threepl_bridge.flows.dispatches import DISPATCHES
from threepl_bridge.flows.exchange import FileResult, Inbound, InboundKind, Processed, process_exchange
from threepl_bridge.flows.inbox import waiting_rows
from threepl_bridge.formats.codec import format_decimal
from threepl_bridge.formats.lookalike import Lookalikes
from threepl_bridge.ledger.repo import Ledger
from threepl_bridge.ledger.states import Outcome
from threepl_bridge.odoo.client import OdooClient
from threepl_bridge.odoo.stock_queries import StockQueries
from threepl_bridge.specs.models import Partner
from threepl_bridge.transport.sftp import SftpTransport

log = logging.getLogger(__name__)
KIND = "stock"
Q = Decimal("0.0001")

__all__ = ["STOCK", "approve", "classify", "count_snapshot", "post_adjustments", "post_outstanding", "process_stock_file", "reconcile"]
Key = tuple[str, str]
TRACKED = ("lot", "serial")


@lru_cache(maxsize=65536)
def _d(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Q)


# ---------------------------------------------------------------------------------------------- the kind


def process(work: Inbound) -> Processed:
    """Post what earlier reconciliations left unposted, then reconcile the snapshot's valid rows (once: a retry
    finds the reconciliation), adjust what is within tolerance, and report; every row not excepted is part of the
    reconciliation. A snapshot without a valid row is not reconciled."""
    partner, ledger, exchange, frame = work.partner, work.ledger, work.exchange, work.frame
    earlier = post_outstanding(partner, work.client, ledger, exclude_exchange=exchange.id)
    existing = ledger.reconciliation_for(partner.code, exchange.id)
    odoo = StockQueries(work.client, partner)
    products = odoo.storable_by_sku() if existing is None else {}
    lot_missing = lot_problems(frame, work.failed_rows(), products, odoo) if existing is None else ledger.reconciliation_lot_missing_rows(existing)
    work.problems += [_lot_problem(work.name, n, *found) for n, found in sorted(lot_missing.items())]
    valid = frame[~frame["row"].isin(list(work.failed_rows()))]
    if existing is None and not len(valid):
        return _not_reconciled(work, earlier)
    if existing is None:
        recon_id, unknown_rows = reconcile(partner, odoo, ledger, work.transport, exchange.id, valid, work.summary,
                                           rejected=rejected_rows(work), products=products, lot_missing=lot_missing)
    else:
        recon_id, unknown_rows = existing, ledger.reconciliation_unknown_rows(existing)
    work.problems += [codes.STOCK_UNKNOWN_SKU(file=work.name, row=number, field="sku", value=sku) for number, sku in unknown_rows.items()]
    adjusted = post_adjustments(partner, work.client, ledger, recon_id)
    failed = work.failed_rows()
    outcomes = ({"row_number": n, "outcome": Outcome.POSTED, "odoo_ref": f"reconciliation,{recon_id}"} for n in frame["row"].tolist() if n not in failed)

    def after_archive() -> dict[str, Any]:
        from threepl_bridge.reports import write_reconciliation_report

        reports = [str(p) for p in write_reconciliation_report(ledger, recon_id, work.options["reports_dir"])]
        lines = ledger.reconciliation_lines(recon_id)
        return {"reports": reports, "classes": ledger.reconciliation_counts(recon_id),
                "awaiting_approval": sum(1 for line in lines if line.approval == "pending")}

    return Processed(outcomes=outcomes, note=f"reconciliation {recon_id}", after_archive=after_archive,
                     result={"reconciliation_id": recon_id, "adjusted": adjusted, "earlier_adjusted": earlier, "exceptions": len(failed)})


def _not_reconciled(work: Inbound, earlier: int) -> Processed:
    """No valid row: nothing to count at any time. A file exception; every row already has its own."""
    rows = len(work.row_numbers())
    problem = (codes.STOCK_SNAPSHOT_EMPTY if rows == 0 else codes.STOCK_NO_VALID_ROWS)(file=work.name, name=work.name, rows=rows)
    work.ledger.raise_exception(partner=work.partner.code, code=problem.code, object_type="file", object_ref=f"{work.name}#{work.exchange.id}",
                                message=problem.message, exchange_id=work.exchange.id)
    log.error("%s", problem.message)
    return Processed(outcomes=[], note=f"not reconciled: {problem.code}",
                     after_archive=lambda: {"reports": [], "classes": {}, "awaiting_approval": 0},
                     result={"reconciliation_id": None, "adjusted": 0, "earlier_adjusted": earlier, "exceptions": len(work.failed_rows())})


def lot_problems(frame: Any, failed: set[int], products: dict[str, dict[str, Any]], odoo: StockQueries) -> dict[int, tuple[str, str, str]]:
    """Row -> (SKU, tracking, lot) of the rows (not already rejected) counting a lot- or serial-tracked product
    without a lot (lot "") or with a lot Odoo does not know for it (a typo would create a phantom lot and write
    the real one off): both keep the product out of this count."""
    tracked = {sku: p for sku, p in products.items() if p.get("tracking") in TRACKED}
    if not tracked or not len(frame):
        return {}
    rows = frame[frame["sku"].isin(list(tracked)) & ~frame["row"].isin(list(failed))]
    named = {lot for lot in rows["lot_key"] if lot}
    known = odoo.lots(named, [p["id"] for p in tracked.values()]) if named else {}
    return {int(n): (sku, tracked[sku]["tracking"], lot or "") for n, sku, lot in zip(rows["row"], rows["sku"], rows["lot_key"])
            if not lot or (tracked[sku]["id"], lot) not in known}


def _lot_problem(name: str, row: int, sku: str, tracking: str, lot: str) -> Any:
    return (codes.STOCK_LOT_UNKNOWN(file=name, row=row, field="lot", value=lot, sku=sku) if lot
            else codes.STOCK_LOT_MISSING(file=name, row=row, field="lot", value=sku, tracking=tracking))


def rejected_rows(work: Inbound) -> list[tuple[int, str, str | None, str]]:
    """(row, code, SKU or None if unreadable, lot) of every rejected row, its first problem's code."""
    first: dict[int, str] = {}
    for p in work.problems:
        if p.row is not None:
            first.setdefault(p.row, str(p.code))
    frame = work.frame
    rows = frame[frame["row"].isin(list(first))]
    return [(int(n), first[int(n)], sku if isinstance(sku, str) and sku else None, lot if isinstance(lot, str) else "")
            for n, sku, lot in zip(rows["row"], rows["sku"], rows["lot_key"])]


def _settled(work: Inbound) -> dict[str, Any]:
    return {"reconciliation_id": work.ledger.reconciliation_for(work.partner.code, work.exchange.id), "exceptions": work.exchange.rows_exception,
            "adjusted": 0, "awaiting_approval": 0, "classes": {}, "reports": []}


STOCK = InboundKind(name=KIND, unreadable=codes.STOCK_FILE_UNREADABLE, value_unreadable=codes.STOCK_FIELD_INVALID, process=process,
                    frame=True, settled=_settled, first_problem_only=True)


def process_stock_file(*, partner: Partner, client: OdooClient, ledger: Ledger, transport: SftpTransport, exchange_id: int,
                       now: datetime, reports_dir: Any, run_id: str | None = None) -> FileResult:
    """The lifecycle for a snapshot already received (see :func:`threepl_bridge.flows.exchange.handle_file`)."""
    return process_exchange(STOCK, partner, exchange_id, transport=transport, ledger=ledger, client=client, now=now, run_id=run_id,
                            options={"reports_dir": reports_dir})


# ----------------------------------------------------------------------------------------- reconcile


def reconcile(partner: Partner, odoo: StockQueries, ledger: Ledger, transport: SftpTransport, exchange_id: int, valid: Any,
              summary: list[Any], *, rejected: list[tuple[int, str, str | None, str]] | None = None, products: dict[str, dict[str, Any]] | None = None,
              lot_missing: dict[int, tuple[str, str, str]] | None = None) -> tuple[int, dict[int, str]]:
    """Reconcile the valid rows (at least one: the count time is theirs, never the wall clock) with Odoo at the
    count time; products of the ``rejected`` rows are kept out of the count and of the adjustments."""
    if not len(valid):
        raise ValueError("a snapshot without a valid row is not reconciled")
    as_of: datetime = valid["as_of"].max().to_pydatetime()
    products = products if products is not None else odoo.storable_by_sku()
    by_id = {p["id"]: p for p in products.values()}
    counted, unknown_rows = count_snapshot(partner, valid, products)
    held = odoo.quantities_at(as_of, by_id)
    timing, explanations = _timing(partner, odoo, ledger, transport, as_of, by_id)
    adjusted, why = not_in_odoo_at(partner, odoo, ledger, as_of, exclude_exchange=exchange_id)
    for key, qty in adjusted.items():
        if key[0] in products:
            timing[key] = timing.get(key, Decimal(0)) + qty
            explanations[key] = "; ".join(filter(None, (explanations.get(key), why[key])))
    costs = odoo.unit_costs(by_id)
    # a counted SKU Odoo does not know may be a lookalike of a product it holds (a Cyrillic letter, a zero-width space)
    keep_out, blind = _kept_out([*(rejected or []), *((n, "STOCK_UNKNOWN_SKU", sku, lot) for n, (sku, lot, _) in unknown_rows.items())], products)
    lines, total, matches = classify(partner, counted, held, timing, explanations, costs, products, rejected=keep_out, blind=blind)
    unknown: dict[tuple[str, str], list[int]] = defaultdict(list)
    for number, (sku, lot, _) in sorted(unknown_rows.items()):
        unknown[(sku, lot)].append(number)
    for (sku, lot), numbers in sorted(unknown.items()):
        qty = sum((unknown_rows[n][2] for n in numbers), Decimal(0))
        lines.append(dict(sku=sku, lot=lot, product_id=None, threepl_qty=qty, odoo_qty=None, timing_qty=Decimal(0), variance_qty=Decimal(0),
                          unit_cost=None, variance_value=Decimal(0), classification="unknown_sku",
                          explanation=f"row(s) {', '.join(map(str, numbers))}: not a storable product in Odoo", approval="none"))
    dq = [{"expectation": s.expectation, "column": s.column, "code": s.code, "success": s.success, "unexpected": s.unexpected} for s in summary]
    skus = {n: sku for n, (sku, _, _) in unknown_rows.items()}
    return ledger.store_reconciliation(partner=partner.code, exchange_id=exchange_id, as_of=as_of, currency=odoo.company.currency, lines=lines,
                                       variance_value=total, data_quality=dq, unknown_rows=skus, matches=matches, lot_missing=lot_missing), skus


def _kept_out(rejected: Any, products: dict[str, dict[str, Any]]) -> tuple[dict[Key | str, str], str]:
    """What the rejected rows keep out of the count: (SKU, lot) keys, whole SKUs (an untracked product, or a row
    without a lot: every lot of it; the products a SKU Odoo does not know looks like), each with the rows that say
    why; and the rows whose SKU cannot be read (those keep absence from meaning zero)."""
    notes: dict[Key | str, list[str]] = defaultdict(list)
    blind: list[str] = []
    twins: Lookalikes | None = None  # built on the first unknown SKU only
    for number, code, sku, lot in sorted(rejected):
        note = f"row {number} ({code})"
        if sku is None:  # unreadable: it may have been any product
            blind.append(note)
        elif sku not in products:  # a SKU Odoo does not know: keeps out the products it looks like (a typo, a homoglyph)
            twins = twins or Lookalikes(products)
            for twin in twins.of(sku):
                notes[twin].append(f"{note} counts {sku!r}, which looks like it")
        else:
            notes[(sku, lot)].append(note)
            if not lot or products[sku].get("tracking") not in TRACKED or code == codes.STOCK_LOT_UNKNOWN:
                notes[sku].append(note)  # the row may have been any lot of it (an unknown lot: a typo of a real one?)
    return {k: ", ".join(v) for k, v in notes.items()}, ", ".join(blind)


def count_snapshot(partner: Partner, valid: Any, products: dict[str, dict[str, Any]]
                   ) -> tuple[dict[tuple[str, str], Decimal], dict[int, tuple[str, str, Decimal]]]:
    """The 3PL's count per (SKU, lot) in the product's unit (each distinct quantity and unit converted once), and
    the rows (SKU, lot, qty) Odoo does not know."""
    import numpy as np
    import pandas as pd

    factors, default = {u.code: Decimal(u.factor) for u in partner.spec.uom}, partner.default_uom(KIND)
    units = valid["uom"] if "uom" in valid else pd.Series([None] * len(valid), dtype=object, index=valid.index)
    (by_qty, qtys), (by_unit, unit_codes) = pd.factorize(valid["quantity"]), pd.factorize(units, use_na_sentinel=False)
    pair, distinct = pd.factorize(by_qty * len(unit_codes) + by_unit)
    amounts = np.empty(len(distinct), dtype=object)
    for i, (qty, uom) in enumerate((qtys[p // len(unit_codes)], unit_codes[p % len(unit_codes)]) for p in distinct.tolist()):
        code = uom if isinstance(uom, str) and uom else default
        amounts[i] = _d(qty) * factors[code] if code in factors else _d(qty)
    amount, skus, known = amounts[pair], valid["sku"].to_numpy(dtype=object), valid["sku"].isin(products.keys()).to_numpy()
    lots = valid["lot_key"].fillna("").to_numpy(dtype=object)
    keys = list(zip(skus[known].tolist(), lots[known].tolist()))
    counted: dict[tuple[str, str], Decimal] = defaultdict(Decimal, zip(keys, amount[known].tolist()))
    if len(counted) < len(keys):  # the same (SKU, lot) on more than one row: summed
        counted = defaultdict(Decimal, pd.Series(amount[known]).groupby(pd.MultiIndex.from_tuples(keys)).sum().to_dict())
    unknown_rows = {int(valid["row"].iat[i]): (skus[i], lots[i], amount[i]) for i in np.flatnonzero(~known).tolist()}
    return counted, unknown_rows


def classify(partner: Partner, counted: dict[tuple[str, str], Decimal], odoo: dict[tuple[str, str], Decimal],
             timing: dict[tuple[str, str], Decimal], explanations: dict[tuple[str, str], str], costs: dict[int, Decimal],
             products: dict[str, dict[str, Any]], *, rejected: dict[Key | str, str] | None = None, blind: str = "",
             ) -> tuple[list[dict[str, Any]], Decimal, int]:
    """Classify every (SKU, lot) counted, held in Odoo at T, explained by timing, or kept out by a rejected row
    (``rejected``: (SKU, lot) or SKU -> the rows; ``blind``: rejected rows whose SKU cannot be read, so absence
    is never zero). Returns the lines that are not a plain match (matches are only counted: a snapshot may hold
    a million of them), the total variance value, and the number of matches."""
    tolerance = partner.spec.policy.auto_approve
    rejected = rejected or {}
    absent_is_zero = partner.spec.policy.absent_means_zero and not blind
    zero = Decimal(0)
    # plain matches are only counted; the passes over a million keys run in C (map, compress: no bytecode per key)
    theirs = list(map(odoo.get, counted, repeat(None)))
    differ = {k for k in compress(counted, map(ne, counted.values(), theirs)) if counted[k] != (odoo.get(k) or zero)}
    differ |= {k for k in counted.keys() & timing.keys() if timing[k]} | {k for k in rejected if isinstance(k, tuple) and k in counted}
    differ |= {k for k in counted if rejected.get(k[0])} if any(isinstance(k, str) for k in rejected) else set()
    unseen = len(odoo) > len(theirs) - theirs.count(None)  # Odoo holds keys not counted (else no pass over Odoo's)
    held = [k for k in compress(odoo, map(not_, map(counted.__contains__, odoo))) if odoo[k] != 0] if unseen else []
    keys = sorted(differ.union(held, (k for k, v in timing.items() if v != 0), (k for k in rejected if isinstance(k, tuple))))
    matches = len(counted) - len(differ)
    lines = []
    total = Decimal(0)
    for key in keys:
        q3 = counted.get(key)
        qo = odoo.get(key, zero)
        t = timing.get(key, zero)
        sku, lot = key
        why_rejected = rejected.get(key) or rejected.get(sku)  # (a plain match is not among the keys)
        product = products[sku]
        absent = q3 is None
        explanation = explanations.get(key)
        if why_rejected:
            cls, variance = "rejected", Decimal(0)
            explanation = "; ".join(filter(None, (f"{why_rejected} rejected: not counted, not adjusted from this snapshot", explanation)))
        elif absent and not absent_is_zero:
            cls, variance = "absent", Decimal(0)
            if blind and partner.spec.policy.absent_means_zero:
                explanation = "; ".join(filter(None, (f"not in the snapshot; {blind} had no readable SKU (it may have been this product): "
                                                      "absence is not counted as zero", explanation)))
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
                          unit_cost=cost, variance_value=value, classification=cls, explanation=explanation, approval=approval))
    return lines, total, matches


def _timing(partner: Partner, odoo: StockQueries, ledger: Ledger, transport: SftpTransport, as_of: datetime,
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
    # only rows that can still explain a difference at T: not posted, or posted lately (see Ledger.timing_rows)
    for row in ledger.timing_rows(partner.code, as_of):
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
        for picking in odoo.client.read("stock.picking", sorted(posted_pickings), ["name", "date_done"]):
            if picking.get("date_done") and picking["date_done"] > stamp:
                for row in posted_pickings[picking["id"]]:
                    explain(row["data"], f"shipped before the count, posted in Odoo on {picking['date_done']} ({picking['name']})")
    for name, rows in waiting_rows(partner, DISPATCHES, transport):
        for data in rows:
            if data.get("shipped_at") and datetime.fromisoformat(data["shipped_at"]) <= as_of and data.get("sku"):
                explain(data, f"shipped {data['shipped_at'][:16]} ({name}, not processed yet)")
    return dict(qty), {k: "; ".join(v) for k, v in why.items()}
