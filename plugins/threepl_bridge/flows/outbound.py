"""Delivering staged outbound files: exactly once, whatever crashes or retries happen.

A file is staged in the ledger (``output_pending``, with its bytes) before it is uploaded. Delivery then:
- if the exchange is already ``output_sent``: nothing to do;
- if the server already holds a file of that name with the same bytes (the previous attempt uploaded it but died
  before the ledger commit): it is only marked sent, nothing is uploaded again;
- otherwise the same bytes are uploaded atomically under the same name, then marked sent.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from threepl_bridge.ledger.errors import AlreadyStaged
from threepl_bridge.ledger.repo import Ledger
from threepl_bridge.ledger.states import State
from threepl_bridge.specs.models import CompleteRule, Partner
from threepl_bridge.transport.sftp import SftpTransport, remote_path

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class Delivery:
    exchange_id: int
    path: str
    outcome: str  # "uploaded", "found_on_server", "completed_marker", "already_sent"


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
    existing = transport.stat(path)
    if existing is not None and existing.size == exchange.size:
        remote = transport.read_bytes(path)
        if hashlib.sha256(remote.data).hexdigest() == exchange.sha256:
            # the previous attempt uploaded it and died before the ledger commit (or before the marker)
            wrote_marker = marker is not None and _ensure_marker(transport, exchange, marker)
            note = "found on the server after an interrupted attempt; not uploaded again"
            ledger.mark_sent(exchange_id, note=note + ("; completion marker written" if wrote_marker else ""), run_id=run_id)
            log.info("%s already on the server (exchange %d); marked sent without uploading again", path, exchange_id)
            return Delivery(exchange_id=exchange_id, path=path, outcome="completed_marker" if wrote_marker else "found_on_server")
    transport.upload_atomic(exchange.remote_folder, exchange.remote_name, ledger.payload(exchange_id))
    if marker is not None:  # only after the data file's atomic rename: a marker never stands beside a partial file
        _ensure_marker(transport, exchange, marker)
    ledger.mark_sent(exchange_id, run_id=run_id)
    log.info("uploaded %s (%d bytes, exchange %d)", path, exchange.size, exchange_id)
    return Delivery(exchange_id=exchange_id, path=path, outcome="uploaded")


def _ensure_marker(transport: SftpTransport, exchange: Any, rule: CompleteRule) -> bool:
    """Write the data file's completion marker (atomically, like the data) unless it is there; True if written."""
    name = exchange.remote_name + rule.marker_suffix
    if transport.stat(remote_path(exchange.remote_folder, name)) is not None:
        return False
    content = rule.marker_bytes(name=exchange.remote_name, size=exchange.size, sha256=exchange.sha256)
    transport.upload_atomic(exchange.remote_folder, name, content)
    return True


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
