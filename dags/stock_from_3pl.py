"""<partner>_stock_from_3pl: the 3PL's stock snapshots, one mapped task per complete file."""

from airflow.sdk import dag

from threepl_bridge.airflow_tasks import intake_tasks
from threepl_bridge.dagkit import dag_kwargs, partners_for_dags

DOC = """Lists the complete stock snapshot files in the partner's stock folder and receives each one (one
mapped task per file): the file is downloaded into memory and becomes an exchange record (name, sha256) in the
ledger. A snapshot whose content was already received is recorded as a duplicate and archived."""


def build(code: str, kwargs: dict) -> None:
    @dag(**kwargs)
    def stock_from_3pl() -> None:
        intake_tasks(code, "stock")

    stock_from_3pl()


for _p in partners_for_dags():
    if _p.document("stock"):
        build(_p.code, dag_kwargs(_p, "stock_from_3pl", DOC))
