"""Resources a task needs at run time, created inside the task (never at DAG parse time)."""

from __future__ import annotations

import logging
from collections import Counter
from functools import lru_cache

from threepl_bridge.ledger.engine import ledger_url, safe_url
from threepl_bridge.ledger.repo import Ledger
from threepl_bridge.specs.loader import discover_partners
from threepl_bridge.specs.models import Partner
from threepl_bridge.transport.sftp import SftpTransport

log = logging.getLogger(__name__)


def ledger() -> Ledger:
    """The ledger for the current configuration (one engine per URL and process; migrated on first use)."""
    return _ledger(ledger_url().render_as_string(hide_password=False))


@lru_cache(maxsize=8)
def _ledger(url: str) -> Ledger:
    from sqlalchemy.engine import make_url

    log.info("ledger: %s", safe_url(make_url(url)))
    return Ledger.open(url)


def partner(code: str) -> Partner:
    return discover_partners().get(code)


def transport(p: Partner) -> SftpTransport:
    return SftpTransport(p.spec.sftp.conn_id)


_CALLS: Counter[str] = Counter()  # every call made by this process's task clients


def odoo(conn_id: str = "odoo_default"):  # type: ignore[no-untyped-def]
    from threepl_bridge.odoo.hook import OdooHook

    client = OdooHook(conn_id).get_conn()
    client.calls = _CALLS  # one tally for the process, so a task can log what it cost Odoo
    return client


def odoo_calls() -> Counter[str]:
    """Every Odoo call made so far by this process's task clients, by "model.method" (what Odoo received)."""
    return Counter(_CALLS)
