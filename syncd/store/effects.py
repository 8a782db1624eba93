"""The effect ledger (outbox): every remote side effect is a row with a deterministic key first.

Contract:
- ``enqueue`` runs inside the caller's transaction, next to the state change that calls for the
  effect; a second enqueue of the same key is a no-op, so callers never check first.
- ``claim`` leases due effects to one owner for ``lease`` seconds in its own transaction; an
  expired lease (the owner died) makes the effect claimable again. On PostgreSQL, ``SKIP LOCKED``
  lets several workers claim concurrently; SQLite serialises writers anyway.
- The owner performs the effect remotely *with the key* (QBO requestid, Stripe Idempotency-Key,
  email Message-ID), then calls ``complete`` in the transaction that records what it changed. If
  the lease was lost meanwhile, ``complete`` raises ``LeaseLost`` and that transaction rolls back;
  the next owner replays the same key and the remote answers with the same object.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from syncd.store.engine import Database
from syncd.store.models import Effect


class EffectStatus(enum.Enum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


# Money first: a payer is waiting on a checkout, and the books should show a payment within
# seconds even right after a first pull queued thousands of invoice emails.
PRIORITY_BY_PREFIX = (
    ("stripe.", 0),
    ("qbo.payment", 0),
    ("qbo.void", 0),
    ("email.receipt", 1),
    ("email.processing", 1),
    ("email.payment_failed", 1),
    ("qbo.", 2),
    ("email.staff", 3),
)
DEFAULT_PRIORITY = 5


def priority_of(kind: str) -> int:
    for prefix, priority in PRIORITY_BY_PREFIX:
        if kind.startswith(prefix):
            return priority
    return DEFAULT_PRIORITY


class LeaseLost(Exception):
    """Another owner took the effect over (our lease expired): roll back, do not mark it done."""


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    key: str
    kind: str
    company_id: str
    payload: Mapping[str, Any]
    attempts: int
    owner: str


def enqueue(
    session: Session,
    *,
    key: str,
    kind: str,
    company_id: str,
    payload: Mapping[str, Any],
    now: datetime,
    not_before: datetime | None = None,
) -> bool:
    """Record an effect unless its key exists; True when this call created it."""
    values = {
        "key": key,
        "kind": kind,
        "priority": priority_of(kind),
        "company_id": company_id,
        "payload": dict(payload),
        "status": EffectStatus.PENDING.value,
        "attempts": 0,
        "next_attempt_at": not_before or now,
        "created_at": now,
    }
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(Effect).values(**values).on_conflict_do_nothing(index_elements=["key"]).returning(Effect.id)
    return session.execute(stmt).first() is not None


def claim(
    db: Database,
    *,
    owner: str,
    now: datetime,
    lease_seconds: float = 60.0,
    limit: int = 50,
    company_id: str | None = None,
    kinds: Iterable[str] | None = None,
) -> list[Claimed]:
    """Lease up to ``limit`` due effects: by priority (money before notices), then oldest first."""
    with db.transaction() as session:
        due = and_(
            Effect.status == EffectStatus.PENDING.value,
            Effect.next_attempt_at <= now,
            or_(Effect.lease_expires_at.is_(None), Effect.lease_expires_at < now),
        )
        query = select(Effect).where(due).order_by(Effect.priority, Effect.id).limit(limit)
        if company_id is not None:
            query = query.where(Effect.company_id == company_id)
        if kinds is not None:
            query = query.where(Effect.kind.in_(list(kinds)))
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


def _owned(effect: Claimed) -> Any:
    return and_(
        Effect.id == effect.id,
        Effect.lease_owner == effect.owner,
        Effect.status == EffectStatus.PENDING.value,
    )


def complete(session: Session, effect: Claimed, *, now: datetime, remote_id: str | None = None) -> None:
    """Mark done in the caller's transaction; raises LeaseLost if another owner has it now."""
    result = session.execute(
        update(Effect)
        .where(_owned(effect))
        .values(
            status=EffectStatus.DONE.value,
            remote_id=remote_id,
            done_at=now,
            lease_owner=None,
            lease_expires_at=None,
            last_error=None,
        )
    )
    if not getattr(result, "rowcount", 0):
        raise LeaseLost(effect.key)


def retry_later(db: Database, effect: Claimed, *, error: str, at: datetime) -> None:
    """A transient failure: release the lease and try again at ``at``."""
    with db.transaction() as session:
        session.execute(
            update(Effect)
            .where(_owned(effect))
            .values(next_attempt_at=at, lease_owner=None, lease_expires_at=None, last_error=error[:2000])
        )


def fail(db: Database, effect: Claimed, *, error: str, now: datetime) -> None:
    """A permanent failure: keep the row (surfaced by status and metrics), never retry on its own."""
    with db.transaction() as session:
        session.execute(
            update(Effect)
            .where(_owned(effect))
            .values(
                status=EffectStatus.FAILED.value,
                last_error=error[:2000],
                done_at=now,
                lease_owner=None,
                lease_expires_at=None,
            )
        )


def release(db: Database, owner: str) -> int:
    """Give back every lease ``owner`` holds (graceful shutdown)."""
    with db.transaction() as session:
        result = session.execute(
            update(Effect)
            .where(Effect.lease_owner == owner, Effect.status == EffectStatus.PENDING.value)
            .values(lease_owner=None, lease_expires_at=None)
        )
        return int(getattr(result, "rowcount", 0))


def requeue_failed(db: Database, *, company_id: str | None, now: datetime) -> int:
    """Put permanently failed effects back in the queue once a person fixed the cause."""
    with db.transaction() as session:
        stmt = update(Effect).where(Effect.status == EffectStatus.FAILED.value)
        if company_id is not None:
            stmt = stmt.where(Effect.company_id == company_id)
        result = session.execute(
            stmt.values(status=EffectStatus.PENDING.value, next_attempt_at=now, done_at=None)
        )
        return int(getattr(result, "rowcount", 0))


def counts(session: Session, company_id: str | None = None) -> dict[str, int]:
    """Effects per status (``pending``, ``done``, ``failed``)."""
    stmt = select(Effect.status, func.count()).group_by(Effect.status)
    if company_id is not None:
        stmt = stmt.where(Effect.company_id == company_id)
    found = {status: int(n) for status, n in session.execute(stmt)}
    return {s.value: found.get(s.value, 0) for s in EffectStatus}


def get(session: Session, key: str) -> Effect | None:
    return session.scalar(select(Effect).where(Effect.key == key))


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
