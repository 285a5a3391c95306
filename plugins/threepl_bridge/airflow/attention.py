"""The last task of every DAG: does this run leave something for a person?

It runs whatever happened before (``trigger_rule="all_done"``), lists what needs whom (``flows.attention``), logs it,
mails the new items (one message per run) and **fails without retry when a blocking item remains**, so a run that
needs a person is red in the grid and never looks like one that does not. Being the run's leaf, it also fails
when another task of the run failed (a leaf that succeeds makes the run succeed), after telling what the run left
behind. The run's outcome is also its return value (XCom).
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone

from airflow.sdk import get_current_context, task

from threepl_bridge.airflow.boundary import boundary

log = logging.getLogger(__name__)
MARK = "NEEDS A PERSON"  # the log line the demo and log searches look for


def failed_tasks(context) -> list[str]:  # noqa: ANN001 - Airflow's task context
    """The run's other tasks that failed (or could not run because one failed), as ``task_id[map_index]``."""
    run = context["dag_run"]
    states = context["ti"].get_task_states(dag_id=run.dag_id, run_ids=[run.run_id]).get(run.run_id, {})
    return sorted(key for key, state in states.items() if state in ("failed", "upstream_failed") and not key.startswith("needs_a_person"))


@task(task_id="needs_a_person", trigger_rule="all_done", retries=0)
@boundary
def needs_a_person(code: str | None, flow: str, files: list | None = None, reports: list | None = None) -> dict[str, object]:
    from threepl_bridge.airflow import notify, resources
    from threepl_bridge.errors import NeedsAPerson
    from threepl_bridge.flows.attention import month_not_ready, seen_in_run, summary

    context = get_current_context()
    run = context["dag_run"]
    since = getattr(run, "start_date", None) or datetime.now(timezone.utc)
    results = [r for r in (files or []) if isinstance(r, dict)]
    items = month_not_ready([r for r in (reports or []) if isinstance(r, dict)])
    if code:
        items += seen_in_run(resources.ledger(), code, flow, since, results)
    text = summary(run.dag_id, run.run_id, items)
    for line in text.splitlines():
        log.info("%s", line)
    new = [i for i in items if i.new]
    if new:
        blocking = sum(i.blocking for i in new)
        notify.send(context, f"[threepl] {run.dag_id}: {len(new)} new item(s) need a person" + (f", {blocking} blocking" if blocking else ""),
                    summary(run.dag_id, run.run_id, new))
    failed = failed_tasks(context)
    outcome = {"needs_a_person": any(i.blocking for i in items), "items": [i.as_dict() for i in items], "failed_tasks": failed}
    if failed:  # this task is the run's leaf: it must fail for the run to fail
        raise RuntimeError(f"task(s) {', '.join(failed)} failed; their logs say why" + ("" if not items else f"; also {text.splitlines()[0]}"))
    if outcome["needs_a_person"]:
        log.error("%s: %d blocking item(s); see the lines above, the exceptions view or `python -m threepl_bridge exceptions list`",
                  MARK, sum(i.blocking for i in items))
        raise NeedsAPerson(f"{MARK}: " + text.splitlines()[0])
    return outcome
