"""month_end_valuation: is each partner's month ready to close on the 3PL's truth? (monthly, one task per partner)

Docs and schedule: threepl_bridge/registry.py (`month_end_valuation`)."""

from airflow.sdk import dag

from threepl_bridge.airflow.attention import needs_a_person
from threepl_bridge.airflow.dags import global_dag_kwargs, partners_for_dags
from threepl_bridge.airflow.month_end import month_end_report


@dag(**global_dag_kwargs("month_end_valuation", tags=["finance", "month_end"]))
def month_end_valuation() -> None:
    needs_a_person(None, "month_end_valuation", reports=month_end_report.expand(code=[p.code for p in partners_for_dags()]))


month_end_valuation()
