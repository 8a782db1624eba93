"""Reading the queue for people: one effect by key, counts per status, the held ones."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from syncd.store.effects.rows import EffectStatus
from syncd.store.models import Effect


def get(session: Session, key: str) -> Effect | None:
    return session.scalar(select(Effect).where(Effect.key == key))


def counts(session: Session, company_id: str | None = None) -> dict[str, int]:
    """Effects per status (``pending``, ``done``, ``failed``)."""
    stmt = select(Effect.status, func.count()).group_by(Effect.status)
    if company_id is not None:
        stmt = stmt.where(Effect.company_id == company_id)
    found = {status: int(n) for status, n in session.execute(stmt)}
    return {s.value: found.get(s.value, 0) for s in EffectStatus}


def held(session: Session, company_id: str | None = None) -> list[Effect]:
    """Pending effects that were held back by an error (oldest first)."""
    stmt = select(Effect).where(Effect.status == EffectStatus.PENDING.value, Effect.held_at.is_not(None))
    if company_id is not None:
        stmt = stmt.where(Effect.company_id == company_id)
    return list(session.scalars(stmt.order_by(Effect.held_at, Effect.id)))
