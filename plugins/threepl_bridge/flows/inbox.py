"""The partner's inbox as the inbound lifecycle sees it: listing complete files, refusing a file before reading it
(a name that cannot be used safely, over the size limit), a file that left the inbox after it was listed, and
moving a file (with its markers) to archive/ or error/ - recording where it went, so that the same file dropped
again is a new arrival (the replay model)."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from datetime import datetime
from collections.abc import Callable
from typing import Any

from threepl_bridge.flows.inbound_types import SETTLED, FileResult, Inbound, InboundKind, _result, inbound_document
from threepl_bridge.ledger.repo import Ledger
from threepl_bridge.ledger.states import State
from threepl_bridge.specs.models import Partner
from threepl_bridge.formats.reader import UnreadableFile, read_rows
from threepl_bridge.ledger.models import Exchange
from threepl_bridge.transport.sftp import SftpTransport, TransportError, remote_path

log = logging.getLogger(__name__)


def list_files(partner: Partner, kind: InboundKind, transport: SftpTransport, ledger: Ledger | None = None) -> list[str]:
    """Names of the complete files waiting in the partner's folder for ``kind``, oldest name first. With the
    ledger, a complete file whose name cannot be used safely (a newline, a backslash, bytes that are not UTF-8) is
    quarantined to error/ under a safe name with the kind's ``unreadable`` exception, instead of failing every
    run; markers left behind by an interrupted move (their data file settled and gone) are moved after it."""
    doc = inbound_document(partner, kind.name)
    unsafe: list[Any] = []
    files = transport.list_complete(doc.folder, doc.file_pattern, doc.complete, unsafe=unsafe)
    if ledger is not None:
        for found in unsafe:
            _quarantine_unsafe(partner, kind, found, transport, ledger)
        listed = {f.name for f in files}
        if doc.complete.rule == "marker":
            _sweep_markers(partner, kind.name, transport, ledger, listed)
        _settle_unmoved(partner, kind.name, transport, ledger, listed)
    log.info("%s %s: %d complete file(s) in %s", partner.code, kind.name, len(files), doc.folder)
    return [f.name for f in files]


def _quarantine_unsafe(partner: Partner, kind: InboundKind, found: Any, transport: SftpTransport, ledger: Ledger) -> None:
    """Recorded as an arrival (name escaped, identified by name, size and time), then moved under a safe name."""
    doc = inbound_document(partner, kind.name)
    identity = hashlib.sha256(f"unsafe:{found.name!r}:{found.size}:{found.mtime}".encode()).hexdigest()
    reg = ledger.register_inbound(partner=partner.code, kind=kind.name, folder=doc.folder, name=reg_name(found.name), sha256=identity,
                                  size=found.size)
    reason = (f"{found.name!r} is not a name the bridge can use safely (a path separator, a control character or bytes that "
              f"are not UTF-8); quarantined unread under a safe name: ask the 3PL to send it under a plain name")
    work = bare(partner, ledger.exchange(reg.exchange_id), ledger, transport)
    _unreadable(kind, work, reason, move=lambda: transport.quarantine(found, partner.spec.sftp.error_folder, companions=_companions(partner, kind.name)))


def reg_name(name: str) -> str:
    """An unsafe name as the ledger and the exceptions show it (escaped, e.g. ``D_1\\n.csv``)."""
    return repr(name)[1:-1][:255]


def _companions(partner: Partner, kind: str) -> tuple[str, ...]:
    """The suffixes of the files that travel with a data file (its completion marker)."""
    doc = inbound_document(partner, kind)
    return (doc.complete.marker_suffix,) if doc.complete.rule == "marker" else ()


def bare(partner: Partner, exchange: Exchange, ledger: Ledger, transport: SftpTransport, run_id: str | None = None) -> Inbound:
    """The file's context for the steps that only move or record it (no Odoo, nothing parsed)."""
    return Inbound(partner=partner, exchange=exchange, ledger=ledger, transport=transport, client=None, now=datetime.now(), run_id=run_id,
                   options={})


def settled_folder(partner: Partner, exchange: Exchange) -> str:
    """Where a settled file belongs: error/ when it could not be read, else archive/."""
    sftp = partner.spec.sftp
    return sftp.error_folder if exchange.state == State.INPUT_ERROR else sftp.archive_folder


def _settle_unmoved(partner: Partner, kind: str, transport: SftpTransport, ledger: Ledger, listed: set[str]) -> None:
    """Settled files whose move to archive/ or error/ ran but whose reply was lost (the connection dropped, the
    worker died): no longer listed, so no task would look at them again; their place is found and recorded."""
    for exchange in ledger.settled_unmoved(partner.code, kind):
        if exchange.remote_name in listed:
            continue  # still in the inbox: its task moves it
        _move_orphans(bare(partner, exchange, ledger, transport), kind)


def _sweep_markers(partner: Partner, kind: str, transport: SftpTransport, ledger: Ledger, listed: set[str]) -> None:
    doc = inbound_document(partner, kind)
    suffix = doc.complete.marker_suffix
    present = {f.name for f in transport.list_files(doc.folder, "*")}
    for marker in sorted(n for n in present if n.endswith(suffix)):
        name = marker[: -len(suffix)]
        if not name or name in present or name in listed:
            continue
        latest = ledger.inbound_named(partner.code, kind, doc.folder, name)
        if latest is not None and latest.state in SETTLED:
            _move_orphans(bare(partner, latest, ledger, transport), kind)


DEFAULT_MAX_FILE_MB = 256  # the file is downloaded whole (its bytes are in memory while it is handled)


def max_file_bytes() -> int:
    """Files above this size are refused before download (``THREEPL_MAX_FILE_MB``, default 256). A safety valve, not a
    memory budget: files are read and validated a chunk at a time (benchmarks/row_heavy.py: 200 MB of rows)."""
    return int(float(os.environ.get("THREEPL_MAX_FILE_MB", str(DEFAULT_MAX_FILE_MB))) * 1024 * 1024)


def _refuse_up_front(kind: InboundKind, partner: Partner, name: str, transport: SftpTransport, ledger: Ledger,
                     run_id: str | None) -> FileResult | None:
    """A file over the size limit is quarantined without being read: recorded (as an arrival identified by name,
    size and time), its exception raised, moved to error/. (A name that cannot be used safely never gets here: the
    listing quarantines it, and ``remote_path`` refuses it.)"""
    doc = inbound_document(partner, kind.name)
    found = transport.stat(remote_path(doc.folder, name))
    if found is None:
        return _vanished(kind, partner, name, transport, ledger, run_id)
    limit = max_file_bytes()
    if found.size > limit:
        return _quarantine(kind, partner, name, found, ledger, transport, run_id,
                           f"{name} is {_size(found.size)}, over the {_size(limit)} limit (THREEPL_MAX_FILE_MB); "
                           "ask the 3PL to split it, or raise the limit and drop it again")
    return None


def _size(n: int) -> str:
    return f"{n / 1048576:.1f} MB" if n >= 1048576 else f"{n / 1024:.1f} KB"


def _quarantine(kind: InboundKind, partner: Partner, name: str, found: Any, ledger: Ledger, transport: SftpTransport,
                run_id: str | None, reason: str) -> FileResult:
    doc = inbound_document(partner, kind.name)
    identity = hashlib.sha256(f"unread:{name}:{found.size}:{found.mtime}".encode()).hexdigest()
    reg = ledger.register_inbound(partner=partner.code, kind=kind.name, folder=doc.folder, name=name, sha256=identity,
                                  size=found.size, run_id=run_id, replay_processed=kind.replay_processed)
    return _unreadable(kind, bare(partner, ledger.exchange(reg.exchange_id), ledger, transport, run_id), reason)


def _vanished(kind: InboundKind, partner: Partner, name: str, transport: SftpTransport, ledger: Ledger, run_id: str | None) -> FileResult:
    """The file left the inbox after it was listed (another run archived it, or this task's previous try did and
    died before its marker followed): what the ledger knows about it, with any marker left behind moved too."""
    doc = inbound_document(partner, kind.name)
    latest = ledger.inbound_named(partner.code, kind.name, doc.folder, name)
    if latest is None or latest.state not in SETTLED:
        log.info("%s %s: %s is no longer in %s; nothing to do", partner.code, kind.name, name, doc.folder)
        return FileResult(exchange_id=latest.id if latest else 0, name=name, state="gone", error="no longer in the inbox")
    work = bare(partner, latest, ledger, transport, run_id)
    _move_orphans(work, kind.name)
    return _result(work, details=kind.settled(work) if kind.settled else {})


def _move(work: Inbound, kind: str, target: str, *, only_if_present: bool = False) -> str | None:
    path = remote_path(work.exchange.remote_folder, work.exchange.remote_name)
    if only_if_present and work.transport.stat(path) is None:
        _move_orphans(work, kind)
        return None
    moved = work.transport.move_unique(path, target, companions=_companions(work.partner, kind), sha256=work.exchange.sha256)
    work.ledger.set_moved(work.exchange.id, moved, run_id=work.run_id)
    return moved


def _move_orphans(work: Inbound, kind: str) -> None:
    """The data file is no longer in the inbox, so an earlier attempt moved it (and may have died before its markers
    followed, or before the ledger heard where it went): markers follow it, and the exchange records its place."""
    ex, companions = work.exchange, _companions(work.partner, kind)
    target_folder = settled_folder(work.partner, ex)
    path = remote_path(ex.remote_folder, ex.remote_name)
    moved = work.transport.move_companions(path, target_folder, companions, sha256=ex.sha256)
    if moved is not None and companions:
        log.info("%s: markers of %s left behind by an interrupted move follow it to %s", work.partner.code, path, moved)
    if ex.moved_to is None:
        work.ledger.set_moved(ex.id, moved or f"{target_folder} (moved by an earlier attempt)", run_id=work.run_id)


def _unreadable(kind: InboundKind, work: Inbound, reason: str, *, move: Callable[[], str] | None = None) -> FileResult:
    """The file cannot be read: the exchange is in error with the reason, an exception names it, it goes to error/
    (``move``: how, when its name cannot be used as it is). Recorded before the move, so a retry finds it settled."""
    partner, exchange = work.partner, work.exchange
    work.ledger.transition(exchange.id, State.INPUT_ERROR, error=reason, run_id=work.run_id)
    problem = kind.unreadable(file=exchange.remote_name, detail=reason)
    work.ledger.raise_exception(partner=partner.code, code=problem.code, object_type="file", object_ref=f"{exchange.remote_name}#{exchange.id}",
                                message=problem.message, exchange_id=exchange.id)
    if move is None:
        moved_to = _move(work, kind.name, partner.spec.sftp.error_folder)
    else:
        moved_to = move()
        work.ledger.set_moved(exchange.id, moved_to, run_id=work.run_id)
    log.error("%s: unreadable, moved to %s: %s", exchange.remote_name, moved_to, reason)
    return _result(work, moved_to=moved_to, details=kind.settled(work) if kind.settled else {})


def request_replay(partner: Partner, exchange_id: int, *, transport: SftpTransport, ledger: Ledger) -> str:
    """Put a settled file back into the partner's inbox (from archive/ or error/, where the ledger says it went),
    with its completion marker, so the next run takes it as a new arrival: a replay when an earlier arrival was
    quarantined or (for fingerprinted kinds) had row exceptions, else a recorded duplicate. Returns the inbox path."""
    exchange = ledger.exchange(exchange_id)
    if exchange.partner != partner.code or exchange.direction != "inbound":
        raise ValueError(f"exchange {exchange_id} is not an inbound file of {partner.code}")
    if exchange.state not in SETTLED or not exchange.moved_to or not exchange.moved_to.startswith("/"):
        raise ValueError(f"exchange {exchange_id} ({exchange.state}) has no archived or quarantined file to replay "
                         f"(its file: {exchange.moved_to or 'still in the inbox'})")
    doc = inbound_document(partner, exchange.kind)
    target = remote_path(exchange.remote_folder, exchange.remote_name)
    if transport.stat(target) is not None:
        raise ValueError(f"{target} is already in the inbox")
    source_folder, _, source_name = exchange.moved_to.rpartition("/")
    with transport.connected():
        _copy(transport, exchange.moved_to, target)  # a copy: the archived file stays where the ledger says it is
        if doc.complete.rule == "marker":
            marker = doc.complete.marker_bytes(name=exchange.remote_name, size=exchange.size, sha256=exchange.sha256)
            transport.upload_atomic(exchange.remote_folder, exchange.remote_name + doc.complete.marker_suffix, marker)
    ledger.note_event(exchange_id, f"replay requested: {source_folder or '/'}/{source_name} copied back to {target}")
    log.info("%s: exchange %d's file copied back to %s for a replay", partner.code, exchange_id, target)
    return target


def _copy(transport: SftpTransport, source: str, target: str) -> None:
    folder, name = target.rsplit("/", 1)
    transport.upload_atomic(folder or "/", name, transport.read_bytes(source).data)


def waiting_rows(partner: Partner, kind: InboundKind, transport: SftpTransport, *, attempts: int = 3) -> list[tuple[str, list[dict[str, Any]]]]:
    """The readable rows (canonical JSON values, as the kind keeps them) of the complete files still waiting in the
    partner's inbox for ``kind`` - the stock reconciliation's "shipped, not processed yet". A file that leaves the
    inbox while it is read (another run archived it, so its rows are in the ledger now) makes the whole listing
    start again, so no file is missed in both places; after ``attempts`` the caller's task retries."""
    doc = partner.document(kind.name)
    if doc is None or kind.row_data is None:
        return []
    for _ in range(attempts):
        try:
            files = transport.list_complete(doc.folder, doc.file_pattern, doc.complete)
        except TransportError as exc:
            log.warning("%s: timing check without the waiting %s files: %s", partner.code, kind.name, exc)
            return []
        out = []
        try:
            for f in files:
                if f.size > max_file_bytes():
                    continue
                try:
                    rows = read_rows(partner.layout_for(kind.name), transport.read_bytes(f.path).data, partner.spec.tz)
                except UnreadableFile:
                    continue
                out.append((f.name, [json.loads(kind.row_data(r)) for r in rows if not r.problems]))
        except FileNotFoundError:
            log.info("%s: a waiting %s file was taken by another run while it was read; listing again", partner.code, kind.name)
            continue
        return out
    raise FileNotFoundError(f"{partner.code}: {kind.name} files kept leaving the inbox while they were read; retry later")
