"""Notifications through Airflow's notifier interface: one message per run that needs a person, and one per
failed task (after its retries).

Configured in the environment (never in code):

- ``THREEPL_NOTIFY_TO``: comma-separated recipients; unset, nothing is sent (the run still fails and logs);
- ``THREEPL_NOTIFY_FROM``: the sender (else the SMTP connection's ``from_email``);
- ``THREEPL_NOTIFIER``: ``module:callable`` of a factory ``(subject, text, html) -> BaseNotifier``, for any other
  notifier (Slack, Teams, PagerDuty providers...); default: :func:`smtp`, the smtp provider's ``SmtpNotifier`` on
  the connection ``smtp_default`` (``[email] email_conn_id``).

Our text is never rendered as a template (it quotes 3PL files): the notifier's ``notify`` is called directly.
Only light imports at module level: DAG files import this for ``on_failure_callback``.
"""

from __future__ import annotations

import html
import logging
import os
from importlib import import_module
from typing import Any

log = logging.getLogger(__name__)


def smtp(subject: str, text: str, html_body: str) -> Any:
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    to = [a.strip() for a in os.environ.get("THREEPL_NOTIFY_TO", "").split(",") if a.strip()]
    return SmtpNotifier(to=to, from_email=os.environ.get("THREEPL_NOTIFY_FROM") or None, subject=subject, html_content=html_body)


def _factory() -> Any:
    spec = os.environ.get("THREEPL_NOTIFIER", "")
    if not spec:
        return smtp
    module, _, name = spec.partition(":")
    return getattr(import_module(module), name)


def enabled() -> bool:
    return bool(os.environ.get("THREEPL_NOTIFY_TO") or os.environ.get("THREEPL_NOTIFIER"))


def send(context: Any, subject: str, text: str) -> bool:
    """Send one message (plain text, also as escaped HTML); False when notifications are off. A notifier that fails
    is logged, never hides the run's own outcome."""
    if not enabled():
        log.info("notifications are off (set THREEPL_NOTIFY_TO): %s", subject)
        return False
    body = "<pre style=\"font-family: sans-serif; white-space: pre-wrap\">" + html.escape(text) + "</pre>"
    try:
        _factory()(subject, text, body).notify(context)
    except Exception:  # noqa: BLE001 - a mail server down must not turn a posted run into a failed one
        log.exception("could not send the notification %r", subject)
        return False
    log.info("notification sent: %s", subject)
    return True


def on_task_failure(context: Any) -> None:
    """``on_failure_callback`` of every task (after its retries): which task failed, why, where its log is."""
    ti = context.get("ti") or context.get("task_instance")
    task_id = getattr(ti, "task_id", "?")
    if task_id == "needs_a_person":
        return  # it sent its own message
    dag_id = getattr(ti, "dag_id", "?")
    run_id = getattr(ti, "run_id", "?")
    error = context.get("exception")
    send(context, f"[threepl] {dag_id}: task {task_id} failed",
         f"{dag_id} run {run_id}: task {task_id} (map index {getattr(ti, 'map_index', -1)}) failed after its retries.\n"
         f"Error: {type(error).__name__ if error else '?'}: {error}\nOpen the task's log in the Airflow UI for details.")
