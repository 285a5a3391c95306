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
from typing import Any

from threepl_bridge.flows.inbound_types import DECLARED, SETTLED, FileResult, Inbound, InboundKind, _result, inbound_document
from threepl_bridge.ledger.repo import Ledger
from threepl_bridge.ledger.states import State
from threepl_bridge.specs.models import Partner
from threepl_bridge.transport.sftp import SftpTransport, UnsafeRemoteName, remote_path, safe_name

log = logging.getLogger(__name__)


def list_files(partner: Partner, kind: str, transport: SftpTransport, ledger: Ledger | None = None) -> list[str]:
    """Names of the complete files waiting in the partner's folder for ``kind``, oldest name first. With the
    ledger, a complete file whose name cannot be used safely (a newline, a backslash, bytes that are not UTF-8) is
    quarantined to error/ under a safe name with the kind's ``unreadable`` exception, instead of failing every
    run; markers left behind by an interrupted move (their data file settled and gone) are moved after it."""
    doc = inbound_document(partner, kind)
    unsafe: list[Any] = []
    files = transport.list_complete(doc.folder, doc.file_pattern, doc.complete, unsafe=unsafe)
    if ledger is not None:
        for found in unsafe:
            _quarantine_unsafe(partner, kind, found, transport, ledger)
        if doc.complete.rule == "marker":
            _sweep_markers(partner, kind, transport, ledger, {f.name for f in files})
        _settle_unmoved(partner, kind, transport, ledger, {f.name for f in files})
    log.info("%s %s: %d complete file(s) in %s", partner.code, kind, len(files), doc.folder)
    return [f.name for f in files]


def _quarantine_unsafe(partner: Partner, kind: str, found: Any, transport: SftpTransport, ledger: Ledger) -> None:
    doc = inbound_document(partner, kind)
    declared = DECLARED.get(kind)
    identity = hashlib.sha256(f"unsafe:{found.name!r}:{found.size}:{found.mtime}".encode()).hexdigest()
    reg = ledger.register_inbound(partner=partner.code, kind=kind, folder=doc.folder, name=reg_name(found.name), sha256=identity,
                                  size=found.size)
    moved = transport.quarantine(found, partner.spec.sftp.error_folder, companions=_companion_suffixes(partner, kind))
    reason = (f"{found.name!r} is not a name the bridge can use safely (a path separator, a control character or bytes that "
              f"are not UTF-8); quarantined unread as {moved}: ask the 3PL to send it under a plain name")
    if ledger.exchange(reg.exchange_id).state not in SETTLED:
        ledger.transition(reg.exchange_id, State.INPUT_ERROR, error=reason)
    ledger.set_moved(reg.exchange_id, moved)
    if declared is not None:
        problem = declared.unreadable(file=reg_name(found.name), detail=reason)
        ledger.raise_exception(partner=partner.code, code=problem.code, object_type="file", object_ref=f"{reg_name(found.name)}#{reg.exchange_id}",
                               message=problem.message, exchange_id=reg.exchange_id)
    log.error("%s %s: %s", partner.code, kind, reason)


def reg_name(name: str) -> str:
    """An unsafe name as the ledger and the exceptions show it (escaped, e.g. ``D_1\\n.csv``)."""
    return repr(name)[1:-1][:255]


def _companion_suffixes(partner: Partner, kind: str) -> tuple[str, ...]:
    doc = inbound_document(partner, kind)
    return (doc.complete.marker_suffix,) if doc.complete.rule == "marker" else ()


def _settle_unmoved(partner: Partner, kind: str, transport: SftpTransport, ledger: Ledger, listed: set[str]) -> None:
    """Settled files whose move to archive/ or error/ ran but whose reply was lost (the connection dropped, the
    worker died): no longer listed, so no task would look at them again; their place is found and recorded."""
    for exchange in ledger.settled_unmoved(partner.code, kind):
        if exchange.remote_name in listed:
            continue  # still in the inbox: its task moves it
        work = Inbound(partner=partner, exchange=exchange, ledger=ledger, transport=transport, client=None, now=datetime.now(),
                       run_id=None, options={})
        _move_orphans(work, kind)


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
            work = Inbound(partner=partner, exchange=latest, ledger=ledger, transport=transport, client=None, now=datetime.now(),
                           run_id=None, options={})
            _move_orphans(work, kind)


def max_file_bytes() -> int:
    """Files above this size are refused before download (``THREEPL_MAX_FILE_MB``, default 64: benchmarks/row_heavy.py)."""
    return int(float(os.environ.get("THREEPL_MAX_FILE_MB", "64")) * 1024 * 1024)


def _refuse_up_front(kind: InboundKind, partner: Partner, name: str, transport: SftpTransport, ledger: Ledger,
                     run_id: str | None) -> FileResult | None:
    """A file whose name cannot be used safely, or that is over the size limit, is quarantined without being
    read: recorded (as an arrival identified by name, size and time), its exception raised, moved to error/."""
    doc = inbound_document(partner, kind.name)
    try:
        safe_name(name)
    except UnsafeRemoteName as exc:
        return _quarantine(kind, partner, name, None, ledger, transport, run_id, f"{exc}; the 3PL must send it under a plain name")
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
    identity = hashlib.sha256(f"unread:{name}:{getattr(found, 'size', '')}:{getattr(found, 'mtime', '')}".encode()).hexdigest()
    reg = ledger.register_inbound(partner=partner.code, kind=kind.name, folder=doc.folder, name=name, sha256=identity,
                                  size=getattr(found, "size", 0), run_id=run_id, replay_processed=kind.replay_processed)
    work = Inbound(partner=partner, exchange=ledger.exchange(reg.exchange_id), ledger=ledger, transport=transport, client=None,
                   now=datetime.now(), run_id=run_id, options={})
    return _unreadable(kind, work, reason)


def _vanished(kind: InboundKind, partner: Partner, name: str, transport: SftpTransport, ledger: Ledger, run_id: str | None) -> FileResult:
    """The file left the inbox after it was listed (another run archived it, or this task's previous try did and
    died before its marker followed): what the ledger knows about it, with any marker left behind moved too."""
    doc = inbound_document(partner, kind.name)
    latest = ledger.inbound_named(partner.code, kind.name, doc.folder, name)
    if latest is None or latest.state not in SETTLED:
        log.info("%s %s: %s is no longer in %s; nothing to do", partner.code, kind.name, name, doc.folder)
        return FileResult(exchange_id=latest.id if latest else 0, name=name, state="gone", error="no longer in the inbox")
    work = Inbound(partner=partner, exchange=latest, ledger=ledger, transport=transport, client=None, now=datetime.now(), run_id=run_id,
                   options={})
    _move_orphans(work, kind.name)
    return _result(work, details=kind.settled(work) if kind.settled else {})


def _companions(work: Inbound, kind: str) -> tuple[str, ...]:
    doc = inbound_document(work.partner, kind)
    return (doc.complete.marker_suffix,) if doc.complete.rule == "marker" else ()


def _move(work: Inbound, kind: str, target: str, *, only_if_present: bool = False) -> str | None:
    path = remote_path(work.exchange.remote_folder, work.exchange.remote_name)
    if only_if_present and work.transport.stat(path) is None:
        _move_orphans(work, kind)
        return None
    moved = work.transport.move_unique(path, target, companions=_companions(work, kind), sha256=work.exchange.sha256)
    work.ledger.set_moved(work.exchange.id, moved, run_id=work.run_id)
    return moved


def _move_orphans(work: Inbound, kind: str) -> None:
    """The data file is no longer in the inbox, so an earlier attempt moved it (and may have died before its markers
    followed, or before the ledger heard where it went): markers follow it, and the exchange records its place."""
    ex, sftp = work.exchange, work.partner.spec.sftp
    target_folder = sftp.error_folder if ex.state == State.INPUT_ERROR else sftp.archive_folder
    path = remote_path(ex.remote_folder, ex.remote_name)
    moved = work.transport.move_companions(path, target_folder, _companions(work, kind), sha256=ex.sha256)
    if moved is not None and _companions(work, kind):
        log.info("%s: markers of %s left behind by an interrupted move follow it to %s", work.partner.code, path, moved)
    if ex.moved_to is None:
        work.ledger.set_moved(ex.id, moved or f"{target_folder} (moved by an earlier attempt)", run_id=work.run_id)


def _unreadable(kind: InboundKind, work: Inbound, reason: str) -> FileResult:
    """The file cannot be read: the exchange is in error with the reason, an exception names it, it goes to error/."""
    partner, exchange = work.partner, work.exchange
    work.ledger.transition(exchange.id, State.INPUT_ERROR, error=reason, run_id=work.run_id)
    problem = kind.unreadable(file=exchange.remote_name, detail=reason)
    work.ledger.raise_exception(partner=partner.code, code=problem.code, object_type="file", object_ref=f"{exchange.remote_name}#{exchange.id}",
                                message=problem.message, exchange_id=exchange.id)
    moved_to = _move(work, kind.name, partner.spec.sftp.error_folder)
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


def waiting_rows(partner: Partner, kind: str, transport: SftpTransport, *, attempts: int = 3) -> list[tuple[str, list[dict[str, Any]]]]:
    """The readable rows (canonical JSON values, as the kind keeps them) of the complete files still waiting in the
    partner's inbox for ``kind`` - the stock reconciliation's "shipped, not processed yet". A file that leaves the
    inbox while it is read (another run archived it, so its rows are in the ledger now) makes the whole listing
    start again, so no file is missed in both places; after ``attempts`` the caller's task retries."""
    doc = partner.document(kind)
    declared = DECLARED.get(kind)
    if doc is None or declared is None or declared.row_data is None:
        return []
    from threepl_bridge.formats.reader import UnreadableFile, read_rows
    from threepl_bridge.transport.sftp import TransportError

    for _ in range(attempts):
        try:
            files = transport.list_complete(doc.folder, doc.file_pattern, doc.complete)
        except TransportError as exc:
            log.warning("%s: timing check without the waiting %s files: %s", partner.code, kind, exc)
            return []
        out = []
        try:
            for f in files:
                if f.size > max_file_bytes():
                    continue
                try:
                    rows = read_rows(partner.layout_for(kind), transport.read_bytes(f.path).data, partner.spec.tz)
                except UnreadableFile:
                    continue
                out.append((f.name, [json.loads(declared.row_data(r)) for r in rows if not r.problems]))
        except FileNotFoundError:
            log.info("%s: a waiting %s file was taken by another run while it was read; listing again", partner.code, kind)
            continue
        return out
    raise FileNotFoundError(f"{partner.code}: {kind} files kept leaving the inbox while they were read; retry later")
