"""<partner>_products_to_3pl: the Odoo product master to the 3PL, incrementally."""

from airflow.sdk import Param, dag

from threepl_bridge.airflow_tasks import products_tasks
from threepl_bridge.dagkit import dag_kwargs, partners_for_dags

DOC = """Sends the storable products that changed since the last run (product or template `write_date`, plus any
product held earlier) to the partner's products folder, in the partner's layout. Products failing a pre-flight
check (missing/duplicate SKU, duplicate barcode, wrong GS1 check digit, unmapped unit, characters the file
encoding cannot carry, layout rules) are not sent and appear as open exceptions (`PRODUCT_*`). The watermark only
moves once the file is on the SFTP server. Trigger with `full_resend: true` to send every valid product again."""


def build(code: str, kwargs: dict) -> None:
    @dag(**kwargs, params={"full_resend": Param(False, type="boolean", description="send every valid product again")})
    def products_to_3pl() -> None:
        products_tasks(code)

    products_to_3pl()


for _p in partners_for_dags():
    if _p.document("products"):
        build(_p.code, dag_kwargs(_p, "products_to_3pl", DOC))
