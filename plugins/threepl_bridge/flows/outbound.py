"""Delivering staged outbound files: exactly once, whatever crashes, dropped connections or retries happen.

A file is staged in the ledger (``output_pending``, with its bytes) before it is uploaded. Its upload is a
journalled step under a temporary name that is the same on every attempt, ``.NAME.<exchange id>.part``
(:func:`~threepl_bridge.transport.sftp.part_name`): write the part, check its size, journal ``publishing``
(:mod:`~threepl_bridge.ledger.outbound_steps`), rename it over NAME, write the marker if the partner's rule asks
for one, ``mark_sent``. Every attempt looks at the server first and continues from what it finds:

- the exchange is already ``output_sent``: nothing to do;
- NAME holds the same bytes (an earlier attempt published it, the partner has not taken it yet): the marker is
  completed if missing, then it is marked sent, nothing is uploaded again;
- our part is there with every byte (checked by size and sha256): the earlier attempt died before or during the
  rename, which did not happen: it is journalled and renamed now (``completed_part``);
- our part is there but partial (killed mid-upload): it is overwritten by a fresh upload, never renamed;
- neither NAME nor our part is there but ``publishing`` was journalled: the rename happened and the partner took
  the file: it is marked sent without uploading it again, with a note in the exchange history and a warning in
  the log (``taken_by_partner``);
- otherwise (no publishing journalled): it is uploaded.
Temporary files of this exchange left by earlier attempts (ours, or the random ones of older versions) are
removed before the exchange is marked sent, so none stays in the partner's folder.

The ambiguous window: ``publishing`` is committed before the rename, so the only case the retry cannot tell
apart is a part that vanished without being renamed (removed by someone else between the journal and the rename,
e.g. a partner that purges hidden files). It is taken as published: the file is then never delivered rather than
delivered twice (at most once wins over twice for orders), and the note ("not uploaded again") plus the warning
tell the operator to check with the partner. A rename refused by the server leaves the part in place, so the next
attempt renames it again; a marker never stands beside a partial file, and is never written once its data file
has been taken.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from threepl_bridge.ledger.errors import AlreadyStaged
from threepl_bridge.ledger.outbound_steps import PUBLISHING
from threepl_bridge.ledger.repo import Ledger
from threepl_bridge.ledger.states import State
from threepl_bridge.specs.models import CompleteRule, Partner
from threepl_bridge.transport.sftp import SftpTransport, part_name, remote_path

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class Delivery:
    exchange_id: int
    path: str
    # "uploaded", "found_on_server", "completed_marker", "completed_part", "taken_by_partner", "already_sent"
    outcome: str


def deliver(ledger: Ledger, transport: SftpTransport, exchange_id: int, *, complete: CompleteRule | None = None,
            run_id: str | None = None) -> Delivery:
    """Put one staged file on the server, with its completion marker when the partner's rule asks for one."""
    exchange = ledger.exchange(exchange_id)
    path = remote_path(exchange.remote_folder, exchange.remote_name)
    if exchange.state == State.OUTPUT_SENT:
        return Delivery(exchange_id=exchange_id, path=path, outcome="already_sent")
    if exchange.state != State.OUTPUT_PENDING:
        raise ValueError(f"exchange {exchange_id} is {exchange.state}; only output_pending files are delivered")
    marker = complete if complete is not None and complete.rule == "marker" else None
    with transport.connected():
        outcome, note = _deliver(ledger, transport, exchange, marker, run_id)
        _remove_parts(transport, exchange, marker)
        ledger.mark_sent(exchange_id, note=note, run_id=run_id)
    return Delivery(exchange_id=exchange_id, path=path, outcome=outcome)


def _deliver(ledger: Ledger, transport: SftpTransport, exchange: Any, marker: CompleteRule | None,
             run_id: str | None) -> tuple[str, str | None]:
    """Bring the file (and its marker) onto the server from wherever the earlier attempts left it."""
    folder, name, eid = exchange.remote_folder, exchange.remote_name, exchange.id
    path = remote_path(folder, name)
    if _holds(transport, path, exchange):
        # the previous attempt published it and died before the ledger commit (or before the marker)
        wrote_marker = marker is not None and _ensure_marker(transport, exchange, marker)
        log.info("%s already on the server (exchange %d); marked sent without uploading again", path, eid)
        note = "found on the server after an interrupted attempt; not uploaded again"
        return ("completed_marker", note + "; completion marker written") if wrote_marker else ("found_on_server", note)
    part = part_name(name, eid)
    found = transport.stat(remote_path(folder, part))
    if found is not None and _holds(transport, remote_path(folder, part), exchange, found):
        _publish(ledger, transport, exchange, part, marker, run_id)
        log.info("%s: the interrupted attempt's complete %s renamed into place (exchange %d)", path, part, eid)
        return "completed_part", f"the interrupted attempt's complete temporary file {part} was renamed into place"
    if found is None and PUBLISHING in ledger.journalled_steps(eid):
        log.warning("%s (exchange %d): published by an interrupted attempt and no longer on the server: taken by the "
                    "partner; not uploaded again (check with the partner if they do not have it)", path, eid)
        return "taken_by_partner", ("published by an interrupted attempt and since taken from the server by the partner; "
                                    "not uploaded again")
    if found is not None:
        log.info("%s: %s is a partial upload (%d of %d bytes); uploading again", path, part, found.size, exchange.size)
    transport.write_part(folder, part, ledger.payload(eid))
    _publish(ledger, transport, exchange, part, marker, run_id)
    log.info("uploaded %s (%d bytes, exchange %d)", path, exchange.size, eid)
    return "uploaded", None


def _publish(ledger: Ledger, transport: SftpTransport, exchange: Any, part: str, marker: CompleteRule | None,
             run_id: str | None) -> None:
    """Journal the publication, rename the complete part into place, then write the marker."""
    ledger.journal_step(exchange.id, PUBLISHING, detail=f"{part} renamed to {exchange.remote_name}", run_id=run_id)
    transport.publish(exchange.remote_folder, part, exchange.remote_name)
    if marker is not None:  # only after the data file's atomic rename: a marker never stands beside a partial file
        _ensure_marker(transport, exchange, marker)


def _holds(transport: SftpTransport, path: str, exchange: Any, found: Any = None) -> bool:
    """Whether ``path`` is on the server with exactly the exchange's bytes (``found``: its stat, when known)."""
    found = found or transport.stat(path)
    if found is None or found.size != exchange.size:
        return False
    return hashlib.sha256(transport.read_bytes(path).data).hexdigest() == exchange.sha256


def _ensure_marker(transport: SftpTransport, exchange: Any, rule: CompleteRule) -> bool:
    """Write the data file's completion marker (atomically, like the data) unless it is there; True if written."""
    name = exchange.remote_name + rule.marker_suffix
    if transport.stat(remote_path(exchange.remote_folder, name)) is not None:
        return False
    content = rule.marker_bytes(name=exchange.remote_name, size=exchange.size, sha256=exchange.sha256)
    part = part_name(name, exchange.id)
    transport.write_part(exchange.remote_folder, part, content)
    transport.publish(exchange.remote_folder, part, name)
    return True


def _remove_parts(transport: SftpTransport, exchange: Any, marker: CompleteRule | None) -> None:
    """Remove this exchange's temporary files (its data's and its marker's, deterministic or random) left behind."""
    names = [exchange.remote_name] + ([exchange.remote_name + marker.marker_suffix] if marker is not None else [])
    ours = re.compile("|".join(rf"\.{re.escape(n)}\.({exchange.id}|[0-9a-f]{{12}})\.part" for n in names))
    for f in transport.list_files(exchange.remote_folder, ".*.part"):
        if ours.fullmatch(f.name):
            log.info("removing %s, left by an interrupted upload (exchange %d)", f.path, exchange.id)
            transport.delete(f.path)


def deliver_pending(ledger: Ledger, transport: SftpTransport, partner: Partner, kind: str, *, run_id: str | None = None) -> list[Delivery]:
    """Settle every staged-but-unsent file of this partner and kind (from interrupted earlier runs)."""
    doc = partner.document(kind)
    complete = doc.complete if doc is not None else None
    return [deliver(ledger, transport, eid, complete=complete, run_id=run_id) for eid in ledger.pending_outbound(partner.code, kind)]


def file_name(template: str, *, partner: str, kind: str, when: datetime, key: str, seq: int = 1, tz: str = "UTC") -> str:
    """A deterministic file name: the same run and content always give the same name. ``{date}``, ``{time}`` and
    ``{stamp}`` are the run's moment in ``tz`` (the document's ``name_timezone``, UTC by default)."""
    if when.tzinfo is not None:
        when = when.astimezone(ZoneInfo(tz))
    name = template.format(
        partner=partner, kind=kind, date=when.strftime("%Y%m%d"), time=when.strftime("%H%M%S"),
        stamp=when.strftime("%Y%m%d%H%M%S"), seq=f"{seq:03d}", key=key,
    )
    if seq > 1 and "{seq}" not in template:
        stem, dot, ext = name.rpartition(".")
        name = f"{stem}-{seq}.{ext}" if dot else f"{name}-{seq}"
    return name


def stage_file(
    ledger: Ledger, *, partner: str, kind: str, folder: str, template: str, when: datetime, data: bytes,
    run_id: str | None = None, first_seq: int = 1, name_tz: str = "UTC", **rows: object,
) -> int:
    """Stage ``data`` under the first free deterministic name: the same content in the same run always gets
    the same name (so a retry finds its own file); other content never overwrites it."""
    key = hashlib.sha256(data).hexdigest()[:8]
    for seq in range(first_seq, first_seq + 100):
        name = file_name(template, partner=partner, kind=kind, when=when, key=key, seq=seq, tz=name_tz)
        try:
            return ledger.stage_outbound(partner=partner, kind=kind, folder=folder, name=name, data=data, run_id=run_id, **rows).exchange_id  # type: ignore[arg-type]
        except AlreadyStaged:
            continue
    raise RuntimeError(f"no free file name for {kind} of {partner} from template {template!r}")
