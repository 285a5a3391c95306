"""Faults for the reliability tests, injected on the wire: an HTTP proxy in front of an Odoo (the stand-in or a real
server) that answers 502, holds a request past the client's timeout, or loses the reply after Odoo applied it.

The client under test talks to :attr:`FaultyOdoo.url`; rules match the model method of an ``execute_kw`` call
(XML-RPC or JSON-RPC) and fire a given number of times::

    with FaultyOdoo(standin.url) as proxy:
        proxy.fail("button_validate", "lost_reply")       # Odoo validates; the client sees a timeout (ambiguous)
        proxy.fail("write", "timeout_unapplied")           # nothing reaches Odoo; the client sees a timeout
        proxy.fail("search_read", "502", times=50)          # a bad gateway for longer than the client retries

Modes: ``502`` (answered by the proxy, nothing forwarded), ``timeout_unapplied`` (nothing forwarded, the
connection is closed without a reply), ``lost_reply`` (forwarded and applied, the reply dropped),
``serialization`` (not forwarded; answered with Odoo's serialization-failure fault, as Odoo does after rolling
back), ``access`` (not forwarded; an access error fault).
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
import xmlrpc.client
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODES = ("502", "timeout_unapplied", "lost_reply", "serialization", "access")


@dataclass
class Rule:
    method: str
    mode: str
    times: int
    model: str | None = None
    fired: int = 0


def _model_method(body: bytes, content_type: str) -> tuple[str | None, str | None]:
    """(model, method) of an execute_kw call, else (None, service method)."""
    try:
        if "json" in content_type:
            params = json.loads(body).get("params", {})
            args = params.get("args", [])
            if params.get("method") == "execute_kw" and len(args) >= 5:
                return args[3], args[4]
            return None, params.get("method")
        args, method = xmlrpc.client.loads(body)
        if method == "execute_kw" and len(args) >= 5:
            return args[3], args[4]
        return None, method
    except Exception:  # noqa: BLE001 - not a call we understand: forwarded untouched
        return None, None


def _fault(code: int, message: str, content_type: str) -> bytes:
    if "json" in content_type:
        return json.dumps({"jsonrpc": "2.0", "id": None, "error": {"code": 200, "message": "Odoo Server Error", "data": {
            "name": message.split(":")[0], "message": message, "debug": message}}}).encode()
    return xmlrpc.client.dumps(xmlrpc.client.Fault(code, message), methodresponse=True).encode()


SERIALIZATION = ("psycopg2.errors.SerializationFailure: could not serialize access due to concurrent update")
ACCESS = ("odoo.exceptions.AccessError: You are not allowed to modify 'Transfer' (stock.picking) records.")


class FaultyOdoo:
    def __init__(self, upstream: str, *, host: str = "127.0.0.1") -> None:
        self.upstream = upstream.rstrip("/")
        self.rules: list[Rule] = []
        self.log: list[tuple[str | None, str | None, str]] = []  # (model, method, what happened)
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # TCP_NODELAY: a reply is written as headers then body; with Nagle on a kept-alive connection the body
            # waited for the client's delayed ACK (about 40 ms per call, most of the fault matrix's time)
            disable_nagle_algorithm = True

            def log_message(self, *_: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                ctype = self.headers.get("Content-Type") or ""
                model, method = _model_method(body, ctype)
                rule = proxy._take(model, method)
                mode = rule.mode if rule else "forward"
                proxy.log.append((model, method, mode))
                if mode == "502":
                    self._reply(502, b"<html>502 Bad Gateway</html>", "text/html")
                    return
                if mode == "timeout_unapplied":
                    self.close_connection = True
                    return
                if mode in ("serialization", "access"):
                    code = 1 if mode == "serialization" else 4
                    self._reply(200, _fault(code, SERIALIZATION if mode == "serialization" else ACCESS, ctype), ctype or "text/xml")
                    return
                status, data, rtype, headers = proxy._forward(self.path, body, ctype)
                if mode == "lost_reply":
                    self.close_connection = True
                    return
                self._reply(status, data, rtype, headers)

            def _reply(self, status: int, data: bytes, ctype: str, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    if k.lower() in ("date",):
                        self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer((host, 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def fail(self, method: str, mode: str, *, times: int = 1, model: str | None = None) -> Rule:
        if mode not in MODES:
            raise ValueError(f"unknown fault mode {mode!r}; one of {MODES}")
        rule = Rule(method=method, mode=mode, times=times, model=model)
        with self._lock:
            self.rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()

    def calls(self, method: str) -> list[str]:
        return [what for _, m, what in self.log if m == method]

    def _take(self, model: str | None, method: str | None) -> Rule | None:
        with self._lock:
            for rule in self.rules:
                if rule.method == method and (rule.model is None or rule.model == model) and rule.fired < rule.times:
                    rule.fired += 1
                    return rule
        return None

    def _forward(self, path: str, body: bytes, ctype: str) -> tuple[int, bytes, str, dict[str, str]]:
        request = urllib.request.Request(self.upstream + path, data=body, headers={"Content-Type": ctype or "text/xml"}, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310 - loopback test proxy
                return response.status, response.read(), response.headers.get("Content-Type", "text/xml"), dict(response.headers)
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read(), exc.headers.get("Content-Type", "text/html"), dict(exc.headers)

    def __enter__(self) -> FaultyOdoo:
        self._thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self._server.shutdown()
        self._server.server_close()
