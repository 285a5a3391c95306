"""<partner>_orders_to_3pl: releasable outgoing pickings to the 3PL; held orders say why.

Docs, default schedule and document kinds: threepl_bridge/registry.py (`orders_to_3pl`)."""

from airflow.sdk import dag

from threepl_bridge.airflow import attention, orders
from threepl_bridge.airflow.dags import partner_dags

for code, kwargs in partner_dags("orders_to_3pl"):

    @dag(**kwargs)
    def orders_to_3pl() -> None:
        prepared = orders.prepare(code, orders.watch(code, orders.settle(code)))
        orders.notes(code, prepared, orders.deliver(code, prepared)) >> attention.needs_a_person(code, "orders_to_3pl")

    orders_to_3pl()
