"""What a partner has been given: released pickings (and their state), product versions, extraction watermarks.

Released pickings follow :data:`~threepl_bridge.ledger.states.RELEASE_TRANSITIONS`. The module-level helpers
work inside a caller's transaction: staging an outbound file (:mod:`threepl_bridge.ledger.exchanges`) records
its pickings and product versions in the same commit as the file.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from threepl_bridge.ledger.base import _Base
from threepl_bridge.ledger.errors import UnknownRecord
from threepl_bridge.ledger.models import Exchange, ProductVersion, ReleasedPicking, Watermark, utcnow
from threepl_bridge.ledger.states import ReleaseState, State, check_release_transition


def _picking(s: Session, partner: str, picking_id: int) -> ReleasedPicking:
    found = s.scalars(select(ReleasedPicking).filter_by(partner=partner, picking_id=picking_id)).one_or_none()
    if found is None:
        raise UnknownRecord("released picking", f"{picking_id} of {partner}")
    return found


def _chunks(ids: list[int], size: int = 5000) -> list[list[int]]:
    """Bound the ids of one IN (...) (SQLite takes at most 32,766 parameters)."""
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def _move(picking: ReleasedPicking, wanted: str) -> None:
    """Change a released picking's state if the transition table allows it (staying put is a no-op)."""
    if picking.state == wanted:
        return
    check_release_transition(f"released picking {picking.picking_id} ({picking.picking_name}) of {picking.partner}",
                             picking.state, wanted)
    picking.state = ReleaseState(wanted).value


def stage_releases(
    s: Session,
    *,
    partner: str,
    exchange_id: int,
    pickings: list[dict[str, object]],
    products: list[dict[str, object]],
    picking_states: dict[int, str],
) -> None:
    """In the staging transaction of an outbound file: the pickings it releases (``pending`` until the file is
    on the server), the product versions it carries, and state changes of pickings released earlier."""
    for p in pickings:
        s.add(ReleasedPicking(partner=partner, exchange_id=exchange_id, state=ReleaseState.PENDING.value, **p))
    for p in products:
        s.add(ProductVersion(partner=partner, exchange_id=exchange_id, **p))
    for picking_id, state in picking_states.items():
        _move(_picking(s, partner, picking_id), state)


def release_sent(s: Session, exchange_id: int) -> None:
    """The exchange's file is on the server: its pending pickings are released (idempotent)."""
    for picking in list(s.scalars(
        select(ReleasedPicking).filter_by(exchange_id=exchange_id, state=ReleaseState.PENDING.value)
    )):
        _move(picking, ReleaseState.RELEASED)


class Releases(_Base):
    # --------------------------------------------------------------------------- released pickings

    def released_pickings(
        self, partner: str, picking_ids: list[int] | None = None, *, states: list[str] | None = None, kind: str | None = "orders"
    ) -> dict[int, ReleasedPicking]:
        """The partner's released pickings: deliveries (``kind`` orders), incoming pickings announced (asn), or any
        (None) - the kind of the file that released them."""
        with self.session() as s:
            query = select(ReleasedPicking).filter_by(partner=partner)
            if kind is not None:
                query = query.join(Exchange, Exchange.id == ReleasedPicking.exchange_id).where(Exchange.kind == kind)
            if picking_ids is not None:
                query = query.where(ReleasedPicking.picking_id.in_(picking_ids))
            if states is not None:
                query = query.where(ReleasedPicking.state.in_([str(state) for state in states]))
            return {r.picking_id: r for r in s.scalars(query)}

    def released_pickings_of(self, exchange_id: int) -> list[ReleasedPicking]:
        with self.session() as s:
            return list(s.scalars(select(ReleasedPicking).filter_by(exchange_id=exchange_id).order_by(ReleasedPicking.picking_name)))

    def mark_noted(self, partner: str, picking_id: int) -> None:
        self.mark_noted_many(partner, [picking_id])

    def mark_noted_many(self, partner: str, picking_ids: list[int]) -> None:
        """The chatter notes of these released pickings are in Odoo (one statement per chunk of pickings)."""
        with self.session() as s:
            for chunk in _chunks(sorted(set(picking_ids))):
                done = s.execute(update(ReleasedPicking).where(ReleasedPicking.partner == partner, ReleasedPicking.picking_id.in_(chunk))
                                 .values(noted_at=utcnow()))
                if done.rowcount != len(chunk):
                    raise UnknownRecord("released picking", f"one of {chunk[:5]} of {partner}")

    def set_released_state(self, partner: str, picking_id: int, state: str) -> None:
        """Move a released picking to ``state`` (a :class:`ReleaseState`); refused if the table does not allow it."""
        with self.session() as s:
            _move(_picking(s, partner, picking_id), state)

    def set_released_states(self, partner: str, picking_ids: list[int], state: str) -> None:
        """:meth:`set_released_state` for many pickings in one transaction (one read per chunk of pickings); every
        one must be released to the partner."""
        wanted = sorted(set(picking_ids))
        with self.session() as s:
            found: dict[int, ReleasedPicking] = {}
            for chunk in _chunks(wanted):
                found.update({r.picking_id: r for r in s.scalars(select(ReleasedPicking).filter_by(partner=partner).where(ReleasedPicking.picking_id.in_(chunk)))})
            for picking_id in wanted:
                if picking_id not in found:
                    raise UnknownRecord("released picking", f"{picking_id} of {partner}")
                _move(found[picking_id], state)

    def set_released_hash(self, partner: str, picking_id: int, content_hash: str) -> None:
        with self.session() as s:
            _picking(s, partner, picking_id).content_hash = content_hash

    def release_backorders(self, partner: str, backorders: list[tuple[int, str, int, str]]) -> None:
        """Backorders of released pickings stay with the 3PL: they are released under the original's file, with
        the hash of their own open lines (so a later change in Odoo is still noticed, and the split itself is not)."""
        with self.session() as s:
            for picking_id, name, original_id, content_hash in backorders:
                if s.scalars(select(ReleasedPicking).filter_by(partner=partner, picking_id=picking_id)).one_or_none():
                    continue
                original = s.scalars(select(ReleasedPicking).filter_by(partner=partner, picking_id=original_id)).one_or_none()
                if original is None:
                    continue
                s.add(ReleasedPicking(partner=partner, picking_id=picking_id, picking_name=name, exchange_id=original.exchange_id,
                                      content_hash=content_hash, state=ReleaseState.RELEASED.value,
                                      released_at=original.released_at, noted_at=original.noted_at))

    # ------------------------------------------------------------------------------ product versions

    def product_versions(self, partner: str, *, sent_only: bool) -> dict[int, str]:
        """product id -> the latest version hash the partner has (sent_only) or has been staged for."""
        with self.session() as s:
            query = (
                select(ProductVersion.product_id, ProductVersion.version_hash)
                .join(Exchange, Exchange.id == ProductVersion.exchange_id)
                .where(ProductVersion.partner == partner)
                .order_by(ProductVersion.id)
            )
            if sent_only:
                query = query.where(Exchange.state == State.OUTPUT_SENT.value)
            return {pid: version for pid, version in s.execute(query)}

    # ------------------------------------------------------------------------------------ watermarks

    def watermark(self, partner: str, stream: str) -> tuple[str, int] | None:
        with self.session() as s:
            found = s.get(Watermark, (partner, stream))
            return (found.value, found.last_id) if found else None

    def advance_watermark(self, partner: str, stream: str, value: str, last_id: int) -> bool:
        """Move the watermark forward to (value, last_id); never backwards. Returns whether it moved."""
        with self.session() as s:
            found = s.get(Watermark, (partner, stream), with_for_update=True)
            if found is None:
                s.add(Watermark(partner=partner, stream=stream, value=value, last_id=last_id))
                return True
            if (value, last_id) <= (found.value, found.last_id):
                return False
            found.value, found.last_id = value, last_id
            return True
