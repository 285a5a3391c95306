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
from collections.abc import Iterable
from datetime import datetime
from itertools import chain
from typing import Any

from threepl_bridge.flows.inbound_types import SETTLED, FileResult, Inbound, InboundKind, Processed, _result, inbound_document
from threepl_bridge.flows.inbox import _move, _refuse_up_front, _unreadable, _vanished, bare, list_files, max_file_bytes, settled_folder
from threepl_bridge.formats.reader import UnreadableFile, iter_frames, iter_rows
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
        rows, failed = _parse_and_validate(kind, work, layout, data)
    except UnreadableFile as exc:
        return _unreadable(kind, work, f"{exchange.remote_name}: {exc}")
    except READER_DEFECTS as exc:  # a value our reader or a check could not cope with: quarantined, replayable once fixed
        log.exception("%s: reading failed", exchange.remote_name)
        return _unreadable(kind, work, f"{exchange.remote_name}: could not be read ({type(exc).__name__}: {exc}); "
                                       "this is a defect of the bridge: report it with the file")
    _keep_quality(kind, work, rows, failed)
    if _too_wrong(failed, rows):
        return _unreadable(kind, work, f"{exchange.remote_name}: {failed} of {rows} rows cannot be taken (first: {work.problems[0].message}); "
                                       "a file this wrong is quarantined whole rather than excepted row by row: check the layout "
                                       "with the 3PL, then replay it")
    ledger.transition(exchange.id, State.INPUT_VALIDATED, run_id=work.run_id)

    with work.held:  # leases the kind took (pickings) are held until its rows' outcomes are committed
        processed = kind.process(work)
        _record(kind, work, processed.outcomes)
        counts = ledger.close_counts(exchange.id, rows_total=rows)
    note = processed.note or f"posted {counts['posted']}, duplicate {counts['duplicate']}, exception {counts['exception']}"
    ledger.transition(exchange.id, State.INPUT_PROCESSED, note=note, run_id=work.run_id)
    ledger.resolve_file_exceptions(partner=partner.code, remote_name=exchange.remote_name, processed_exchange_id=exchange.id)
    moved_to = _move(work, kind.name, partner.spec.sftp.archive_folder)
    log.info("%s: %d rows: %s; archived as %s", exchange.remote_name, rows, counts, moved_to)
    if counts["exception"]:
        log_exception_rows(ledger, exchange.id, exchange.remote_name)
    details = dict(processed.result)
    if processed.after_archive is not None:
        details.update(processed.after_archive())
    return _result(work, moved_to=moved_to, details=details)


def _keep_quality(kind: InboundKind, work: Inbound, rows: int, failed: int) -> None:
    """The validation's GX results kept with the exchange, and the file's data-quality page written (a failure to
    write the page is logged, never the file's failure)."""
    from threepl_bridge.reports import reports_dir, write_quality_page

    work.ledger.keep_quality(work.exchange.id, {"suite": kind.name, "rows": rows, "rows_failing": failed, "validated_at": work.now.isoformat(),
                                                "checks": [s.as_dict() for s in work.summary]})
    try:
        log.info("data-quality page: %s", write_quality_page(work.ledger, work.exchange.id, reports_dir(work.options.get("reports_dir"))))
    except OSError as exc:
        log.warning("%s: data-quality page not written: %s", work.exchange.remote_name, exc)


def max_row_exceptions() -> int:
    """A file with more failing rows than this, and more than half its rows failing, is quarantined as unreadable
    (``THREEPL_MAX_ROW_EXCEPTIONS``, default 10,000): a million row exceptions help no operator."""
    return int(os.environ.get("THREEPL_MAX_ROW_EXCEPTIONS", "10000"))


def _too_wrong(failed: int, rows: int) -> bool:
    return failed > max_row_exceptions() and failed * 2 > rows


KEEP_ROWS = 100_000  # row objects kept on the first reading of a row-shaped file (see _parse_and_validate)
KEEP_FRAME_ROWS = 2_000_000  # frame rows kept on the first reading of a frame-shaped file (about 130 MB)
KEEP_PROBLEMS = 1000  # problems kept on the first reading, at least (else 4 x THREEPL_MAX_ROW_EXCEPTIONS)


def _parse_and_validate(kind: InboundKind, work: Inbound, layout: Any, data: bytes) -> tuple[int, int]:
    """Steps 3 and 4: the rows (or frame) and every value and row problem, each naming its row; returns the number
    of rows and of failing rows.

    The file is read and validated a chunk at a time. The first reading keeps at most :data:`KEEP_ROWS` row objects
    (:data:`KEEP_FRAME_ROWS` rows of a frame-shaped kind) and ``4 * THREEPL_MAX_ROW_EXCEPTIONS`` problems (at least
    :data:`KEEP_PROBLEMS`); beyond those it only counts the failing rows, so a file far too wrong is quarantined in
    bounded memory. A large file that is not too wrong is read a second time in full, for its kind's step and its
    row outcomes."""
    rows, failed, complete = _read(kind, work, layout, data, keep=max(4 * max_row_exceptions(), KEEP_PROBLEMS))
    if not complete and not _too_wrong(failed, rows):
        rows, failed, _ = _read(kind, work, layout, data, keep=None)
    return rows, failed


def _read(kind: InboundKind, work: Inbound, layout: Any, data: bytes, *, keep: int | None) -> tuple[int, int, bool]:
    """One reading (``keep``: None keeps every row and problem): (rows, failing rows, whether all was kept)."""
    import pandas as pd

    from threepl_bridge.quality import GX_ROWS, RowSet, Validation, add_keys

    partner, name = work.partner, work.exchange.remote_name
    validation = Validation(kind.name, parameters={"uom_codes": [u.code for u in partner.spec.uom], "now": work.now}, keep=keep,
                            rows=GX_ROWS if kind.frame else GX_ROWS // 4)  # (a row object's frame is wider than a snapshot's)
    work.rows, work.frame, work.problems = [], None, []
    frames, unreadable, rows, complete = [], RowSet(), 0, True
    for chunk in (iter_frames if kind.frame else iter_rows)(layout, data, partner.spec.tz):
        frame, found = (add_keys(chunk[0]), chunk[1]) if kind.frame else (None, [p for r in chunk for p in r.problems])
        unreadable.add([p.row for p in found])
        room = len(found) if keep is None else max(0, keep - len(work.problems))  # beyond: only counted (the file is
        complete = complete and room >= len(found)  # quarantined, or read again in full: nothing more is kept)
        work.problems += [p.reported_as(kind.value_unreadable).located(name) for p in found[:room]]
        parse_failed = {(p.row, p.field) for p in found} if complete else set()
        if frame is not None:
            validation.add(frame, parse_failed)
        else:
            validation.add_rows(chunk, parse_failed)
        n = len(frame) if frame is not None else len(chunk)
        complete = complete and (keep is None or rows + n <= (KEEP_FRAME_ROWS if frame is not None else KEEP_ROWS))
        rows += n
        if not complete:
            frames, work.rows = [], []
        elif frame is not None:
            frames.append(frame)
        else:
            work.rows += chunk
    found, work.summary = validation.finish()
    complete = complete and not validation.truncated
    work.problems += [p.located(name) for p in (found if complete else found[: max(0, (keep or 0) - len(work.problems))])]
    if kind.frame and complete:
        work.frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    return rows, len(unreadable | validation.failing), complete


def _record(kind: InboundKind, work: Inbound, outcomes: Iterable[dict[str, Any]]) -> None:
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
                                "message": f"{work.name} row {p.row}: {p.message}", "suggestion": p.suggestion or None}
        if kind.row_data is not None and p.row in by_number:
            item["data"] = kind.row_data(by_number[p.row])
        rows.append(item)
    work.ledger.record_rows(work.exchange.id, chain(rows, outcomes))  # (outcomes may be a generator)


LOGGED_ROWS = 50  # exception rows named one by one in a task's log; the rest are counted (all are in the ledger and the view)


def log_exception_rows(ledger: Ledger, exchange_id: int, name: str) -> None:
    """Every row not taken, named with its code, field and message (the first LOGGED_ROWS)."""
    rows = [o for o in ledger.row_outcomes(exchange_id) if o.outcome == "exception"]
    for o in rows[:LOGGED_ROWS]:
        log.warning("row not taken: %s [%s, field %s]", o.message or f"{name} row {o.row_number}", o.code, o.field or "-")
    if len(rows) > LOGGED_ROWS:
        log.warning("%s: %d more exception row(s); python -m threepl_bridge exceptions list, or the exceptions view", name, len(rows) - LOGGED_ROWS)
