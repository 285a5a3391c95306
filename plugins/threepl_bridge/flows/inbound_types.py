"""What the inbound lifecycle (:mod:`threepl_bridge.flows.exchange`) passes around: a document kind's declaration,
the file on its way (:class:`Inbound`), what a kind's step did (:class:`Processed`) and a file's outcome
(:class:`FileResult`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from importlib import import_module
from datetime import datetime
from typing import Any

from threepl_bridge.codes import Code, Problem
from threepl_bridge.formats.reader import ParsedRow
from threepl_bridge.ledger.models import Exchange
from threepl_bridge.ledger.repo import Ledger
from threepl_bridge.ledger.states import State
from threepl_bridge.specs.documents import DOCUMENT_KINDS, Direction
from threepl_bridge.specs.models import Partner
from threepl_bridge.transport.sftp import SftpTransport

SETTLED = (State.INPUT_PROCESSED, State.INPUT_DUPLICATE, State.INPUT_ERROR)


@dataclass
class Inbound:
    """One file on its way through the lifecycle: what a kind's ``process`` step works with."""

    partner: Partner
    exchange: Exchange
    ledger: Ledger
    transport: SftpTransport
    client: Any  # the Odoo client (OdooClient), or whatever the kind's process needs
    now: datetime
    run_id: str | None
    options: dict[str, Any]
    rows: list[ParsedRow] = field(default_factory=list)  # row-shaped kinds
    frame: Any = None  # frame-shaped kinds (a pandas DataFrame with a ``row`` column)
    problems: list[Problem] = field(default_factory=list)  # every problem so far, each naming its row
    summary: list[Any] = field(default_factory=list)  # the suite's per-expectation summary (data-quality reports)
    held: ExitStack = field(default_factory=ExitStack)  # leases the kind takes (pickings): released once the rows are recorded

    @property
    def name(self) -> str:
        return self.exchange.remote_name

    def failed_rows(self) -> set[int]:
        return {p.row for p in self.problems if p.row is not None}

    def valid_rows(self) -> list[ParsedRow]:
        failed = self.failed_rows()
        return [r for r in self.rows if r.number not in failed]

    def row_numbers(self) -> list[int]:
        if self.frame is not None:
            return [int(n) for n in self.frame["row"]]
        return [r.number for r in self.rows]


@dataclass
class Processed:
    """What a kind's ``process`` step did: outcomes of the rows that are not exceptions (a list, or a generator: a
    snapshot of millions of rows yields them while they are recorded), a note for the exchange's
    history, the kind's own result fields, and work to do once the file is archived (reports)."""

    outcomes: Iterable[dict[str, Any]] = field(default_factory=list)
    note: str = ""
    result: dict[str, Any] = field(default_factory=dict)
    after_archive: Callable[[], dict[str, Any]] | None = None


@dataclass(frozen=True, kw_only=True)
class InboundKind:
    """An inbound document kind, declared: everything the lifecycle needs to know about it."""

    name: str  # the document kind (specs/documents.py): layout fields, the partner's folder, expectations/<name>.json
    unreadable: Code  # the file cannot be read with the layout
    value_unreadable: Code  # one value cannot be read (not a number, wrong date format, ragged row)
    process: Callable[[Inbound], Processed]
    frame: bool = False  # parse into a DataFrame (snapshots of a million rows) instead of row objects
    row_data: Callable[[ParsedRow], str] | None = None  # canonical JSON kept with each row's outcome
    settled: Callable[[Inbound], dict[str, Any]] | None = None  # the kind's result fields for an already settled file
    first_problem_only: bool = False  # a row's outcome names its first problem only (else every problem)
    replay_processed: bool = False  # rows are fingerprinted: a processed file with row exceptions may arrive again (a replay)

    def __post_init__(self) -> None:
        known = DOCUMENT_KINDS.get(self.name)
        if known is None or known.direction is not Direction.INBOUND:
            raise ValueError(f"{self.name!r} is not an inbound document kind of specs/documents.py")


@dataclass
class FileResult:
    """The outcome of one file: the exchange, its row counts, where the file went, and the kind's own fields."""

    exchange_id: int
    name: str
    state: str
    sha256: str = ""
    rows: int = 0
    posted: int = 0
    duplicate: int = 0
    exception: int = 0
    error: str | None = None
    moved_to: str | None = None
    duplicate_of: int | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, item: str) -> Any:  # the kind's own result fields (reconciliation_id, pickings_posted...)
        details = self.__dict__.get("details") or {}
        if item in details:
            return details[item]
        raise AttributeError(item)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.update(out.pop("details"))
        return out


def inbound_document(partner: Partner, kind: str):  # type: ignore[no-untyped-def]
    if DOCUMENT_KINDS[kind].direction is not Direction.INBOUND:
        raise ValueError(f"{kind} is not an inbound document kind")
    doc = partner.document(kind)
    if doc is None:
        raise LookupError(f"partner {partner.code} has no {kind!r} document in {partner.source}")
    return doc


def _result(work: Inbound, **extra: Any) -> FileResult:
    ex = work.ledger.exchange(work.exchange.id)
    return FileResult(exchange_id=ex.id, name=ex.remote_name, state=str(ex.state), sha256=ex.sha256, rows=ex.rows_total, posted=ex.rows_posted,
                      duplicate=ex.rows_duplicate, exception=ex.rows_exception, error=ex.error, **extra)


# document kind -> "module:declaration" of its InboundKind (imported on first use: never at DAG parse time)
KINDS = {
    "dispatches": "threepl_bridge.flows.dispatches:DISPATCHES",
    "stock": "threepl_bridge.flows.stock:STOCK",
    "receipts": "threepl_bridge.flows.receipts:RECEIPTS",
    "returns": "threepl_bridge.flows.returns:RETURNS",
    "adjustments": "threepl_bridge.flows.threepl_adjustments:ADJUSTMENTS",
}


def inbound_kind(kind: str) -> InboundKind:
    module, name = KINDS[kind].split(":")
    return getattr(import_module(module), name)  # type: ignore[no-any-return]
