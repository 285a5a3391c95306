"""Typed errors for Odoo's external API, and the one place that decides retryable vs fatal.

Odoo reports errors as XML-RPC Faults (faultCode 1: a full server traceback; 2: UserError/ValidationError/
MissingError; 3: AccessDenied; 4: AccessError) or, over JSON-RPC, as an ``error`` object whose ``data.name`` is
the exception class (see the contract's F10). Both map onto the classes below; callers never branch on the
transport. Messages carry Odoo's text (for tracebacks: only the last line), never credentials.
"""

from __future__ import annotations

import re


class OdooError(Exception):
    """Base of every error raised by the Odoo client."""

    retryable = False

    def __init__(self, message: str, *, model: str | None = None, method: str | None = None, fault_code: int | None = None, odoo_name: str | None = None) -> None:
        self.odoo_message = message
        self.model = model
        self.method = method
        self.fault_code = fault_code
        self.odoo_name = odoo_name
        where = f"{model}.{method}: " if model and method else ""
        super().__init__(f"{where}{message}")


class OdooTransientError(OdooError):
    """Connection refused/reset, timeout, HTTP 5xx, or a database serialisation/lock conflict: try again."""

    retryable = True


class OdooAuthError(OdooError):
    """Wrong database, login or password/API key (faultCode 3 'Access Denied', or authenticate -> False)."""


class OdooAccessError(OdooError):
    """The API user lacks the rights (faultCode 4)."""


class OdooMissingError(OdooError):
    """A record does not exist or has been deleted (MissingError)."""


class OdooUserError(OdooError):
    """A business rule refused the operation (UserError, faultCode 2)."""


class OdooValidationError(OdooUserError):
    """A constraint refused the values (ValidationError, faultCode 2)."""


class OdooProgrammingError(OdooError):
    """A contract error on our side: unknown model/field/method, bad value type (faultCode 1 tracebacks)."""


class OdooWizardAction(OdooError):
    """A button returned a wizard action instead of doing the work (e.g. SMS or backorder confirmation)."""

    def __init__(self, action: dict, *, model: str | None = None, method: str | None = None) -> None:
        self.action = action
        res_model = action.get("res_model", "?")
        super().__init__(
            f"returned the {res_model!r} wizard ({action.get('name', '')!s}) instead of completing; nothing was done",
            model=model, method=method,
        )

    @property
    def res_model(self) -> str | None:
        return self.action.get("res_model")

    @property
    def context(self) -> dict:
        return dict(self.action.get("context") or {})


_TRANSIENT_DB = re.compile(
    r"(SerializationFailure|could not serialize access|concurrent update|LockNotAvailable|could not obtain lock"
    r"|deadlock detected|TransactionRollbackError)",
    re.IGNORECASE,
)
MARSHAL_NONE = "cannot marshal None unless allow_none is enabled"


def last_line(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1].strip() if lines else text.strip()


def from_xmlrpc_fault(code: int, text: str, *, model: str | None, method: str | None) -> OdooError:
    """Map an XML-RPC Fault to a typed error (F10)."""
    kw = dict(model=model, method=method, fault_code=code)
    if code == 3:
        return OdooAuthError(text.strip() or "Access Denied", **kw)
    if code == 4:
        return OdooAccessError(text.strip(), **kw)
    if code == 2:
        if text.startswith("Record does not exist or has been deleted"):
            return OdooMissingError(text.strip(), **kw)
        if text.startswith("The operation cannot be completed") or "already assigned" in text or "must be unique" in text:
            return OdooValidationError(text.strip(), **kw)
        return OdooUserError(text.strip(), **kw)
    line = last_line(text)
    if _TRANSIENT_DB.search(text):
        return OdooTransientError(line, **kw)
    if "OperationalError" in line and "does not exist" in line and "database" in line:
        return OdooAuthError(f"unknown database: {line}", **kw)
    return OdooProgrammingError(line, **kw)


_JSON_CLASSES: dict[str, type[OdooError]] = {
    "odoo.exceptions.AccessDenied": OdooAuthError,
    "odoo.exceptions.AccessError": OdooAccessError,
    "odoo.exceptions.MissingError": OdooMissingError,
    "odoo.exceptions.ValidationError": OdooValidationError,
    "odoo.exceptions.UserError": OdooUserError,
    "odoo.exceptions.RedirectWarning": OdooUserError,
    "odoo.exceptions.ConcurrencyError": OdooTransientError,  # Odoo 18+: a serialisation failure, rolled back
    "werkzeug.exceptions.Unauthorized": OdooAuthError,  # JSON-2: the bearer key was refused ("Invalid apikey")
    "werkzeug.exceptions.NotFound": OdooProgrammingError,  # JSON-2: no such model or method
    "werkzeug.exceptions.UnprocessableEntity": OdooProgrammingError,  # JSON-2: arguments the method does not take
}


def from_jsonrpc_error(error: dict, *, model: str | None, method: str | None) -> OdooError:
    """Map a JSON-RPC ``error`` object to a typed error (F10)."""
    data = error.get("data") or {}
    name = str(data.get("name") or "")
    message = str(data.get("message") or error.get("message") or "Odoo Server Error")
    kw = dict(model=model, method=method, odoo_name=name)
    cls = _JSON_CLASSES.get(name)
    if cls is not None:
        return cls(message, **kw)
    if _TRANSIENT_DB.search(name) or _TRANSIENT_DB.search(message):
        return OdooTransientError(f"{name}: {last_line(message)}", **kw)
    if name.startswith("psycopg2") and "does not exist" in message and "database" in message:
        return OdooAuthError(f"unknown database: {last_line(message)}", **kw)
    short = name.split(".")[-1] if name else "Error"
    return OdooProgrammingError(f"{short}: {last_line(message)}", **kw)


def from_json2_error(status: int, body: dict, *, model: str | None, method: str | None) -> OdooError:
    """Map a JSON-2 error answer (HTTP status, body ``{"name", "message", ...}``) to a typed error: the body has
    the exception class like JSON-RPC's ``error.data``."""
    error = from_jsonrpc_error({"data": {"name": body.get("name"), "message": body.get("message")}}, model=model, method=method)
    error.fault_code = status
    return error
