"""<partner>_orders_to_3pl: releasable outgoing pickings to the 3PL; held orders say why."""

from airflow.sdk import dag

from threepl_bridge.airflow_tasks import orders_tasks
from threepl_bridge.dagkit import dag_kwargs, partners_for_dags

DOC = """Releases the ready outgoing pickings of the partner's warehouses (state `assigned`, and `confirmed` when the
partner's policy says so) that were not released yet. An order is held, with every reason as an open exception,
when a product has not reached the 3PL, a quantity is not whole in the 3PL's unit (1.5 cases), the ship-to address
is incomplete, or a value breaks the layout. A picking is never released twice: the release is committed in the
ledger before the upload, and an interrupted upload is settled on the next run. Pickings cancelled or changed in
Odoo after release produce a cancellation file (or an exception). Each released picking gets a chatter note."""


def build(code: str, kwargs: dict) -> None:
    @dag(**kwargs)
    def orders_to_3pl() -> None:
        orders_tasks(code)

    orders_to_3pl()


for _p in partners_for_dags():
    if _p.document("orders"):
        build(_p.code, dag_kwargs(_p, "orders_to_3pl", DOC))
