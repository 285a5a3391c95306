"""<partner>_stock_from_3pl: the 3PL's stock snapshots reconciled with Odoo at the snapshot's time.

Docs, default schedule and document kind: threepl_bridge/registry.py (`stock_from_3pl`)."""

from airflow.sdk import Param, dag

from threepl_bridge.airflow import attention, inbound, stock
from threepl_bridge.airflow.dags import partner_dags

PARAMS = {
    "reconciliation_id": Param(None, type=["null", "integer"], description="reconciliation whose variances to approve"),
    # every param may stay empty (null), so a plain manual trigger works: the UI keeps Trigger disabled while a
    # non-null param is empty
    "approve": Param(None, type=["null", "array"], description='lines to approve: "SKU", "SKU|LOT", or ["all"]'),
    "approver": Param(None, type=["null", "string"], description="who approves (kept with each line)"),
}

for code, kwargs in partner_dags("stock_from_3pl"):

    @dag(**kwargs, params=PARAMS)
    def stock_from_3pl() -> None:
        files = inbound.handle_file.override(task_id="reconcile_file").partial(code=code, kind="stock").expand(
            name=inbound.list_files(code, "stock"))
        approved = stock.approve_variances(code, files=files)
        files >> stock.AskFinance(code=code) >> approved >> stock.rebuild_reports(code) >> attention.needs_a_person(code, "stock_from_3pl", files=files)

    stock_from_3pl()
