"""<partner>_products_to_3pl: the Odoo product master to the 3PL, incrementally.

Docs, default schedule and document kind: threepl_bridge/registry.py (`products_to_3pl`)."""

from airflow.sdk import Param, dag

from threepl_bridge.airflow import attention, products
from threepl_bridge.airflow.dags import partner_dags

for code, kwargs in partner_dags("products_to_3pl"):

    @dag(**kwargs, params={"full_resend": Param(False, type="boolean", description="send every valid product again")})
    def products_to_3pl() -> None:
        prepared = products.prepare(code)
        products.advance_watermark(code, prepared, products.deliver(code, prepared)) >> attention.needs_a_person(code, "products_to_3pl")

    products_to_3pl()
