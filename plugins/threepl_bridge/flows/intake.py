"""Inbound intake: find the files a partner has finished writing and make each one an exchange record.

This is the first stage of every inbound flow (dispatches, receipts, stock). It is idempotent: listing and
receiving the same file again returns the same exchange record; a file whose content was already received
(under any name) is recorded as a duplicate, moved to the archive folder, and changes nothing else; a file
whose exchange is already processed but is still in the inbox (the task died between the ledger commit and
the move) is moved to the archive.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

from threepl_bridge.ledger.repo import Ledger
from threepl_bridge.ledger.states import State
from threepl_bridge.specs.documents import DOCUMENT_KINDS, Direction
from threepl_bridge.specs.models import Partner
from threepl_bridge.transport.sftp import SftpTransport, remote_path

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True, kw_only=True)
class Received:
    exchange_id: int
    name: str
    state: str
    sha256: str
    duplicate_of: int | None
    moved_to: str | None

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _inbound_document(partner: Partner, kind: str):  # type: ignore[no-untyped-def]
    if DOCUMENT_KINDS[kind].direction is not Direction.INBOUND:
        raise ValueError(f"{kind} is not an inbound document kind")
    doc = partner.document(kind)
    if doc is None:
        raise LookupError(f"partner {partner.code} has no {kind!r} document in {partner.source}")
    return doc


def list_complete_files(partner: Partner, kind: str, transport: SftpTransport) -> list[str]:
    """Names of the complete files waiting in the partner's folder for ``kind``, oldest name first."""
    doc = _inbound_document(partner, kind)
    files = transport.list_complete(doc.folder, doc.file_pattern, doc.complete)
    log.info("%s %s: %d complete file(s) in %s", partner.code, kind, len(files), doc.folder)
    return [f.name for f in files]


def receive_file(
    partner: Partner, kind: str, name: str, *, transport: SftpTransport, ledger: Ledger, run_id: str | None = None
) -> Received:
    """Download ``name`` into memory, register it, and settle duplicates; returns the exchange reference."""
    doc = _inbound_document(partner, kind)
    path = remote_path(doc.folder, name)
    downloaded = transport.read_bytes(path, max_bytes=MAX_FILE_BYTES)
    reg = ledger.register_inbound(
        partner=partner.code, kind=kind, folder=doc.folder, name=name,
        sha256=downloaded.sha256, size=len(downloaded.data), run_id=run_id,
    )
    moved_to = None
    if reg.state in (State.INPUT_DUPLICATE, State.INPUT_PROCESSED):
        companions = (doc.complete.marker_suffix,) if doc.complete.rule == "marker" else ()
        moved_to = transport.move_unique(path, partner.spec.sftp.archive_folder, companions=companions)
        why = f"duplicate of exchange {reg.duplicate_of}" if reg.duplicate_of else "already processed"
        log.info("%s %s: %s is %s; archived as %s", partner.code, kind, name, why, moved_to)
    else:
        log.info("%s %s: %s is exchange %d (%s, sha256 %s)", partner.code, kind, name, reg.exchange_id, reg.state, downloaded.sha256[:12])
    return Received(
        exchange_id=reg.exchange_id, name=name, state=str(reg.state), sha256=downloaded.sha256,
        duplicate_of=reg.duplicate_of, moved_to=moved_to,
    )
