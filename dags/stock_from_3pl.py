"""<partner>_stock_from_3pl: the 3PL's stock snapshots reconciled with Odoo at the snapshot's time."""

from airflow.sdk import Param, dag

from threepl_bridge.airflow_tasks import stock_tasks
from threepl_bridge.dagkit import dag_kwargs, partners_for_dags

DOC = """Reconciles each stock snapshot (one mapped task per file) with Odoo's on-hand **at the snapshot's time**
(from done stock moves, so a late reconciliation gives the same answer): match, timing difference (shipped before
the count but not in Odoo at that time, with the explanation), true variance (valued at Odoo's unit cost), SKU
unknown to Odoo, product absent from the snapshot. Variances within the partner's tolerance are adjusted at once
(inventory adjustment dated on the count's day); larger ones wait for approval. Finance reports (CSV + HTML) are
written to the reports folder; their paths are in the task log.

**Approve** by triggering this DAG with config
`{"reconciliation_id": 12, "approve": ["FURN_8855", "FURN_5555|LOT-A"], "approver": "jane@finance"}` (or
`"approve": ["all"]`). An adjustment is never posted twice. Backfill runs rebuild the reports of the
reconciliations counted in their interval."""


def build(code: str, kwargs: dict) -> None:
    @dag(**kwargs, params={
        "reconciliation_id": Param(None, type=["null", "integer"], description="reconciliation whose variances to approve"),
        "approve": Param([], type="array", description='lines to approve: "SKU", "SKU|LOT", or ["all"]'),
        "approver": Param("", type="string", description="who approves (kept with each line)"),
    })
    def stock_from_3pl() -> None:
        stock_tasks(code)

    stock_from_3pl()


for _p in partners_for_dags():
    if _p.document("stock"):
        build(_p.code, dag_kwargs(_p, "stock_from_3pl", DOC))
