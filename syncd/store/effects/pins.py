"""Pinning: an owner hands an effect it holds to a batch that performs it (``pin``), the batch finds
it again (``pinned``) and gives it back to the worker if the batch does not finish it (``unpin``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from syncd.store.effects.rows import Claimed, EffectStatus, LeaseLost, owned
from syncd.store.models import Effect


def pin(session: Session, effect: Claimed, *, owner: str, until: datetime, **changes: Any) -> None:
    """Hand an effect we hold to ``owner`` (a batch performing it) until ``until``, merging
    ``changes`` into its payload, in the caller's transaction; raises LeaseLost if we lost it."""
    row = session.scalar(select(Effect).where(owned(effect)))
    if row is None:
        raise LeaseLost(effect.key)
    row.payload = {**dict(row.payload), **changes}
    row.lease_owner = owner
    row.lease_expires_at = until


def pinned(session: Session, key: str, owner: str) -> Claimed | None:
    """The effect ``key`` as ``owner`` holds it (None when it does not, or it is finished)."""
    row = session.scalar(
        select(Effect).where(
            Effect.key == key, Effect.lease_owner == owner, Effect.status == EffectStatus.PENDING.value
        )
    )
    if row is None:
        return None
    return Claimed(row.id, row.key, row.kind, row.company_id, dict(row.payload), row.attempts, owner)


def unpin(session: Session, effect: Claimed, *, at: datetime, error: str, **changes: Any) -> None:
    """Give a pinned effect back to the worker, due at ``at``, its payload amended."""
    row = session.scalar(select(Effect).where(owned(effect)))
    if row is None:
        raise LeaseLost(effect.key)
    row.payload = {**dict(row.payload), **changes}
    row.lease_owner = None
    row.lease_expires_at = None
    row.next_attempt_at = at
    row.last_error = error[:2000]
