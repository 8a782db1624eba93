"""What the owner of a claimed effect records: ``complete``, ``retry_later``, ``hold``, ``fail``
(or ``fail_in`` the caller's transaction), and ``amend`` to its payload meanwhile."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from syncd.store.effects.rows import Claimed, EffectStatus, LeaseLost, owned
from syncd.store.engine import Database
from syncd.store.models import Effect


def complete(session: Session, effect: Claimed, *, now: datetime, remote_id: str | None = None) -> None:
    """Mark done in the caller's transaction; raises LeaseLost if another owner has it now."""
    result = session.execute(
        update(Effect)
        .where(owned(effect))
        .values(
            status=EffectStatus.DONE.value,
            remote_id=remote_id,
            done_at=now,
            lease_owner=None,
            lease_expires_at=None,
            last_error=None,
            held_at=None,
        )
    )
    if not getattr(result, "rowcount", 0):
        raise LeaseLost(effect.key)


def retry_later(db: Database, effect: Claimed, *, error: str, at: datetime) -> None:
    """A transient failure: release the lease and try again at ``at``."""
    with db.transaction() as session:
        session.execute(
            update(Effect)
            .where(owned(effect))
            .values(next_attempt_at=at, lease_owner=None, lease_expires_at=None, last_error=error[:2000])
        )


def hold(db: Database, effect: Claimed, *, error: str, at: datetime, now: datetime) -> bool:
    """An effect that must not fail met an error it cannot outwait: keep it pending, retry at
    ``at``, and note when it was first held. True the first time (tell a person once)."""
    with db.transaction() as session:
        row = session.scalar(select(Effect).where(owned(effect)))
        if row is None:
            return False
        first = row.held_at is None
        row.held_at = row.held_at or now
        row.next_attempt_at = at
        row.lease_owner = None
        row.lease_expires_at = None
        row.last_error = error[:2000]
        return first


def amend(db: Database, effect: Claimed, **changes: Any) -> Claimed:
    """Merge ``changes`` into the payload of an effect we hold (committed now, so a replay after a
    crash sees them); raises LeaseLost if another owner has it."""
    with db.transaction() as session:
        row = session.scalar(select(Effect).where(owned(effect)))
        if row is None:
            raise LeaseLost(effect.key)
        payload = {**dict(row.payload), **changes}
        row.payload = payload
        return Claimed(
            effect.id, effect.key, effect.kind, effect.company_id, payload, effect.attempts, effect.owner
        )


def fail(db: Database, effect: Claimed, *, error: str, now: datetime) -> None:
    """A permanent failure: keep the row (surfaced by status and metrics), never retry on its own."""
    with db.transaction() as session:
        fail_in(session, effect, error=error, now=now)


def fail_in(session: Session, effect: Claimed, *, error: str, now: datetime) -> None:
    """``fail`` in the caller's transaction."""
    session.execute(
        update(Effect)
        .where(owned(effect))
        .values(
            status=EffectStatus.FAILED.value,
            last_error=error[:2000],
            done_at=now,
            lease_owner=None,
            lease_expires_at=None,
        )
    )
