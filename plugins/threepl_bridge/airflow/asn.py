"""Tasks of <partner>_receipts_to_3pl: settle interrupted uploads -> watch announced receipts -> prepare ASNs ->
deliver -> chatter notes."""

from __future__ import annotations

from airflow.sdk import task

from threepl_bridge.airflow.boundary import ODOO_POOL, boundary
from threepl_bridge.airflow.context import run_moment
from threepl_bridge.airflow.outbound import deliver_files


@task(task_id="settle_pending")
@boundary
def settle(code: str, run_id: str | None = None) -> list[str]:
    return deliver_files(code, "asn", run_id)


@task(task_id="watch_announced", pool=ODOO_POOL)
@boundary
def watch(code: str, settled: list[str], run_id: str | None = None) -> dict[str, int]:
    from threepl_bridge.airflow import resources
    from threepl_bridge.flows.asn import watch_asns

    result = watch_asns(partner=resources.partner(code), client=resources.odoo(), ledger=resources.ledger(), now=run_moment(), run_id=run_id)
    deliver_files(code, "asn", run_id)
    return result


@task(task_id="prepare_asns", pool=ODOO_POOL)
@boundary
def prepare(code: str, watched: dict[str, int], run_id: str | None = None) -> dict[str, object]:
    from threepl_bridge.airflow import resources
    from threepl_bridge.flows.asn import prepare_asns

    return prepare_asns(partner=resources.partner(code), client=resources.odoo(), ledger=resources.ledger(), now=run_moment(), run_id=run_id)


@task(task_id="deliver_files")
@boundary
def deliver(code: str, prepared: dict[str, object], run_id: str | None = None) -> list[str]:
    return deliver_files(code, "asn", run_id)


@task(task_id="note_in_chatter", pool=ODOO_POOL)
@boundary
def notes(code: str, prepared: dict[str, object], delivered: list[str]) -> int:
    from threepl_bridge.airflow import resources
    from threepl_bridge.flows.orders import note_released

    p, client, ledger = resources.partner(code), resources.odoo(), resources.ledger()
    return sum(note_released(partner=p, client=client, ledger=ledger, exchange_id=int(eid)) for eid in prepared.get("exchange_ids") or [])  # type: ignore[union-attr]
