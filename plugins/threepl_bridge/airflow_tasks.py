"""TaskFlow tasks shared by several DAGs. Each task resolves the partner by code at run time and calls one
function of the package; heavy imports stay inside the task bodies."""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from typing import Any

from airflow.sdk import XComArg, get_current_context, task

log = logging.getLogger(__name__)


def run_moment() -> datetime:
    """The run's own moment (not the wall clock): a retried or cleared run names its files the same way."""
    context = get_current_context()
    when = context.get("data_interval_end") or context["dag_run"].run_after
    return when.astimezone(timezone.utc)


def odoo_cost(func: Callable[..., Any]) -> Callable[..., Any]:
    """Log the Odoo calls a task made, by method, as one line (``Odoo calls: N {json}``): what the task cost Odoo."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from threepl_bridge import runtime

        before = runtime.odoo_calls()
        try:
            return func(*args, **kwargs)
        finally:
            spent = runtime.odoo_calls() - before
            if spent:
                log.info("Odoo calls: %d %s", sum(spent.values()), json.dumps(dict(sorted(spent.items()))))

    return wrapper


def processing_moment() -> datetime:
    """When a run really looks at an inbound file: the later of the run's moment and the wall clock. A run whose
    data interval ended before the 3PL's count (a daily interval ends at 06:00, the count says 06:05) must not call
    the count "in the future"."""
    return max(run_moment(), datetime.now(timezone.utc))


def products_tasks(code: str) -> None:
    """prepare (extract, check, stage) -> deliver -> finalize (watermark)."""

    @task(task_id="prepare_products")
    @odoo_cost
    def prepare(run_id: str | None = None, params: dict | None = None) -> dict[str, object]:
        from threepl_bridge import runtime
        from threepl_bridge.flows.products import prepare_products

        p = runtime.partner(code)
        full = bool((params or {}).get("full_resend"))
        return prepare_products(partner=p, client=runtime.odoo(), ledger=runtime.ledger(), now=run_moment(), run_id=run_id, full_resend=full).as_dict()

    @task(task_id="deliver_files")
    def deliver(prepared: dict[str, object], run_id: str | None = None) -> list[str]:
        return _deliver(code, "products", run_id)

    @task(task_id="advance_watermark")
    def finalize(prepared: dict[str, object], delivered: list[str]) -> bool:
        from threepl_bridge import runtime
        from threepl_bridge.flows.products import finalize_products

        return finalize_products(partner=runtime.partner(code), ledger=runtime.ledger(), prepared=prepared)

    prepared = prepare()
    finalize(prepared, deliver(prepared))


def orders_tasks(code: str) -> None:
    """settle interrupted uploads -> watch released pickings -> prepare -> deliver -> chatter notes."""

    @task(task_id="settle_pending")
    def settle(run_id: str | None = None) -> list[str]:
        return _deliver(code, "orders", run_id) + _deliver(code, "cancellations", run_id)

    @task(task_id="watch_released")
    @odoo_cost
    def watch(settled: list[str], run_id: str | None = None) -> dict[str, int]:
        from threepl_bridge import runtime
        from threepl_bridge.flows.orders import watch_released

        p = runtime.partner(code)
        result = watch_released(partner=p, client=runtime.odoo(), ledger=runtime.ledger(), now=run_moment(), run_id=run_id)
        _deliver(code, "cancellations", run_id)
        return result

    @task(task_id="prepare_orders")
    @odoo_cost
    def prepare(watched: dict[str, int], run_id: str | None = None) -> dict[str, object]:
        from threepl_bridge import runtime
        from threepl_bridge.flows.orders import prepare_orders

        p = runtime.partner(code)
        return prepare_orders(partner=p, client=runtime.odoo(), ledger=runtime.ledger(), now=run_moment(), run_id=run_id).as_dict()

    @task(task_id="deliver_files")
    def deliver(prepared: dict[str, object], run_id: str | None = None) -> list[str]:
        return _deliver(code, "orders", run_id)

    @task(task_id="note_in_chatter")
    @odoo_cost
    def notes(prepared: dict[str, object], delivered: list[str]) -> int:
        from threepl_bridge import runtime
        from threepl_bridge.flows.orders import note_released

        p = runtime.partner(code)
        return sum(
            note_released(partner=p, client=runtime.odoo(), ledger=runtime.ledger(), exchange_id=int(eid))
            for eid in prepared.get("exchange_ids") or []  # type: ignore[union-attr]
        )

    prepared = prepare(watch(settle()))
    notes(prepared, deliver(prepared))


def _deliver(code: str, kind: str, run_id: str | None) -> list[str]:
    from threepl_bridge import runtime
    from threepl_bridge.flows.outbound import deliver_pending

    p = runtime.partner(code)
    deliveries = deliver_pending(runtime.ledger(), runtime.transport(p), p, kind, run_id=run_id)
    return [f"{d.path} ({d.outcome})" for d in deliveries]


def inbound_tasks(code: str, kind: str, task_id: str, process: Callable[..., dict[str, object]]) -> XComArg:
    """list complete files -> one mapped task per file: receive it (exchange record, duplicates archived), then
    ``process(partner, transport, ledger, exchange_id, run_id)``. Returns the mapped results."""

    @task(task_id="list_files")
    def list_files() -> list[str]:
        from threepl_bridge import runtime
        from threepl_bridge.flows.intake import list_complete_files

        p = runtime.partner(code)
        return list_complete_files(p, kind, runtime.transport(p))

    @task(task_id=task_id, map_index_template="{{ file_name }}")
    @odoo_cost
    def handle_file(name: str, run_id: str | None = None) -> dict[str, object]:
        from threepl_bridge import runtime
        from threepl_bridge.flows.intake import receive_file

        get_current_context()["file_name"] = name  # type: ignore[typeddict-unknown-key]
        p = runtime.partner(code)
        transport, ledger = runtime.transport(p), runtime.ledger()
        received = receive_file(p, kind, name, transport=transport, ledger=ledger, run_id=run_id)
        if received.moved_to:
            return received.as_dict()
        return process(p, transport, ledger, received.exchange_id, run_id)

    return handle_file.expand(name=list_files())


def _post_dispatches(p: Any, transport: Any, ledger: Any, exchange_id: int, run_id: str | None) -> dict[str, object]:
    from threepl_bridge import runtime
    from threepl_bridge.flows.dispatches import process_dispatch_file

    return process_dispatch_file(partner=p, client=runtime.odoo(), ledger=ledger, transport=transport, exchange_id=exchange_id,
                                 now=run_moment(), run_id=run_id).as_dict()


def _reconcile_stock(p: Any, transport: Any, ledger: Any, exchange_id: int, run_id: str | None) -> dict[str, object]:
    from threepl_bridge import runtime
    from threepl_bridge.flows.stock import process_stock_file
    from threepl_bridge.reports import reports_dir

    result = process_stock_file(partner=p, client=runtime.odoo(), ledger=ledger, transport=transport, exchange_id=exchange_id,
                                now=processing_moment(), reports_dir=reports_dir(), run_id=run_id)
    for path in result.reports:
        log.info("finance report written: %s", path)
    return result.as_dict()


def dispatch_tasks(code: str) -> None:
    """list complete files -> one mapped task per file (receive, validate, post, archive) -> pending at the 3PL."""

    @task(task_id="pending_at_3pl", trigger_rule="all_done")
    @odoo_cost
    def pending(processed: list[dict[str, object]]) -> list[dict[str, object]]:
        from threepl_bridge import runtime
        from threepl_bridge.flows.dispatches import flag_pending

        p = runtime.partner(code)
        found = flag_pending(partner=p, client=runtime.odoo(), ledger=runtime.ledger(), now=run_moment())
        for item in found:
            log.warning("pending at %s: %s released %s (%.0f h)", code, item["picking"], item["released_at"], item["age_hours"])
        return found

    pending(inbound_tasks(code, "dispatches", "process_file", _post_dispatches))


def stock_tasks(code: str) -> None:
    """list complete snapshots -> one mapped task per file (receive, validate, reconcile, adjust, report);
    approvals (run with params) -> post the approved lines; backfill runs rebuild the period's reports."""

    # none_failed: an approval or a report rebuild needs no new file (the mapped task is skipped when it has
    # no input), but never runs after a file failed, so the run still shows that failure
    @task(task_id="approve_variances", trigger_rule="none_failed")
    @odoo_cost
    def approve_variances(params: dict | None = None) -> dict[str, object]:
        """Runs only when triggered with params: {"reconciliation_id": 12, "approve": ["SKU", "SKU|LOT"] or ["all"], "approver": "..."}."""
        from threepl_bridge import runtime
        from threepl_bridge.flows.stock import approve
        from threepl_bridge.reports import reports_dir, write_reconciliation_report

        params = params or {}
        recon_id = params.get("reconciliation_id")
        if not recon_id:
            return {"approved": 0, "note": "no reconciliation_id given: nothing to approve"}
        keys = params.get("approve") or []
        if not keys:
            raise ValueError("give 'approve': a list of SKU or SKU|LOT keys, or [\"all\"]")
        approver = params.get("approver") or get_current_context()["dag_run"].run_id
        ledger = runtime.ledger()
        posted = approve(runtime.partner(code), runtime.odoo(), ledger, int(recon_id), None if keys == ["all"] else list(keys), str(approver))
        paths = write_reconciliation_report(ledger, int(recon_id), reports_dir())
        for path in paths:
            log.info("finance report written: %s", path)
        return {"reconciliation_id": recon_id, "posted": posted, "reports": [str(p) for p in paths]}

    @task(task_id="rebuild_reports", trigger_rule="none_failed")
    def rebuild_reports() -> list[str]:
        """Backfills and reruns: regenerate the reports of the reconciliations counted in this run's interval."""
        from threepl_bridge import runtime
        from threepl_bridge.reports import reports_dir, write_reconciliation_report

        context = get_current_context()
        start, end = context.get("data_interval_start"), context.get("data_interval_end")
        if start is None or end is None or start == end:
            return []
        ledger = runtime.ledger()
        paths = []
        for recon in ledger.reconciliations(code):
            if start <= recon.as_of < end:
                paths += [str(p) for p in write_reconciliation_report(ledger, recon.id, reports_dir())]
        for path in paths:
            log.info("finance report written: %s", path)
        return paths

    files = inbound_tasks(code, "stock", "reconcile_file", _reconcile_stock)
    files >> approve_variances() >> rebuild_reports()


def closed_month(interval_start: datetime | None, run_after: datetime) -> date:
    """The month a month-end run reports: the month its data interval starts in (scheduled, backfilled and
    manual runs alike: a manual run on 2 December gets [1 Nov, 1 Dec)); without an interval, the month before
    the run."""
    if interval_start is not None:
        return interval_start.astimezone(timezone.utc).date().replace(day=1)
    first = run_after.astimezone(timezone.utc).date().replace(day=1)
    return (first - timedelta(days=1)).replace(day=1)


def month_end_task(codes: list[str]) -> None:
    @task(task_id="month_end_report", map_index_template="{{ partner_code }}")
    @odoo_cost
    def month_end_report(code: str) -> dict[str, object]:
        from threepl_bridge import runtime
        from threepl_bridge.flows.month_end import compute
        from threepl_bridge.reports import reports_dir, write_month_end_report

        context = get_current_context()
        context["partner_code"] = code  # type: ignore[typeddict-unknown-key]
        p = runtime.partner(code)
        month = closed_month(context.get("data_interval_start"), context["dag_run"].run_after)
        report = compute(p, runtime.odoo(), runtime.ledger(), month)
        paths = write_month_end_report(report, reports_dir())
        log.info("%s", report.verdict)
        for path in paths:
            log.info("finance report written: %s", path)
        return {"partner": code, "month": report.month, "ready": report.ready, "verdict": report.verdict, "reports": [str(p) for p in paths]}

    month_end_report.expand(code=codes)
