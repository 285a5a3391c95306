"""The one list of flows: name, the document kinds each exchanges, default schedule, and the operator's docs.

The partner specs (which flows a schedule may name), the Airflow adapter (which DAGs to build, their schedules
and docs), the DAG integrity tests and docs/ all read this list. It imports nothing of the package, so any
layer may use it, and DAG files may import it at parse time.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class Flow:
    name: str
    kinds: tuple[str, ...]  # document kinds the flow exchanges; the first one decides whether a partner has the flow
    schedule: str  # default cron expression; a partner's spec may override it (or pause it with null)
    doc: str  # the DAG's doc_md body, for operators
    interval: bool = False  # each run stands for a period (real data intervals, so a backfill rebuilds it)
    per_partner: bool = True  # one DAG per partner (<partner>_<flow>); otherwise one DAG for all partners

    def dag_id(self, partner: str | None = None) -> str:
        return f"{partner}_{self.name}" if self.per_partner else self.name


FLOWS: dict[str, Flow] = {
    f.name: f
    for f in (
        Flow(
            name="products_to_3pl",
            kinds=("products",),
            schedule="15 * * * *",
            doc="""Sends the storable products that changed since the last run (product or template `write_date`, plus any
product held earlier) to the partner's products folder, in the partner's layout. Products failing a pre-flight
check (missing/duplicate SKU, duplicate barcode, wrong GS1 check digit, unmapped unit, characters the file
encoding cannot carry, layout rules) are not sent and appear as open exceptions (`PRODUCT_*`). The watermark only
moves once the file is on the SFTP server, and never past the moment the scan started (a product changed during
the scan goes in the next run). Trigger with `full_resend: true` to send every valid product again.""",
        ),
        Flow(
            name="orders_to_3pl",
            kinds=("orders", "cancellations"),
            schedule="*/30 * * * *",
            doc="""Releases the ready outgoing pickings of the partner's warehouses (state `assigned`, and `confirmed` when the
partner's policy says so) that were not released yet. An order is held, with every reason as an open exception,
when a product has not reached the 3PL, a quantity is not whole in the 3PL's unit (1.5 cases), the ship-to address
is incomplete, or a value breaks the layout. A picking is never released twice: the release is committed in the
ledger before the upload, and an interrupted upload is settled on the next run. Pickings cancelled or changed in
Odoo after release produce a cancellation file (or an exception). Each released picking gets a chatter note.""",
        ),
        Flow(
            name="dispatches_from_3pl",
            kinds=("dispatches",),
            schedule="*/15 * * * *",
            doc="""Picks up the complete dispatch confirmation files in the partner's dispatch folder; **one mapped task per
file** receives it (exchange record: name + sha256; a file already received is a recorded duplicate), parses it
per the partner's layout, validates it with `expectations/dispatches.json` and checks each row against Odoo and
the ledger, then posts the shipped quantities (lots, tracking numbers, backorder policy) and validates the
pickings in batches with the accounting entry dated on the day the goods left (in the company's calendar).
Every row ends posted, duplicate or exception (`DISPATCH_*` codes, see docs/exceptions.md); the file then moves
to archive/ (unreadable files to error/). `pending_at_3pl` lists released orders not dispatched within the
partner's SLA. Re-running a task or clearing the run never posts twice.""",
        ),
        Flow(
            name="receipts_to_3pl",
            kinds=("asn",),
            schedule="*/30 * * * *",
            doc="""Announces the ready incoming pickings of the partner's warehouses to the 3PL as advance shipping notices
(ASNs): purchase receipts, and where the partner's policy says so inter-warehouse transfers (`asn_transfers`)
and customer returns created in Odoo (`asn_returns`, the RMA notice), with supplier, expected date, lines with
SKU, barcode, quantity in the partner's unit and expected lots. A receipt is held, with every reason as an open
exception (`ASN_*`), when a product has no SKU or has not reached the 3PL, lacks the barcode the layout requires,
or its quantity is not whole in a unit the partner has a code for. Never announced twice: the release is committed
in the ledger before the upload. A receipt cancelled or changed in Odoo after its ASN is sent again with
`action` cancel/change where the layout carries that column, else raised as an exception.""",
        ),
        Flow(
            name="receipts_from_3pl",
            kinds=("receipts",),
            schedule="*/30 * * * *",
            doc="""Picks up the complete receipt confirmation files (goods the 3PL received against an incoming picking: a
purchase receipt, an inter-warehouse transfer) in the partner's receipts folder, **one mapped task per file**,
validates each with `expectations/receipts.json` and checks each line against Odoo (the picking named by the ASN
reference is a receipt of the partner's warehouses and still open, the SKU is expected on it, the unit converts,
lots and serials are given - one unit per serial, once per file -, a surplus stays within the partner's
`over_receipt_pct`, damaged goods have the partner's `damaged_location`, the period is open). Posts the received
quantities (new lots created, damaged ones into the quarantine location, short receipts per the backorder policy)
and validates the pickings with the accounting entry dated on the receipt moment. Every row ends posted,
duplicate or exception (`RECEIPT_*`). Re-running a task, clearing the run or replaying a file never posts twice.""",
        ),
        Flow(
            name="returns_from_3pl",
            kinds=("returns",),
            schedule="0 * * * *",
            doc="""Picks up the complete return receipt files (goods customers sent back), one mapped task per file,
validated with `expectations/returns.json`. A line names an announced return picking (`return_ref`) and is posted
into it, or a done delivery (`order_ref`): the return is then created through Odoo's return wizard
(`stock.return.picking`, once, even when retried) and posted. The disposition decides where the goods go:
`restock` to the stock location, `quarantine` to the partner's `damaged_location`, `scrap` to its
`scrap_location`; Odoo values the return at the delivery's cost and the entry is dated on the return moment.
More returned than was delivered (less what came back before) is `RETURN_MORE_THAN_DELIVERED`; nothing of it
posts. Re-running or replaying never posts twice.""",
        ),
        Flow(
            name="adjustments_from_3pl",
            kinds=("adjustments",),
            schedule="0 */4 * * *",
            doc="""Picks up the 3PL's own stock adjustments (damage found, shrinkage, a found pallet, a recount, expiry),
one mapped task per file, validated with `expectations/adjustments.json`. Each file becomes a reconciliation whose
lines are the signed adjustments (classification `adjusted`, the 3PL's reason mapped by `policy.adjustment_reasons`).
Lines within the partner's `auto_approve` tolerance are posted at once as inventory adjustments with the
accounting date of the adjustment moment; larger ones wait for the same approval as stock variances: trigger
`<partner>_stock_from_3pl` with `{"reconciliation_id": .., "approve": [..], "approver": ..}`. A later stock
count explains an adjustment not yet in Odoo as timing, never as a second variance.""",
        ),
        Flow(
            name="stock_from_3pl",
            kinds=("stock",),
            schedule="0 6 * * *",
            interval=True,
            doc="""Reconciles each stock snapshot (one mapped task per file) with Odoo's on-hand **at the snapshot's time**
(from done stock moves, so a late reconciliation gives the same answer): match, timing difference (shipped before
the count but not in Odoo at that time, with the explanation), true variance (valued at Odoo's unit cost), SKU
unknown to Odoo, product absent from the snapshot. Variances within the partner's tolerance are adjusted at once
(inventory adjustment dated on the count's day); larger ones wait for approval. Finance reports (CSV + HTML) are
written to the reports folder; their paths are in the task log.

**Approve** by triggering this DAG with config
`{"reconciliation_id": 12, "approve": ["FURN_8855", "FURN_5555|LOT-A"], "approver": "jane@finance"}` (or
`"approve": ["all"]`). An adjustment is never posted twice. Backfill runs rebuild the reports of the
reconciliations counted in their interval.""",
        ),
        Flow(
            name="month_end_valuation",
            kinds=(),
            schedule="0 0 1 * *",
            interval=True,
            per_partner=False,
            doc="""For the month of the run's data interval (the month just closed) and each partner: the valuation
bridge of the partner's warehouses (opening + receipts + returns - dispatches +/- adjustments = closing, from
Odoo's stock valuation layers, every document in valuation_bridge_<month>.csv), the general-ledger tie-out of the
stock valuation accounts (differences listed by journal entry), units and value dispatched per the 3PL's files
versus Odoo's entries of the month, what is still unposted and why, each file's data quality, twelve-month
trends, and a verdict (ready to close / not ready, each blocking item naming who acts). HTML, CSV and XLSX in the
reports folder (paths in the task log); deterministic, so

    airflow backfill create --dag-id month_end_valuation --from-date 2026-08-01 --to-date 2026-10-31

regenerates August to October with byte-identical CSVs for unchanged inputs.""",
        ),
    )
}

PARTNER_FLOWS: tuple[str, ...] = tuple(name for name, f in FLOWS.items() if f.per_partner)


def of_dag_id(dag_id: str) -> tuple[str | None, Flow] | None:
    """The partner and flow of a DAG id (the inverse of :meth:`Flow.dag_id`; partner codes may hold underscores)."""
    for f in FLOWS.values():
        if not f.per_partner and dag_id == f.name:
            return None, f
        if f.per_partner and dag_id.endswith("_" + f.name) and len(dag_id) > len(f.name) + 1:
            return dag_id[: -len(f.name) - 1], f
    return None


def flow_of_kind(kind: str) -> Flow | None:
    """The flow that exchanges a document kind."""
    return next((f for f in FLOWS.values() if kind in f.kinds), None)


def flow(name: str) -> Flow:
    try:
        return FLOWS[name]
    except KeyError:
        raise KeyError(f"unknown flow {name!r}; known: {sorted(FLOWS)}") from None
