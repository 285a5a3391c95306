"""HTTP front of the stand-in: Odoo's XML-RPC (/xmlrpc/2/common, /xmlrpc/2/object), JSON-RPC (/jsonrpc) and, when it
answers as Odoo 19 or later, JSON-2 (/json/2/<model>/<method>, an API key as bearer token; contract/19.0)."""

from __future__ import annotations

import json
import logging
import socket
import threading
import xmlrpc.client
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sandbox.odoo_standin.env import Env
from sandbox.odoo_standin.orm import OdooFault

log = logging.getLogger(__name__)
# JSON-2 passes arguments by name; the ORM's own signatures give them back their places (Odoo 19's names)
JSON2_MODEL_METHODS: dict[str, tuple[str, ...]] = {
    "search_read": ("domain", "fields", "offset", "limit", "order"), "search": ("domain", "offset", "limit", "order"),
    "search_count": ("domain", "limit"), "create": ("vals_list",), "fields_get": ("allfields", "attributes"),
    "default_get": ("fields",), "load": ("fields", "data"), "read_group": ("domain", "fields", "groupby", "offset", "limit", "orderby", "lazy"),
    "get_param": ("key", "default"), "context_get": (), "check_object_reference": ("module", "xml_id", "raise_on_access_error"),
}
JSON2_RECORD_METHODS: dict[str, tuple[str, ...]] = {"read": ("fields", "load"), "write": ("vals",), "unlink": ()}
JSON2_STATUS = {"werkzeug.exceptions.Unauthorized": 401, "odoo.exceptions.AccessDenied": 403, "odoo.exceptions.AccessError": 403,
                "odoo.exceptions.MissingError": 404, "werkzeug.exceptions.NotFound": 404, "odoo.exceptions.UserError": 422,
                "odoo.exceptions.ValidationError": 422, "werkzeug.exceptions.UnprocessableEntity": 422}
MARSHAL_NONE_LAST = "TypeError: cannot marshal None unless allow_none is enabled"


def _wrong_db(name: str) -> OdooFault:
    line = f'psycopg2.OperationalError: connection to server at "127.0.0.1", port 5432 failed: FATAL:  database "{name}" does not exist'
    return OdooFault(1, line, "psycopg2.OperationalError", traceback_last=line)


def dispatch(env: Env, service: str, method: str, args: list[Any]) -> Any:
    """One RPC as Odoo receives it; every request is counted (``env.calls``: "model.method", or "common.version"),
    before it can fail, as Odoo pays for failed calls too."""
    if service == "object" and method in ("execute_kw", "execute") and len(args) >= 5:
        env.count_call(f"{args[3]}.{args[4]}")
    else:
        env.count_call(f"{service}.{method}")
    if service == "common":
        if method == "version":
            return env.version_info
        if method in ("authenticate", "login"):
            db, login, secret = args[0], args[1], args[2]
            if db != env.database:
                raise _wrong_db(db)
            return env.authenticate(login, secret)
    if service == "db" and method == "list":
        return [env.database]
    if service == "object" and method in ("execute_kw", "execute"):
        db, uid, secret, model, model_method = args[:5]
        if db != env.database:
            raise _wrong_db(db)
        if method == "execute":
            return env.execute_kw(uid, secret, model, model_method, list(args[5:]), {})
        rest = list(args[5:])
        call_args = rest[0] if rest else []
        call_kwargs = rest[1] if len(rest) > 1 else {}
        return env.execute_kw(uid, secret, model, model_method, call_args, call_kwargs or {})
    raise OdooFault(1, f"unknown method {service}.{method}", "builtins.KeyError", traceback_last=f"KeyError: '{method}'")


class _Handler(BaseHTTPRequestHandler):
    env: Env
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no 40 ms Nagle/delayed-ACK stalls

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The Date header in the server's own clock, as a real Odoo's (the clock that stamps write_date)."""
        import email.utils
        from datetime import timezone

        return email.utils.format_datetime(self.env.now().replace(tzinfo=timezone.utc), usegmt=True)

    def log_message(self, fmt: str, *args: Any) -> None:  # quiet; credentials travel in bodies, never logged
        log.debug("odoo-standin %s", fmt % args)

    def _reply(self, body: bytes, content_type: str, status: int = 200) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        # a real Odoo 17.0 (Werkzeug 2.2.2, workers=0) closes the connection after every XML-RPC and JSON-RPC
        # answer: each request comes on a connection of its own (contract/flows/R13_connection.json)
        self.send_header("Connection", "close")
        self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if self.path.startswith("/json/2/") and self.env.major >= 19:
            self._json2(self.path[len("/json/2/"):], raw)
        elif self.path == "/web/webclient/version_info":  # a JSON-RPC route of the web client
            request = json.loads(raw or b"{}")
            body = {"jsonrpc": "2.0", "id": request.get("id"), "result": self.env.version_info}
            self._reply(json.dumps(body).encode(), "application/json")
        elif self.path.startswith("/xmlrpc/2/"):
            self._xmlrpc(self.path.rsplit("/", 1)[-1], raw)
        elif self.path == "/jsonrpc":
            self._jsonrpc(raw)
        else:
            self.send_error(404)

    def _xmlrpc(self, service: str, raw: bytes) -> None:
        params, method = xmlrpc.client.loads(raw, use_builtin_types=True)
        try:
            result = dispatch(self.env, service, method or "", list(params))
            if result is None:
                raise OdooFault(1, MARSHAL_NONE_LAST, "builtins.TypeError", traceback_last=MARSHAL_NONE_LAST)
            body = xmlrpc.client.dumps((result,), methodresponse=True, allow_none=False)
        except OdooFault as fault:
            body = xmlrpc.client.dumps(xmlrpc.client.Fault(fault.code, fault.fault_string), methodresponse=True)
        self._reply(body.encode(), "text/xml")

    def _jsonrpc(self, raw: bytes) -> None:
        request = json.loads(raw or b"{}")
        params = request.get("params") or {}
        response: dict[str, Any] = {"jsonrpc": "2.0", "id": request.get("id")}
        try:
            result = dispatch(self.env, params.get("service", ""), params.get("method", ""), list(params.get("args") or []))
            if result is not None:  # a None result has no "result" key (F6, F10)
                response["result"] = result
        except OdooFault as fault:
            response["error"] = {
                "code": 200, "message": "Odoo Server Error",
                "data": {"name": fault.name, "debug": fault.fault_string if fault.code == 1 else f"Traceback (most recent call last):\n{fault.name}: {fault.message}",
                         "message": fault.message, "arguments": [fault.message], "context": {}},
            }
        self._reply(json.dumps(response).encode(), "application/json")

    def _json2(self, path: str, raw: bytes) -> None:
        """One JSON-2 call: the key names the user, the body names the arguments; errors are HTTP statuses."""
        env = self.env
        try:
            model, _, method = path.partition("/")
            env.count_call(f"{model}.{method}")
            database = self.headers.get("X-Odoo-Database")
            if database and database != env.database:
                raise _wrong_db(database)
            scheme, _, key = (self.headers.get("Authorization") or "").partition(" ")
            uid = env.uid_of_api_key(key) if scheme.lower() == "bearer" else None
            if not uid:  # the bearer check answers 401 before any model is looked at
                raise OdooFault(3, "User not authenticated, use an API Key with a Bearer Authorization header.",
                                "werkzeug.exceptions.Unauthorized")
            if model not in env.models or (env.adapter is not None and model in env.adapter.absent):
                raise OdooFault(2, f"the model {model!r} does not exist", "werkzeug.exceptions.NotFound")
            if method in JSON2_MODEL_METHODS and (json.loads(raw or b"{}") or {}).get("ids"):
                raise OdooFault(2, f"cannot call {model}.{method} with ids", "werkzeug.exceptions.UnprocessableEntity")
            try:
                params = json.loads(raw or b"{}")
            except ValueError:
                raise OdooFault(1, "the body is not JSON", "werkzeug.exceptions.BadRequest") from None
            ids = params.pop("ids", None)
            context = params.pop("context", None)
            names = JSON2_MODEL_METHODS.get(method) or JSON2_RECORD_METHODS.get(method, ())
            args: list[Any] = [] if method in JSON2_MODEL_METHODS else [list(ids or [])]
            for name in names:
                if name not in params:
                    break
                args.append(params.pop(name))
            if context is not None:
                params["context"] = context
            try:
                result = env.execute_kw(uid, key, model, method, args, params)
            except OdooFault as fault:
                if fault.name == "builtins.AttributeError":  # get_public_method: no such method -> 404
                    raise OdooFault(2, fault.message, "werkzeug.exceptions.NotFound") from None
                raise
            self._reply(json.dumps(result).encode(), "application/json; charset=utf-8")
        except OdooFault as fault:
            body = {"name": fault.name, "message": fault.message, "arguments": [fault.message], "context": {},
                    "debug": fault.fault_string if fault.code == 1 else f"Traceback (most recent call last):\n{fault.name}: {fault.message}"}
            self._reply(json.dumps(body).encode(), "application/json; charset=utf-8", JSON2_STATUS.get(fault.name, 500))


class OdooStandIn:
    """Runs the stand-in on loopback in a background thread."""

    def __init__(self, env: Env, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.env = env
        handler = type("Handler", (_Handler,), {"env": env})
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> "OdooStandIn":
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="odoo-standin", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(5)

    def __enter__(self) -> "OdooStandIn":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
