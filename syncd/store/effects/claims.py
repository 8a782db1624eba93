"""Claiming due effects under a lease: ``claim``, ``claim_key``, what is due (``ready``,
``due_companies``) and ``release`` at shutdown; serial groups are honoured here."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, exists, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from syncd.store.effects.rows import Claimed, EffectStatus
from syncd.store.engine import Database
from syncd.store.models import Effect


def _unblocked(now: datetime) -> ColumnElement[bool]:
    """No other effect of the row's serial group is leased by a live owner or due before it."""
    other = aliased(Effect)
    ahead = exists().where(
        other.serial_group == Effect.serial_group,
        other.status == EffectStatus.PENDING.value,
        other.id != Effect.id,
        or_(
            other.lease_expires_at >= now,
            other.next_attempt_at < Effect.next_attempt_at,
            and_(other.next_attempt_at == Effect.next_attempt_at, other.id < Effect.id),
        ),
    )
    return or_(Effect.serial_group.is_(None), ~ahead)


def _due(now: datetime) -> ColumnElement[bool]:
    return and_(
        Effect.status == EffectStatus.PENDING.value,
        Effect.next_attempt_at <= now,
        or_(Effect.lease_expires_at.is_(None), Effect.lease_expires_at < now),
        _unblocked(now),
    )


def ready(
    session: Session, *, now: datetime, company_id: str, kinds: Iterable[str]
) -> tuple[int, datetime | None]:
    """How many effects of ``kinds`` ``claim`` would hand out now, and since when the oldest is due."""
    row = session.execute(
        select(func.count(), func.min(Effect.next_attempt_at)).where(
            _due(now), Effect.company_id == company_id, Effect.kind.in_(list(kinds))
        )
    ).one()
    return int(row[0]), row[1]


def claim(
    db: Database,
    *,
    owner: str,
    now: datetime,
    lease_seconds: float = 60.0,
    limit: int = 50,
    company_id: str | None = None,
    kinds: Iterable[str] | None = None,
    exclude: Iterable[str] = (),
) -> list[Claimed]:
    """Lease up to ``limit`` due effects: by priority (money before notices), then oldest first
    (of ``kinds``, none of ``exclude``)."""
    with db.transaction() as session:
        query = select(Effect).where(_due(now)).order_by(Effect.priority, Effect.id).limit(limit)
        if company_id is not None:
            query = query.where(Effect.company_id == company_id)
        if kinds is not None:
            query = query.where(Effect.kind.in_(list(kinds)))
        excluded = list(exclude)
        if excluded:
            query = query.where(Effect.kind.not_in(excluded))
        if db.dialect == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows = list(session.scalars(query))
        expires = now + timedelta(seconds=lease_seconds)
        claimed = []
        for row in rows:
            row.lease_owner = owner
            row.lease_expires_at = expires
            row.attempts += 1
            claimed.append(
                Claimed(row.id, row.key, row.kind, row.company_id, dict(row.payload), row.attempts, owner)
            )
        return claimed


def claim_key(
    db: Database, key: str, *, owner: str, now: datetime, lease_seconds: float = 60.0
) -> Claimed | None:
    """Lease one effect by key to perform it inline (a customer is waiting); None when it is done,
    failed, or leased by a live owner."""
    with db.transaction() as session:
        query = select(Effect).where(
            Effect.key == key,
            Effect.status == EffectStatus.PENDING.value,
            or_(Effect.lease_expires_at.is_(None), Effect.lease_expires_at < now),
            _unblocked(now),
        )
        if db.dialect == "postgresql":
            query = query.with_for_update(skip_locked=True)
        row = session.scalar(query)
        if row is None:
            return None
        row.lease_owner = owner
        row.lease_expires_at = now + timedelta(seconds=lease_seconds)
        row.attempts += 1
        return Claimed(row.id, row.key, row.kind, row.company_id, dict(row.payload), row.attempts, owner)


def release(db: Database, owner: str) -> int:
    """Give back every lease ``owner`` holds (graceful shutdown)."""
    with db.transaction() as session:
        result = session.execute(
            update(Effect)
            .where(Effect.lease_owner == owner, Effect.status == EffectStatus.PENDING.value)
            .values(lease_owner=None, lease_expires_at=None)
        )
        return int(getattr(result, "rowcount", 0))


def due_companies(
    session: Session, *, now: datetime, companies: Iterable[str], kinds: Iterable[str] | None = None
) -> list[str]:
    """Those of ``companies`` with an effect due now (of ``kinds``, if given), in their given order:
    a lane over hundreds of companies claims where there is work, not once per company."""
    stmt = (
        select(Effect.company_id)
        .distinct()
        .where(Effect.status == EffectStatus.PENDING.value, Effect.next_attempt_at <= now)
    )
    if kinds is not None:
        stmt = stmt.where(Effect.kind.in_(list(kinds)))
    due = set(session.scalars(stmt))
    return [c for c in companies if c in due]
