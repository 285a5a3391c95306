"""month_end_valuation: is each partner's month ready to close on the 3PL's truth? (monthly, per partner)"""

from airflow.sdk import dag
from airflow.timetables.interval import CronDataIntervalTimetable

from threepl_bridge.airflow_tasks import month_end_task
from threepl_bridge.dagkit import DEFAULT_ARGS, START_DATE, partners_for_dags

DOC = """For the month of the run's data interval (the month just closed) and each partner: units and value
dispatched per the 3PL's files versus stock valuation entries in Odoo dated in that month, receipts likewise,
adjustments posted, what is still unposted and why, and a verdict line (ready to close / not ready, with the
blocking items). CSV + self-contained HTML in the reports folder (paths in the task log); deterministic, so

    airflow backfill create --dag-id month_end_valuation --from-date 2026-08-01 --to-date 2026-10-31

regenerates August to October with byte-identical CSVs for unchanged inputs."""


@dag(
    dag_id="month_end_valuation",
    schedule=CronDataIntervalTimetable("0 0 1 * *", timezone="UTC"),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["threepl", "finance", "month_end"],
    doc_md=DOC,
)
def month_end_valuation() -> None:
    month_end_task([p.code for p in partners_for_dags()])


month_end_valuation()
