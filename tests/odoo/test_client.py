"""The Odoo client: retry vs fatal, paging and batching (calls counted), None results, secrets kept out of logs.

Failures come from real HTTP servers on loopback: a scripted server that answers with given HTTP statuses or
XML-RPC faults before passing requests on to the stand-in."""

from __future__ import annotations

import logging
import socket
import threading
import urllib.request
import xmlrpc.client
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from sandbox.odoo_standin import OdooStandIn, build
from threepl_bridge.odoo.client import OdooClient, OdooSettings
from threepl_bridge.odoo.errors import (
    OdooAuthError,
    OdooProgrammingError,
    OdooTransientError,
    OdooUserError,
    OdooWizardAction,
    from_jsonrpc_error,
    from_xmlrpc_fault,
)

API_KEY = "standin-etl-api-key"


@pytest.fixture
def standin() -> Iterator[OdooStandIn]:
    with OdooStandIn(build(etl_email="etl@example.com")) as server:
        yield server


class Scripted:
    """An HTTP server that answers the next requests from a script, then forwards to ``upstream``."""

    def __init__(self, upstream: str) -> None:
        self.script: list[tuple[str, object]] = []
        self.requests: list[bytes] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):  # noqa: ANN002
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.requests.append(body)
                if outer.script:
                    kind, value = outer.script.pop(0)
                    if kind == "status":
                        payload = b"busy"
                        self.send_response(int(value))  # type: ignore[arg-type]
                    else:
                        payload = xmlrpc.client.dumps(xmlrpc.client.Fault(*value), methodresponse=True).encode()  # type: ignore[misc]
                        self.send_response(200)
                else:
                    req = urllib.request.Request(upstream + self.path, data=body, headers={"Content-Type": self.headers["Content-Type"]})
                    with urllib.request.urlopen(req) as resp:  # noqa: S310
                        payload = resp.read()
                    self.send_response(200)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def scripted(standin) -> Iterator[Scripted]:
    s = Scripted(standin.url)
    yield s
    s.close()


def client_for(url: str, *, sleeps: list[float] | None = None, **kw) -> OdooClient:
    settings = OdooSettings(url=url, database="odoo3pl", login="etl", password=API_KEY, **{"max_retries": 3, **kw})
    return OdooClient(settings, sleep=(sleeps.append if sleeps is not None else (lambda s: None)))


# ------------------------------------------------------------------------------------ retry vs fatal


def test_http_503_is_retried_with_growing_backoff_then_succeeds(scripted):
    sleeps: list[float] = []
    client = client_for(scripted.url, sleeps=sleeps)
    client.uid  # noqa: B018 - authenticate first
    scripted.script = [("status", 503), ("status", 503)]
    assert client.execute("stock.warehouse", "search_count", [["code", "=", "3PL"]]) == 1
    assert client.calls["stock.warehouse.search_count"] == 3
    assert len(sleeps) == 2 and sleeps[1] > sleeps[0]


def test_ambiguous_failure_of_a_write_is_not_resent(scripted):
    client = client_for(scripted.url)
    client.uid  # noqa: B018
    scripted.script = [("status", 504)]
    with pytest.raises(OdooTransientError) as info:
        client.execute("res.users", "write", [client.uid], {"tz": "Europe/Brussels"})
    assert info.value.ambiguous is True  # type: ignore[attr-defined]
    assert client.calls["res.users.write"] == 1  # the server may have committed: never blindly resent


def test_ambiguous_failure_of_a_read_is_retried(scripted):
    client = client_for(scripted.url)
    client.uid  # noqa: B018
    scripted.script = [("status", 504)]
    assert client.execute("stock.warehouse", "search", [["code", "=", "3PL"]]) == [3]
    assert client.calls["stock.warehouse.search"] == 2


def test_serialization_failure_is_retried_even_for_a_write(scripted):
    client = client_for(scripted.url)
    client.uid  # noqa: B018
    tb = "Traceback (most recent call last):\n  ...\npsycopg2.errors.SerializationFailure: could not serialize access due to concurrent update"
    scripted.script = [("fault", (1, tb))]
    assert client.execute("res.users", "write", [client.uid], {"tz": "Europe/Brussels"}) is True
    assert client.calls["res.users.write"] == 2


def test_retries_are_bounded(scripted):
    client = client_for(scripted.url, max_retries=2)
    client.uid  # noqa: B018
    scripted.script = [("status", 502)] * 5
    with pytest.raises(OdooTransientError, match="HTTP 502"):
        client.execute("stock.warehouse", "search", [])
    assert client.calls["stock.warehouse.search"] == 3


def test_user_errors_are_fatal_at_once(scripted):
    client = client_for(scripted.url)
    client.uid  # noqa: B018
    scripted.script = [("fault", (2, "You cannot validate a transfer if no quantities are reserved."))]
    with pytest.raises(OdooUserError):
        client.execute("stock.picking", "button_validate", [1])
    assert client.calls["stock.picking.button_validate"] == 1


def test_connection_refused_is_transient_and_retried():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    client = client_for(f"http://127.0.0.1:{port}", max_retries=2)
    with pytest.raises(OdooTransientError, match="cannot reach Odoo"):
        client.version()
    assert client.calls["common.version"] == 3


@pytest.mark.parametrize(
    ("code", "text", "cls"),
    [
        (3, "Access Denied", OdooAuthError),
        (2, "Record does not exist or has been deleted.\n(Record: stock.picking(9,), User: 8)", "OdooMissingError"),
        (4, "You are not allowed to modify 'Companies' (res.company) records.", "OdooAccessError"),
        (1, "Traceback...\nValueError: Invalid field 'x' on model 'y'", OdooProgrammingError),
        (1, "Traceback...\npsycopg2.errors.LockNotAvailable: could not obtain lock on row", OdooTransientError),
    ],
)
def test_fault_classification(code, text, cls):
    error = from_xmlrpc_fault(code, text, model="m", method="x")
    assert type(error).__name__ == (cls if isinstance(cls, str) else cls.__name__)
    assert "Traceback" not in str(error)  # only the last line of a server traceback


def test_jsonrpc_error_classification():
    err = from_jsonrpc_error({"code": 200, "message": "Odoo Server Error", "data": {"name": "builtins.AttributeError", "message": "The method 'x' does not exist on the model 'y'"}}, model="y", method="x")
    assert isinstance(err, OdooProgrammingError) and str(err) == "y.x: AttributeError: The method 'x' does not exist on the model 'y'"
    denied = from_jsonrpc_error({"data": {"name": "odoo.exceptions.AccessDenied", "message": "Access Denied"}}, model=None, method=None)
    assert isinstance(denied, OdooAuthError)


# ---------------------------------------------------------------------------------- paging/batching


def test_search_read_all_pages_by_id_and_counts_calls(standin):
    client = client_for(standin.url, page_size=7)
    expected = client.execute("product.product", "search_count", [])
    client.calls.clear()
    rows = list(client.search_read_all("product.product", [], ["default_code"]))
    assert len(rows) == expected and len({r["id"] for r in rows}) == expected
    assert [r["id"] for r in rows] == sorted(r["id"] for r in rows)
    assert client.calls["product.product.search_read"] == expected // 7 + 1


def test_create_and_write_in_batches(standin):
    client = client_for(standin.url, create_batch=40, write_batch=25)
    ids = client.create_many("product.product", [{"name": f"Bulk {i}", "default_code": f"BULK-{i:04d}"} for i in range(100)])
    assert len(ids) == 100 and client.calls["product.product.create"] == 3
    updates = {pid: {"weight": 1.0 if i % 2 else 2.0} for i, pid in enumerate(ids)}
    assert client.write_many("product.product", updates) == 4  # two distinct values x two chunks of 25
    weights = {r["id"]: r["weight"] for r in client.read("product.product", ids, ["weight"], batch=60)}
    assert weights == {pid: v["weight"] for pid, v in updates.items()}
    assert client.calls["product.product.read"] == 2


# ------------------------------------------------------------------------------ None and wizards


def test_none_result_is_success_only_for_known_methods(scripted, standin):
    client = client_for(scripted.url)
    client.uid  # noqa: B018
    marshal = "Traceback...\nTypeError: cannot marshal None unless allow_none is enabled"
    scripted.script = [("fault", (1, marshal))]
    assert client.execute("stock.quant", "action_apply_inventory", [1]) is None
    scripted.script = [("fault", (1, marshal))]
    with pytest.raises(OdooProgrammingError, match="returned None"):
        client.execute("stock.picking", "button_validate", [1])


def test_none_result_over_jsonrpc(standin):
    client = client_for(standin.url, protocol="jsonrpc")
    desk = client.execute("product.product", "search", [["default_code", "=", "FURN_7800"]])[0]
    so = client.execute("sale.order", "create", {"partner_id": 10, "warehouse_id": 3, "order_line": [[0, 0, {"product_id": desk, "product_uom_qty": 1}]]})
    client.execute("sale.order", "action_confirm", [so])
    [picking] = client.execute("stock.picking", "search", [["sale_id", "=", so]])
    assert client.execute("stock.picking", "do_unreserve", [picking]) is None


def test_wizard_action_is_detected_not_mistaken_for_success(standin):
    client = client_for(standin.url)
    desk = client.execute("product.product", "search", [["default_code", "=", "FURN_7800"]])[0]
    so = client.execute("sale.order", "create", {"partner_id": 14, "warehouse_id": 3, "order_line": [[0, 0, {"product_id": desk, "product_uom_qty": 1}]]})
    client.execute("sale.order", "action_confirm", [so])
    [picking] = client.execute("stock.picking", "search", [["sale_id", "=", so]])
    with pytest.raises(OdooWizardAction) as info:
        client.call_button("stock.picking", "button_validate", [picking])
    assert info.value.res_model == "confirm.stock.sms"
    assert client.execute("stock.picking", "read", [picking], fields=["state"])[0]["state"] == "assigned"


# -------------------------------------------------------------------------------------- secrets


def test_the_api_key_never_reaches_logs_reprs_or_errors(scripted, caplog):
    caplog.set_level(logging.DEBUG)
    client = client_for(scripted.url)
    scripted.script = [("status", 503)]
    client.execute("stock.warehouse", "search", [])  # retried: a warning is logged
    bad_key = "wrong-" + API_KEY
    bad_client = OdooClient(OdooSettings(url=scripted.url, database="odoo3pl", login="etl", password=bad_key))
    with pytest.raises(OdooAuthError) as info:
        bad_client.execute("res.partner", "search", [])
    assert any("retry" in r.getMessage() for r in caplog.records)
    texts = [caplog.text, str(info.value), repr(bad_client), repr(bad_client.settings), repr(client), repr(client.settings)]
    for text in texts:
        assert API_KEY not in text and bad_key not in text
