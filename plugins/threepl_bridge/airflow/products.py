"""Tasks of <partner>_products_to_3pl: prepare (extract, check, stage) -> deliver -> advance the watermark."""

from __future__ import annotations

from airflow.sdk import task

from threepl_bridge.airflow.boundary import ODOO_POOL, boundary
from threepl_bridge.airflow.context import run_moment
from threepl_bridge.airflow.outbound import deliver_files


@task(task_id="prepare_products", pool=ODOO_POOL)
@boundary
def prepare(code: str, run_id: str | None = None, params: dict | None = None) -> dict[str, object]:
    from threepl_bridge.airflow import resources
    from threepl_bridge.flows.products import prepare_products

    full = bool((params or {}).get("full_resend"))
    return prepare_products(partner=resources.partner(code), client=resources.odoo(), ledger=resources.ledger(), now=run_moment(),
                            run_id=run_id, full_resend=full).as_dict()


@task(task_id="deliver_files")
@boundary
def deliver(code: str, prepared: dict[str, object], run_id: str | None = None) -> list[str]:
    return deliver_files(code, "products", run_id)


@task(task_id="advance_watermark")
@boundary
def advance_watermark(code: str, prepared: dict[str, object], delivered: list[str]) -> bool:
    from threepl_bridge.airflow import resources
    from threepl_bridge.flows.products import finalize_products

    return finalize_products(partner=resources.partner(code), ledger=resources.ledger(), prepared=prepared)
