"""Errors any layer may raise that say "a retry cannot help" (the Airflow boundary fails such a task at once)."""

from __future__ import annotations


class BadRequest(ValueError):
    """What was asked cannot be acted on as given (an operator's run parameters, a reconciliation of another
    partner): fix the request and run again."""


class NeedsAPerson(RuntimeError):
    """A run left blocking items for a person (held records, rows not posted, variances to approve, a month not
    ready): its last task fails without retry, so the run is red until someone acts."""
