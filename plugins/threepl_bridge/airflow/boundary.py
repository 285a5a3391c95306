"""The one boundary between a task body and Airflow: what the task cost Odoo, and whether a failure is retried.

Airflow retries a failed task (``retries`` in the DAG defaults) unless it raises ``AirflowFailException``. A
retry helps with what changes by itself: the network, an SFTP server that dropped the connection, Odoo answering
502/503 or timing out, a database lock or serialization failure. It cannot help with a broken partner spec, a
warehouse that does not exist, a connection that disables host-key checks, a refused Odoo call (access rights,
a missing field: the contract), or a bad request (an approval naming no lines): those fail at once, with the
reason, so the operator sees it on the first try rather than after three backoffs.
"""

from __future__ import annotations

import functools
import os
import json
import logging
from collections.abc import Callable
from typing import Any

from threepl_bridge.errors import BadRequest, NeedsAPerson

__all__ = ["BadRequest", "ODOO_POOL", "boundary", "permanent"]

# The Airflow pool of every task that calls Odoo: it bounds concurrent Odoo work across DAGs, partners and mapped
# tasks (a file per task). Created by the demo and the compose init with THREEPL_ODOO_POOL_SLOTS slots (default 4);
# read at parse time from the environment only.
ODOO_POOL = os.environ.get("THREEPL_ODOO_POOL", "odoo_api")

log = logging.getLogger(__name__)


def permanent(exc: BaseException) -> bool:
    """True when retrying the task cannot change the outcome."""
    from threepl_bridge.ledger.states import InvalidTransition
    from threepl_bridge.odoo.errors import OdooError
    from threepl_bridge.odoo.warehouses import PartnerSetupError
    from threepl_bridge.specs.errors import SpecError
    from threepl_bridge.transport.sftp import HostKeyRejected, UnsafeRemoteName

    if isinstance(exc, OdooError):
        return not exc.retryable
    return isinstance(exc, (SpecError, PartnerSetupError, HostKeyRejected, UnsafeRemoteName, InvalidTransition, BadRequest, NeedsAPerson))


# libraries whose INFO lines bury a task's own (alembic its context on every ledger open, paramiko every SSH
# handshake; GX is quieted where it is imported, threepl_bridge.quality): warnings and errors still show
QUIET = {"alembic.runtime.migration": logging.WARNING, "paramiko.transport": logging.WARNING}


def quiet_libraries() -> None:
    for name, level in QUIET.items():
        logging.getLogger(name).setLevel(level)


def boundary(func: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a task body: log ``Odoo calls: N {json}`` (what the task cost Odoo, by method) and turn a permanent
    error into ``AirflowFailException`` (no retry); every other error is re-raised for Airflow to retry."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from threepl_bridge.airflow import resources

        quiet_libraries()
        before = resources.odoo_calls()
        try:
            return func(*args, **kwargs)
        except Exception as exc:
            if permanent(exc):
                from airflow.sdk.exceptions import AirflowFailException

                log.error("failed without retry (%s): %s", type(exc).__name__, exc)
                raise AirflowFailException(f"{type(exc).__name__}: {exc}") from exc
            raise
        finally:
            spent = resources.odoo_calls() - before
            if spent:
                log.info("Odoo calls: %d %s", sum(spent.values()), json.dumps(dict(sorted(spent.items()))))

    return wrapper
