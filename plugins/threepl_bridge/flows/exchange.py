"""The one inbound exchange lifecycle: a 3PL file from the listing to archive/ or error/ (after OCA edi_oca's
exchange processing).

:func:`handle_file` owns one file inside one SFTP session, holding the file's **lease** (another run or worker on
the same file skips it; the lease dies with its holder):

0. **refuse up front** a name that cannot be used safely or a file over the size limit (quarantined unread with
   the kind's ``unreadable`` code); a file that left the inbox since the listing is settled from the ledger;
1. **receive** it once (download; register an *arrival*, keyed by folder, name, sha256 and arrival number). The
   replay model: while the file is in the inbox, a retry is the same arrival; once archived or quarantined, the
   same file again - or its content under another name - is a new arrival, a **duplicate** if an earlier arrival
   settled it for good, else a **replay** processed like a new file (after a quarantine for a since-fixed reason,
   or for kinds whose rows are fingerprinted, after row exceptions): row fingerprints keep a replay from posting
   anything twice. A transient failure (Odoo down, a lease busy) leaves the file in the inbox: a later run resumes;
2. **skip what is settled** (an exchange already processed, duplicate or in error only has its file moved, if the
   task died before the move);
3. **parse** it by the partner's layout (a file that cannot be read at all - or that our reader cannot cope with -
   goes to error/ with the kind's ``unreadable`` code);
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
import os
from datetime import datetime
from typing import Any

from threepl_bridge.flows.inbound_types import SETTLED, FileResult, Inbound, InboundKind, Processed, _result, inbound_document
from threepl_bridge.flows.inbox import _move, _refuse_up_front, _unreadable, _vanished, bare, list_files, max_file_bytes, settled_folder
from threepl_bridge.formats.reader import UnreadableFile, read_frame, read_rows
from threepl_bridge.ledger.repo import Ledger
from threepl_bridge.ledger.states import Outcome, State
from threepl_bridge.specs.models import Partner
from threepl_bridge.transport.sftp import SftpTransport, remote_path

__all__ = ["FileResult", "Inbound", "InboundKind", "Processed", "handle_file", "list_files", "process_exchange", "receive_file"]

log = logging.getLogger(__name__)

# errors of pure parsing/validation code on some input: retrying never helps, so the file is quarantined
READER_DEFECTS = (ValueError, ArithmeticError, KeyError, IndexError, TypeError, UnicodeError, OverflowError)


# ------------------------------------------------------------------------------------------- lifecycle


def handle_file(kind: InboundKind, partner: Partner, name: str, *, transport: SftpTransport, ledger: Ledger, client: Any,
                now: datetime, run_id: str | None = None, options: dict[str, Any] | None = None) -> FileResult:
    """Take one listed file through the whole lifecycle in one SFTP session, downloading it once, holding the
    file's lease (another run working on the same file makes this one skip it)."""
    doc = inbound_document(partner, kind.name)
    with transport.connected(), ledger.lease(f"file:{partner.code}:{kind.name}:{doc.folder}/{name}") as mine:
        if not mine:
            log.info("%s %s: %s is being processed by another run; skipped", partner.code, kind.name, name)
            return FileResult(exchange_id=0, name=name, state="skipped", error="another run holds the file's lease")
        refused = _refuse_up_front(kind, partner, name, transport, ledger, run_id)
        if refused is not None:
            return refused
        try:
            downloaded, reg = _receive(partner, kind, name, transport, ledger, run_id)
        except FileNotFoundError:
            return _vanished(kind, partner, name, transport, ledger, run_id)
        exchange = ledger.exchange(reg.exchange_id)
        work = Inbound(partner=partner, exchange=exchange, ledger=ledger, transport=transport, client=client, now=now, run_id=run_id,
                       options=options or {})
        if exchange.state in SETTLED:
            return _settle(kind, work, reg.duplicate_of)
        log.info("%s %s: %s is exchange %d (%s, sha256 %s%s)", partner.code, kind.name, name, exchange.id, exchange.state,
                 downloaded.sha256[:12], f", replay of exchange {reg.replay_of}" if reg.replay_of else "")
        return _process(kind, work, downloaded.data)


def _receive(partner: Partner, kind: InboundKind, name: str, transport: SftpTransport, ledger: Ledger, run_id: str | None):  # type: ignore[no-untyped-def]
    """Step 1: download ``name`` (once) and register it as an arrival (name + sha256; duplicate or replay per the
    outcomes of earlier arrivals of the same content, see Ledger.register_inbound)."""
    doc = inbound_document(partner, kind.name)
    downloaded = transport.read_bytes(remote_path(doc.folder, name), max_bytes=max_file_bytes())
    reg = ledger.register_inbound(partner=partner.code, kind=kind.name, folder=doc.folder, name=name, sha256=downloaded.sha256,
                                  size=len(downloaded.data), run_id=run_id, replay_processed=kind.replay_processed)
    return downloaded, reg


def receive_file(partner: Partner, kind: InboundKind, name: str, *, transport: SftpTransport, ledger: Ledger, run_id: str | None = None) -> FileResult:
    """Step 1 alone (with step 2 for a duplicate or a processed file): download and register ``name``. For tools
    and tests that take a file through in two steps (then :func:`process_exchange`); tasks use :func:`handle_file`."""
    with transport.connected():
        _, reg = _receive(partner, kind, name, transport, ledger, run_id)
        work = bare(partner, ledger.exchange(reg.exchange_id), ledger, transport, run_id)
        moved_to = None
        if reg.state in (State.INPUT_DUPLICATE, State.INPUT_PROCESSED):
            moved_to = _move(work, kind.name, partner.spec.sftp.archive_folder, only_if_present=True)
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
        downloaded = transport.read_bytes(remote_path(exchange.remote_folder, exchange.remote_name), max_bytes=max_file_bytes())
        if downloaded.sha256 != exchange.sha256:
            raise RuntimeError(f"{exchange.remote_name} changed after it was received (sha256 {exchange.sha256[:12]} -> "
                               f"{downloaded.sha256[:12]}); it will be received again as a new file")
        return _process(kind, work, downloaded.data)


def _settle(kind: InboundKind, work: Inbound, duplicate_of: int | None) -> FileResult:
    """An exchange already settled: its file (still in the inbox if the task died before the move) goes where it belongs."""
    moved_to = _move(work, kind.name, settled_folder(work.partner, work.exchange), only_if_present=True)
    if moved_to:
        why = f"duplicate of exchange {duplicate_of}" if duplicate_of else str(work.exchange.state)
        log.info("%s %s: %s is %s; moved to %s", work.partner.code, kind.name, work.name, why, moved_to)
    return _result(work, moved_to=moved_to, duplicate_of=duplicate_of, details=kind.settled(work) if kind.settled else {})


def _process(kind: InboundKind, work: Inbound, data: bytes) -> FileResult:
    partner, ledger, exchange = work.partner, work.ledger, work.exchange
    layout = partner.layout_for(kind.name)
    try:
        _parse_and_validate(kind, work, layout, data)
    except UnreadableFile as exc:
        return _unreadable(kind, work, f"{exchange.remote_name}: {exc}")
    except READER_DEFECTS as exc:  # a value our reader or a check could not cope with: quarantined, replayable once fixed
        log.exception("%s: reading failed", exchange.remote_name)
        return _unreadable(kind, work, f"{exchange.remote_name}: could not be read ({type(exc).__name__}: {exc}); "
                                       "this is a defect of the bridge: report it with the file")
    failed, rows = len(work.failed_rows()), len(work.row_numbers())
    if failed > max_row_exceptions() and failed * 2 > rows:
        return _unreadable(kind, work, f"{exchange.remote_name}: {failed} of {rows} rows cannot be taken (first: {work.problems[0].message}); "
                                       "a file this wrong is quarantined whole rather than excepted row by row: check the layout "
                                       "with the 3PL, then replay it")
    ledger.transition(exchange.id, State.INPUT_VALIDATED, run_id=work.run_id)

    with work.held:  # leases the kind took (pickings) are held until its rows' outcomes are committed
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


def max_row_exceptions() -> int:
    """A file with more failing rows than this, and more than half its rows failing, is quarantined as unreadable
    (``THREEPL_MAX_ROW_EXCEPTIONS``, default 10,000): a million row exceptions help no operator."""
    return int(os.environ.get("THREEPL_MAX_ROW_EXCEPTIONS", "10000"))


def _parse_and_validate(kind: InboundKind, work: Inbound, layout: Any, data: bytes) -> None:
    """Steps 3 and 4: the rows (or frame) and every value and row problem, each naming its row."""
    from threepl_bridge.quality import add_keys, validate_frame, validate_rows

    partner, name = work.partner, work.exchange.remote_name
    if kind.frame:
        frame, parse_problems = read_frame(layout, data, partner.spec.tz)
        work.frame = add_keys(frame)
    else:
        work.rows = read_rows(layout, data, partner.spec.tz)
        parse_problems = [p for r in work.rows for p in r.problems]
    work.problems = [p.reported_as(kind.value_unreadable).located(name) for p in parse_problems]
    parameters = {"uom_codes": [u.code for u in partner.spec.uom], "now": work.now}
    if kind.frame:
        found, work.summary = validate_frame(kind.name, work.frame, parameters=parameters, parse_failed={(p.row, p.field) for p in parse_problems})
    else:
        found, work.summary = validate_rows(kind.name, work.rows, parameters=parameters)
    work.problems += [p.located(name) for p in found]


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
