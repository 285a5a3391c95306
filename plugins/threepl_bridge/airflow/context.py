"""What a task reads from its run: the run's own moment, the month a month-end run reports, map labels."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from airflow.sdk import get_current_context


def run_moment() -> datetime:
    """The run's own moment (not the wall clock): a retried or cleared run names its files the same way."""
    context = get_current_context()
    when = context.get("data_interval_end") or context["dag_run"].run_after
    return when.astimezone(timezone.utc)


def processing_moment() -> datetime:
    """When a run really looks at an inbound file: the later of the run's moment and the wall clock. A run whose
    data interval ended before the 3PL's count (a daily interval ends at 06:00, the count says 06:05) must not call
    the count "in the future"."""
    return max(run_moment(), datetime.now(timezone.utc))


def reads_inbox(run_type: str | None, start: datetime | None, end: datetime | None, now: datetime) -> bool:
    """May this run take files from the partner's live inbox? Not a backfill, and not a past run of an interval
    DAG (stock) cleared or re-run later: one whose data interval ended more than one interval length (at least an
    hour) before now. Such runs rebuild their interval's reports from the ledger instead; the files waiting now
    belong to the current run. A run without an interval (dispatches) is always the current one: clearing a failed
    run later takes the file it failed on."""
    if str(run_type or "") == "backfill":
        return False
    if start is None or end is None or start == end:
        return True
    return now - end <= max(end - start, timedelta(hours=1))


def takes_inbox() -> bool:
    """:func:`reads_inbox` for the current task's run."""
    context = get_current_context()
    run = context["dag_run"]
    return reads_inbox(getattr(run, "run_type", None), context.get("data_interval_start"), context.get("data_interval_end"),
                       datetime.now(timezone.utc))


def label(key: str, value: str) -> None:
    """Name a mapped task instance in the UI (``map_index_template="{{ <key> }}"``)."""
    get_current_context()[key] = value  # type: ignore[literal-required]


def closed_month(interval_start: datetime | None, run_after: datetime) -> date:
    """The month a month-end run reports: the month its data interval starts in (scheduled, backfilled and
    manual runs alike: a manual run on 2 December gets [1 Nov, 1 Dec)); without an interval, the month before
    the run."""
    if interval_start is not None:
        return interval_start.astimezone(timezone.utc).date().replace(day=1)
    first = run_after.astimezone(timezone.utc).date().replace(day=1)
    return (first - timedelta(days=1)).replace(day=1)
