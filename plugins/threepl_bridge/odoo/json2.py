"""Odoo's JSON-2 external API (Odoo 19 and later): ``POST /json/2/<model>/<method>``, an API key as bearer token.

JSON-2 takes every argument by name, in a JSON object: ``ids`` (the records a method runs on; none for a model
method such as ``search_read`` or ``create``), ``context`` and the method's own parameters. Our callers speak
``execute_kw`` (positional ``args``, keyword ``kwargs``), so this transport names the positional arguments from
the ORM signatures below; callers never branch on the protocol. A method not listed runs on records: its first
positional argument is the ids, and anything else must be given by keyword.

Answers (Odoo 19.0's ``rpc`` module, ``Json2Dispatcher``): the result as plain JSON (a returned recordset arrives as
its ids); errors as an HTTP status (401 for a refused key, 403 AccessError/AccessDenied, 404 an unknown model or
method and MissingError, 409 ConcurrencyError, 422 UserError/ValidationError or bad arguments, 500 anything else)
with a JSON body ``{"name", "message", "arguments", "context", "debug"}``, mapped onto our typed errors by ``name``
like JSON-RPC's ``error.data``. There is no login in JSON-2: the key decides who calls, ``res.users.context_get``
tells its uid; ``version()`` comes from the web client's ``/web/webclient/version_info``.
"""

from __future__ import annotations

import http.client
import json
import ssl
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from threepl_bridge.odoo.errors import OdooAuthError, OdooError, OdooProgrammingError, from_json2_error

# model methods (no ids) and their positional parameters, as named in Odoo 19's ORM
MODEL_METHODS: dict[str, tuple[str, ...]] = {
    "search_read": ("domain", "fields", "offset", "limit", "order"),
    "search": ("domain", "offset", "limit", "order"),
    "search_count": ("domain", "limit"),
    "create": ("vals_list",),
    "fields_get": ("allfields", "attributes"),
    "default_get": ("fields",),
    "load": ("fields", "data"),
    "name_search": ("name", "domain", "operator", "limit"),
    "name_create": ("name",),
    "read_group": ("domain", "fields", "groupby", "offset", "limit", "orderby", "lazy"),
    "get_param": ("key", "default"),
    "set_param": ("key", "value"),
    "context_get": (),
    "check_object_reference": ("module", "xml_id", "raise_on_access_error"),
}
# record methods: the first positional argument is the ids, then these
RECORD_METHODS: dict[str, tuple[str, ...]] = {
    "read": ("fields", "load"),
    "write": ("vals",),
    "copy": ("default",),
    "unlink": (),
}


def json2_body(method: str, args: list[Any], kwargs: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """The JSON-2 request body for an ``execute_kw`` call, and whether a one-record ``create`` must be unwrapped
    (``create`` takes a list in JSON-2 and answers a list of ids; ``execute_kw`` with one dict answers one id)."""
    body: dict[str, Any] = {}
    single = False
    if method in MODEL_METHODS:
        names = MODEL_METHODS[method]
    else:
        names = RECORD_METHODS.get(method, ())
        if args:
            ids, args = args[0], list(args[1:])
            body["ids"] = [ids] if isinstance(ids, int) else list(ids)
    if len(args) > len(names):
        raise OdooProgrammingError(f"{len(args)} positional arguments for {method!r}; JSON-2 takes them by name: pass the rest by keyword",
                                   method=method)
    body.update(zip(names, args))
    if method == "create" and isinstance(body.get("vals_list"), dict):
        body["vals_list"], single = [body["vals_list"]], True
    for key, value in kwargs.items():
        if key in body:
            raise OdooProgrammingError(f"argument {key!r} given twice", method=method)
        body[key] = value
    return body, single


class Json2:
    """The transport: one HTTP request a call, the same ``call(service, method, args)`` shape as XML-RPC's."""

    def __init__(self, settings: Any) -> None:
        self._base = settings.url.rstrip("/")
        self._database = settings.database
        self._key = settings.password
        self._timeout = settings.timeout
        self._context = None if settings.verify_tls or not self._base.startswith("https") else ssl._create_unverified_context()  # noqa: S323
        self.last_date: str | None = None

    def _post(self, path: str, body: Any, *, model: str | None, method: str | None, auth: bool = True) -> Any:
        from threepl_bridge.odoo.client import _http_error, _network_error

        headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "odoo-3pl-bridge"}
        if auth:
            headers["Authorization"] = f"bearer {self._key}"
        if self._database:
            headers["X-Odoo-Database"] = self._database
        request = urllib.request.Request(self._base + path, data=json.dumps(body).encode(), headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self._timeout, context=self._context) as response:  # noqa: S310
                self.last_date = response.headers.get("Date")
                raw = response.read()
        except urllib.error.HTTPError as exc:
            self.last_date = exc.headers.get("Date") if exc.headers else self.last_date
            payload = _json_or_none(exc.read())
            if exc.code == 401:  # "Invalid apikey" / "User not authenticated, use an API Key with a Bearer Authorization header."
                said = payload.get("message") if isinstance(payload, dict) else exc.reason
                raise OdooAuthError(f"authentication failed: the API key was refused ({said}); JSON-2 needs an API key of the "
                                    "user as the connection's password, or set protocol 'xmlrpc' to log in with a password",
                                    model=model, method=method) from None
            if isinstance(payload, dict) and payload.get("name"):
                raise from_json2_error(exc.code, payload, model=model, method=method) from None
            if exc.code == 404 and path.startswith("/json/2/"):  # no route: no such database here (dbfilter), or Odoo < 19
                raise OdooAuthError(f'database "{self._database}" does not exist here, or the server has no JSON-2 API (Odoo 19 and '
                                    "later have it; use protocol 'auto' or 'xmlrpc')", model=model, method=method) from None
            raise _http_error(exc.code, str(exc.reason), model=model, method=method) from None
        except (OSError, http.client.HTTPException) as exc:
            raise _network_error(exc, model=model, method=method) from None
        if not raw.strip():
            return None
        try:
            return json.loads(raw)
        except json.JSONDecodeError as exc:
            raise OdooError(f"Odoo answered with something that is not JSON: {exc}", model=model, method=method) from None

    def call(self, service: str, method: str, args: list[Any], *, model: str | None, model_method: str | None) -> Any:
        from threepl_bridge.odoo.client import _NoneResult

        if service == "common" and method == "version":  # the web client's route (JSON-RPC shaped), not a deprecated API
            envelope = self._post("/web/webclient/version_info", {"jsonrpc": "2.0", "method": "call", "params": {}}, model=None,
                                  method="version", auth=False)
            return (envelope or {}).get("result") if isinstance(envelope, dict) else envelope
        if service == "common" and method == "authenticate":  # JSON-2 has no login: the key's user says who it is
            context = self._post("/json/2/res.users/context_get", {}, model="res.users", method="context_get")
            return int(context["uid"]) if isinstance(context, dict) and context.get("uid") else False
        if service != "object" or method != "execute_kw":
            raise OdooProgrammingError(f"JSON-2 has no {service}.{method}")
        _db, _uid, _secret, model_name, name, call_args, call_kwargs = args
        body, single = json2_body(name, list(call_args), dict(call_kwargs))
        result = self._post(f"/json/2/{urllib.parse.quote(model_name)}/{urllib.parse.quote(name)}", body, model=model_name, method=name)
        if result is None:
            return _NoneResult()
        if single and isinstance(result, list) and len(result) == 1:
            return result[0]
        return result


def _json_or_none(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, TypeError):
        return None
