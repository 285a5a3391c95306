"""TaskFlow tasks shared by several DAGs. Each task resolves the partner by code at run time and calls one
function of the package; heavy imports stay inside the task bodies."""

from __future__ import annotations

import logging
from datetime import datetime, timezone

from airflow.sdk import XComArg, get_current_context, task

log = logging.getLogger(__name__)


def intake_tasks(code: str, kind: str) -> XComArg:
    """list complete files -> receive each (mapped, one task per file). Returns the mapped receive results:
    one dict per file with its exchange id and state."""

    @task(task_id="list_files")
    def list_files() -> list[str]:
        from threepl_bridge import runtime
        from threepl_bridge.flows.intake import list_complete_files

        p = runtime.partner(code)
        return list_complete_files(p, kind, runtime.transport(p))

    @task(task_id="receive_file", map_index_template="{{ file_name }}")
    def receive_file(name: str, run_id: str | None = None) -> dict[str, object]:
        from threepl_bridge import runtime
        from threepl_bridge.flows.intake import receive_file as receive

        get_current_context()["file_name"] = name  # type: ignore[typeddict-unknown-key]
        p = runtime.partner(code)
        return receive(p, kind, name, transport=runtime.transport(p), ledger=runtime.ledger(), run_id=run_id).as_dict()

    return receive_file.expand(name=list_files())


def run_moment() -> datetime:
    """The run's own moment (not the wall clock): a retried or cleared run names its files the same way."""
    context = get_current_context()
    when = context.get("data_interval_end") or context["dag_run"].run_after
    return when.astimezone(timezone.utc)


def products_tasks(code: str) -> None:
    """prepare (extract, check, stage) -> deliver -> finalize (watermark)."""

    @task(task_id="prepare_products")
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
    def watch(settled: list[str], run_id: str | None = None) -> dict[str, int]:
        from threepl_bridge import runtime
        from threepl_bridge.flows.orders import watch_released

        p = runtime.partner(code)
        result = watch_released(partner=p, client=runtime.odoo(), ledger=runtime.ledger(), now=run_moment(), run_id=run_id)
        _deliver(code, "cancellations", run_id)
        return result

    @task(task_id="prepare_orders")
    def prepare(watched: dict[str, int], run_id: str | None = None) -> dict[str, object]:
        from threepl_bridge import runtime
        from threepl_bridge.flows.orders import prepare_orders

        p = runtime.partner(code)
        return prepare_orders(partner=p, client=runtime.odoo(), ledger=runtime.ledger(), now=run_moment(), run_id=run_id).as_dict()

    @task(task_id="deliver_files")
    def deliver(prepared: dict[str, object], run_id: str | None = None) -> list[str]:
        return _deliver(code, "orders", run_id)

    @task(task_id="note_in_chatter")
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
    deliveries = deliver_pending(runtime.ledger(), runtime.transport(p), code, kind, run_id=run_id)
    return [f"{d.path} ({d.outcome})" for d in deliveries]


def dispatch_tasks(code: str) -> None:
    """list complete files -> one mapped task per file (receive, validate, post, archive) -> pending at the 3PL."""

    @task(task_id="list_files")
    def list_files() -> list[str]:
        from threepl_bridge import runtime
        from threepl_bridge.flows.intake import list_complete_files

        p = runtime.partner(code)
        return list_complete_files(p, "dispatches", runtime.transport(p))

    @task(task_id="process_file", map_index_template="{{ file_name }}")
    def process_file(name: str, run_id: str | None = None) -> dict[str, object]:
        from threepl_bridge import runtime
        from threepl_bridge.flows.dispatches import process_dispatch_file
        from threepl_bridge.flows.intake import receive_file

        get_current_context()["file_name"] = name  # type: ignore[typeddict-unknown-key]
        p = runtime.partner(code)
        transport, ledger = runtime.transport(p), runtime.ledger()
        received = receive_file(p, "dispatches", name, transport=transport, ledger=ledger, run_id=run_id)
        if received.moved_to:
            return received.as_dict()
        result = process_dispatch_file(partner=p, client=runtime.odoo(), ledger=ledger, transport=transport,
                                       exchange_id=received.exchange_id, now=run_moment(), run_id=run_id)
        return result.as_dict()

    @task(task_id="pending_at_3pl", trigger_rule="all_done")
    def pending(processed: list[dict[str, object]]) -> list[dict[str, object]]:
        from threepl_bridge import runtime
        from threepl_bridge.flows.dispatches import flag_pending

        p = runtime.partner(code)
        found = flag_pending(partner=p, client=runtime.odoo(), ledger=runtime.ledger(), now=run_moment())
        for item in found:
            log.warning("pending at %s: %s released %s (%.0f h)", code, item["picking"], item["released_at"], item["age_hours"])
        return found

    pending(process_file.expand(name=list_files()))
