"""The one inbound exchange lifecycle: a 3PL file from the listing to archive/ or error/ (after OCA edi_oca's
exchange processing).

:func:`handle_file` owns one file inside one SFTP session:

1. **receive** it once (download; exchange record keyed by folder, name and sha256; content already received under
   another name is a recorded duplicate);
2. **skip what is settled** (an exchange already processed, duplicate or in error only has its file moved, if the
   task died before the move);
3. **parse** it by the partner's layout (a file that cannot be read at all goes to error/ with the kind's
   ``unreadable`` code);
4. **validate** it with the kind's Great Expectations suite (``expectations/<kind>.json``);
5. hand the rows to the kind's **process** step, which checks them against Odoo and posts what it can;
6. **record** every row's outcome (posted, duplicate, or exception with its problem), so the counts add up to the
   rows in the file;
7. **transition** the exchange to ``input_processed`` and **move** the file to archive/ - only after the ledger
   commit, so a crash in between only leaves a file that step 2 moves on the next try.

A document kind is a declaration (:class:`InboundKind`): its name (layout fields and suite follow from it), its
codes and one ``process`` step. Adding a kind never touches this module.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from threepl_bridge.codes import Code, Problem
from threepl_bridge.formats.reader import ParsedRow, UnreadableFile, read_frame, read_rows
from threepl_bridge.ledger.models import Exchange
from threepl_bridge.ledger.repo import Ledger
from threepl_bridge.ledger.states import Outcome, State
from threepl_bridge.specs.documents import DOCUMENT_KINDS, Direction
from threepl_bridge.specs.models import Partner
from threepl_bridge.transport.sftp import SftpTransport, remote_path

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 512 * 1024 * 1024
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
    """What a kind's ``process`` step did: outcomes of the rows that are not exceptions, a note for the exchange's
    history, the kind's own result fields, and work to do once the file is archived (reports)."""

    outcomes: list[dict[str, Any]] = field(default_factory=list)
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


# ---------------------------------------------------------------------------------------------- listing


def inbound_document(partner: Partner, kind: str):  # type: ignore[no-untyped-def]
    if DOCUMENT_KINDS[kind].direction is not Direction.INBOUND:
        raise ValueError(f"{kind} is not an inbound document kind")
    doc = partner.document(kind)
    if doc is None:
        raise LookupError(f"partner {partner.code} has no {kind!r} document in {partner.source}")
    return doc


def list_files(partner: Partner, kind: str, transport: SftpTransport) -> list[str]:
    """Names of the complete files waiting in the partner's folder for ``kind``, oldest name first."""
    doc = inbound_document(partner, kind)
    files = transport.list_complete(doc.folder, doc.file_pattern, doc.complete)
    log.info("%s %s: %d complete file(s) in %s", partner.code, kind, len(files), doc.folder)
    return [f.name for f in files]


# ------------------------------------------------------------------------------------------- lifecycle


def handle_file(kind: InboundKind, partner: Partner, name: str, *, transport: SftpTransport, ledger: Ledger, client: Any,
                now: datetime, run_id: str | None = None, options: dict[str, Any] | None = None) -> FileResult:
    """Take one listed file through the whole lifecycle in one SFTP session, downloading it once."""
    with transport.connected():
        downloaded, reg = _receive(partner, kind.name, name, transport, ledger, run_id)
        exchange = ledger.exchange(reg.exchange_id)
        work = Inbound(partner=partner, exchange=exchange, ledger=ledger, transport=transport, client=client, now=now, run_id=run_id,
                       options=options or {})
        if exchange.state in SETTLED:
            return _settle(kind, work, reg.duplicate_of)
        log.info("%s %s: %s is exchange %d (%s, sha256 %s)", partner.code, kind.name, name, exchange.id, exchange.state, downloaded.sha256[:12])
        return _process(kind, work, downloaded.data)


def _receive(partner: Partner, kind: str, name: str, transport: SftpTransport, ledger: Ledger, run_id: str | None):  # type: ignore[no-untyped-def]
    """Step 1: download ``name`` (once) and register it as an exchange (name + sha256; a duplicate is recorded as such)."""
    doc = inbound_document(partner, kind)
    downloaded = transport.read_bytes(remote_path(doc.folder, name), max_bytes=MAX_FILE_BYTES)
    reg = ledger.register_inbound(partner=partner.code, kind=kind, folder=doc.folder, name=name,
                                  sha256=downloaded.sha256, size=len(downloaded.data), run_id=run_id)
    return downloaded, reg


def receive_file(partner: Partner, kind: str, name: str, *, transport: SftpTransport, ledger: Ledger, run_id: str | None = None) -> FileResult:
    """Step 1 alone (with step 2 for a duplicate or a processed file): download and register ``name``. For tools
    and tests that take a file through in two steps (then :func:`process_exchange`); tasks use :func:`handle_file`."""
    with transport.connected():
        _, reg = _receive(partner, kind, name, transport, ledger, run_id)
        work = Inbound(partner=partner, exchange=ledger.exchange(reg.exchange_id), ledger=ledger, transport=transport, client=None,
                       now=datetime.now(), run_id=run_id, options={})
        moved_to = None
        if reg.state in (State.INPUT_DUPLICATE, State.INPUT_PROCESSED):
            moved_to = _move(work, kind, partner.spec.sftp.archive_folder, only_if_present=True)
        return _result(work, moved_to=moved_to, duplicate_of=reg.duplicate_of)


def process_exchange(kind: InboundKind, partner: Partner, exchange_id: int, *, transport: SftpTransport, ledger: Ledger, client: Any,
                     now: datetime, run_id: str | None = None, options: dict[str, Any] | None = None) -> FileResult:
    """The lifecycle from step 2 for an exchange already received (its file is read again and must be unchanged)."""
    exchange = ledger.exchange(exchange_id)
    work = Inbound(partner=partner, exchange=exchange, ledger=ledger, transport=transport, client=client, now=now, run_id=run_id,
                   options=options or {})
    with transport.connected():
        if exchange.state in SETTLED:
            return _settle(kind, work, exchange.duplicate_of_id)
        downloaded = transport.read_bytes(remote_path(exchange.remote_folder, exchange.remote_name), max_bytes=MAX_FILE_BYTES)
        if downloaded.sha256 != exchange.sha256:
            raise RuntimeError(f"{exchange.remote_name} changed after it was received (sha256 {exchange.sha256[:12]} -> "
                               f"{downloaded.sha256[:12]}); it will be received again as a new file")
        return _process(kind, work, downloaded.data)


def _companions(work: Inbound, kind: str) -> tuple[str, ...]:
    doc = inbound_document(work.partner, kind)
    return (doc.complete.marker_suffix,) if doc.complete.rule == "marker" else ()


def _move(work: Inbound, kind: str, target: str, *, only_if_present: bool = False) -> str | None:
    path = remote_path(work.exchange.remote_folder, work.exchange.remote_name)
    if only_if_present and work.transport.stat(path) is None:
        return None
    return work.transport.move_unique(path, target, companions=_companions(work, kind))


def _result(work: Inbound, **extra: Any) -> FileResult:
    ex = work.ledger.exchange(work.exchange.id)
    return FileResult(exchange_id=ex.id, name=ex.remote_name, state=str(ex.state), sha256=ex.sha256, rows=ex.rows_total, posted=ex.rows_posted,
                      duplicate=ex.rows_duplicate, exception=ex.rows_exception, error=ex.error, **extra)


def _settle(kind: InboundKind, work: Inbound, duplicate_of: int | None) -> FileResult:
    """An exchange already settled: its file (still in the inbox if the task died before the move) goes where it belongs."""
    sftp = work.partner.spec.sftp
    target = sftp.error_folder if work.exchange.state == State.INPUT_ERROR else sftp.archive_folder
    moved_to = _move(work, kind.name, target, only_if_present=True)
    if moved_to:
        why = f"duplicate of exchange {duplicate_of}" if duplicate_of else str(work.exchange.state)
        log.info("%s %s: %s is %s; moved to %s", work.partner.code, kind.name, work.name, why, moved_to)
    return _result(work, moved_to=moved_to, duplicate_of=duplicate_of, details=kind.settled(work) if kind.settled else {})


def _process(kind: InboundKind, work: Inbound, data: bytes) -> FileResult:
    from threepl_bridge.quality import add_keys, validate_frame, validate_rows

    partner, ledger, exchange = work.partner, work.ledger, work.exchange
    layout = partner.layout_for(kind.name)
    try:
        if kind.frame:
            frame, parse_problems = read_frame(layout, data, partner.spec.tz)
            work.frame = add_keys(frame)
        else:
            work.rows = read_rows(layout, data, partner.spec.tz)
            parse_problems = [p for r in work.rows for p in r.problems]
    except UnreadableFile as exc:
        reason = f"{exchange.remote_name}: {exc}"
        ledger.transition(exchange.id, State.INPUT_ERROR, error=reason, run_id=work.run_id)
        problem = kind.unreadable(file=exchange.remote_name, detail=reason)
        ledger.raise_exception(partner=partner.code, code=problem.code, object_type="file", object_ref=f"{exchange.remote_name}#{exchange.id}",
                               message=problem.message, exchange_id=exchange.id)
        moved_to = _move(work, kind.name, partner.spec.sftp.error_folder)
        log.error("%s: unreadable, moved to %s: %s", exchange.remote_name, moved_to, reason)
        return _result(work, moved_to=moved_to, details=kind.settled(work) if kind.settled else {})

    work.problems = [p.reported_as(kind.value_unreadable).located(exchange.remote_name) for p in parse_problems]
    parameters = {"uom_codes": [u.code for u in partner.spec.uom], "now": work.now}
    parse_failed = {(p.row, p.field) for p in parse_problems}
    if kind.frame:
        found, work.summary = validate_frame(kind.name, work.frame, parameters=parameters, parse_failed=parse_failed)
    else:
        found, work.summary = validate_rows(kind.name, work.rows, parameters=parameters)
    work.problems += [p.located(exchange.remote_name) for p in found]
    ledger.transition(exchange.id, State.INPUT_VALIDATED, run_id=work.run_id)

    processed = kind.process(work)

    _record(kind, work, processed.outcomes)
    counts = ledger.close_counts(exchange.id, rows_total=len(work.row_numbers()))
    note = processed.note or f"posted {counts['posted']}, duplicate {counts['duplicate']}, exception {counts['exception']}"
    ledger.transition(exchange.id, State.INPUT_PROCESSED, note=note, run_id=work.run_id)
    moved_to = _move(work, kind.name, partner.spec.sftp.archive_folder)
    log.info("%s: %d rows: %s; archived as %s", exchange.remote_name, len(work.row_numbers()), counts, moved_to)
    details = dict(processed.result)
    if processed.after_archive is not None:
        details.update(processed.after_archive())
    return _result(work, moved_to=moved_to, details=details)


def _record(kind: InboundKind, work: Inbound, outcomes: list[dict[str, Any]]) -> None:
    """Every problem becomes its row's exception (the first problem of a row when the kind keeps one per row)."""
    by_number = {r.number: r for r in work.rows}
    rows: list[dict[str, Any]] = []
    seen: set[tuple[int, str, str]] = set()
    failed: set[int] = set()
    for p in work.problems:
        if p.row is None or (p.row, p.code, p.field) in seen or (kind.first_problem_only and p.row in failed):
            continue
        seen.add((p.row, p.code, p.field))
        failed.add(p.row)
        item: dict[str, Any] = {"row_number": p.row, "outcome": Outcome.EXCEPTION, "code": p.code, "field": p.field,
                                "message": f"{work.name} row {p.row}: {p.message}"}
        if kind.row_data is not None and p.row in by_number:
            item["data"] = kind.row_data(by_number[p.row])
        rows.append(item)
    work.ledger.record_rows(work.exchange.id, rows + outcomes)
