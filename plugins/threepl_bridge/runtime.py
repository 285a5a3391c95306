"""Resources a task needs at run time, created inside the task (never at DAG parse time)."""

from __future__ import annotations

import logging
from functools import lru_cache

from threepl_bridge.ledger.engine import ledger_url, safe_url
from threepl_bridge.ledger.repo import Ledger
from threepl_bridge.specs.loader import discover_partners
from threepl_bridge.specs.models import Partner
from threepl_bridge.transport.sftp import SftpTransport

log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def ledger() -> Ledger:
    url = ledger_url()
    log.info("ledger: %s", safe_url(url))
    return Ledger.open(url.render_as_string(hide_password=False))


def partner(code: str) -> Partner:
    return discover_partners().get(code)


def transport(p: Partner) -> SftpTransport:
    return SftpTransport(p.spec.sftp.conn_id)


def odoo(conn_id: str = "odoo_default"):  # type: ignore[no-untyped-def]
    from threepl_bridge.odoo.hook import OdooHook

    return OdooHook(conn_id).get_conn()
