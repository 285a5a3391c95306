"""Airflow hook for Odoo's external API.

Connection ``odoo_default`` (conn_type ``odoo``): host (a URL or a host name), port, schema (``http``/``https``),
login, password (an API key or the password; JSON-2 takes only an API key), extras ``database`` (required; JSON-2
sends it as ``X-Odoo-Database``, for servers hosting several), ``protocol`` (``auto`` default: JSON-2 for Odoo 19
and later, XML-RPC before; or ``xmlrpc``, ``jsonrpc``, ``json2``), ``timeout``, ``max_retries``, ``page_size``, ``id_batch``, ``write_batch``, ``create_batch``,
``validate_batch``, ``distinct_writes``, ``verify_tls`` (see :class:`~threepl_bridge.odoo.client.OdooSettings`).
"""

from __future__ import annotations

import logging
from typing import Any

from airflow.sdk.bases.hook import BaseHook

from threepl_bridge.odoo.client import OdooClient, OdooSettings
from threepl_bridge.odoo.dialect import SUPPORTED
from threepl_bridge.odoo.errors import OdooError

log = logging.getLogger(__name__)
_INT_EXTRAS = ("max_retries", "page_size", "id_batch", "write_batch", "create_batch", "validate_batch", "distinct_writes")


def settings_from_connection(conn: Any) -> OdooSettings:
    # the form's extra fields may come prefixed (``extra__odoo__database``, older forms): the same keys
    extra = {k.removeprefix("extra__odoo__"): v for k, v in (conn.extra_dejson or {}).items() if v not in (None, "")}
    host = (conn.host or "").strip()
    if not host:
        raise ValueError(f"connection {conn.conn_id!r}: host is empty (e.g. mycompany.odoo.com)")
    if "://" in host:
        url = host.rstrip("/")
    else:
        scheme = (conn.schema or "https").strip() or "https"
        if scheme not in ("http", "https"):
            raise ValueError(f"connection {conn.conn_id!r}: schema must be http or https, not {scheme!r}")
        url = f"{scheme}://{host}" + (f":{conn.port}" if conn.port else "")
    database = extra.get("database") or extra.get("db")
    if not database:
        raise ValueError(f"connection {conn.conn_id!r}: set extra 'database' to the Odoo database name")
    kwargs: dict[str, Any] = {k: int(extra[k]) for k in _INT_EXTRAS if k in extra}
    if "timeout" in extra:
        kwargs["timeout"] = float(extra["timeout"])
    if "verify_tls" in extra:
        kwargs["verify_tls"] = str(extra["verify_tls"]).lower() not in ("false", "0", "no")
    return OdooSettings(
        url=url, database=str(database), login=conn.login or "", password=conn.password or "",
        protocol=str(extra.get("protocol", "auto")).lower(), **kwargs,
    )


class OdooHook(BaseHook):
    """Interact with Odoo through its external API; ``get_conn()`` returns an :class:`OdooClient`."""

    conn_name_attr = "odoo_conn_id"
    default_conn_name = "odoo_default"
    conn_type = "odoo"
    hook_name = "Odoo"

    def __init__(self, odoo_conn_id: str = default_conn_name) -> None:
        super().__init__()
        self.odoo_conn_id = odoo_conn_id
        self._client: OdooClient | None = None

    # the connection form's labels and extra fields: threepl_bridge/airflow/provider.py (declared, as Airflow 3.2+ wants)

    def get_conn(self) -> OdooClient:
        if self._client is None:
            self._client = OdooClient(settings_from_connection(self.get_connection(self.odoo_conn_id)))
        return self._client

    def test_connection(self) -> tuple[bool, str]:
        try:
            client = self.get_conn()
        except ValueError as exc:
            return False, str(exc)
        return check_connection(client)


REQUIRED_READS = (
    ("stock.warehouse", "read warehouses"),
    ("stock.picking", "read transfers (Inventory)"),
    ("stock.quant", "read stock (Inventory)"),
    ("sale.order", "read sales orders (Sales)"),
    ("purchase.order", "read purchase orders (Purchase)"),
)


def check_connection(client: OdooClient) -> tuple[bool, str]:
    """Login, server version, rights and email of the API user, with a message an operator can act on."""
    problems: list[str] = []
    try:
        version = client.version()
        uid = client.uid
    except OdooError as exc:
        return False, f"cannot log in: {exc}"
    server = str(version.get("server_version", "?"))
    major = (version.get("server_version_info") or [0])[0]
    if not isinstance(major, int) or major < 17:
        problems.append(f"Odoo {server} is not supported (17 or later is)")
    elif major > SUPPORTED[-1]:
        log.warning("Odoo %s is newer than the versions this release was tested on (%s); it is spoken to as %s", server,
                    ", ".join(map(str, SUPPORTED)), SUPPORTED[-1])
    try:
        [user] = client.execute("res.users", "read", [uid], fields=["login", "email", "company_id"])
    except (OdooError, ValueError) as exc:
        return False, f"logged in as uid {uid} but cannot read the user: {exc}"
    if not user.get("email"):
        problems.append(
            f"the API user {user['login']!r} has no email: Odoo refuses backorders, returns and chatter notes "
            "('Unable to send message, please configure the sender's email address.'); set one on the user"
        )
    for model, what in REQUIRED_READS:
        try:
            client.execute(model, "search_count", [])
        except OdooError as exc:
            problems.append(f"cannot {what}: {exc.odoo_message.splitlines()[0]}")
    try:
        entries = client.execute("account.move", "search_read", [["move_type", "=", "entry"]], fields=["id"], limit=1)
    except OdooError as exc:
        entries = None
        problems.append(f"cannot read journal entries: {exc.odoo_message.splitlines()[0]}")
    if entries == [] and client.dialect.books_stock_moves:  # 19: stock moves carry their value, entries are rare
        problems.append(
            "no stock journal entries are visible: either none exist yet, or the API user lacks accounting "
            "read access (grant 'Accounting / Read-only', account.group_account_readonly) - without it, "
            "valuation entries are silently filtered out"
        )
    if problems:
        return False, f"Odoo {server}, user {user['login']!r} (uid {uid}): " + "; ".join(problems)
    return True, f"Odoo {server} over {client.protocol}, user {user['login']!r} (uid {uid}), company {user['company_id'][1]}: ready"
