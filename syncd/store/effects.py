"""The effect ledger (outbox): every remote side effect is a row with a deterministic key first.

Contract:
- ``enqueue`` runs inside the caller's transaction, next to the state change that calls for the
  effect; a second enqueue of the same key is a no-op, so callers never check first.
- ``claim`` leases due effects to one owner for ``lease`` seconds in its own transaction; an
  expired lease (the owner died) makes the effect claimable again. On PostgreSQL, ``SKIP LOCKED``
  lets several workers claim concurrently; SQLite serialises writers anyway.
- ``enqueue`` takes a typed payload from the catalog (``syncd.catalog``), which gives the key, kind,
  priority and serial group.
- An effect may belong to a serial group (``serial_group``, from the catalog): ``claim`` and
  ``claim_key`` never hand out an effect of a group while another of that group is leased by a
  live owner, or is pending and due before it (ties: the older first). Money effects that change
  one customer's invoices or credit take the group ``Serial.MONEY`` of that customer, so they run
  one after another; everything else stays parallel. The check runs in the claiming
  transaction; on PostgreSQL the earlier effect is either visible as pending (it blocks) or locked
  by its claimer (leased, it blocks once committed; ``SKIP LOCKED`` skips it meanwhile).
- ``hold`` keeps an effect that must not fail (a charge Stripe took) pending with a note of when
  it was first held; ``held`` lists those for ``syncd status`` and ``syncd failed``.
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

from sqlalchemy import ColumnElement, and_, exists, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from syncd import catalog
from syncd.catalog import Payload
from syncd.store.engine import Database
from syncd.store.models import Effect


class EffectStatus(enum.Enum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


def payload_text(name: str) -> ColumnElement[str]:
    """A stored payload field as text, for SQL that joins on it (e.g. ``payment_key``)."""
    text: ColumnElement[str] = Effect.payload[name].as_string()
    return text


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
    session: Session, payload: Payload, *, company_id: str, now: datetime, not_before: datetime | None = None
) -> bool:
    """Record ``payload``'s effect unless its key exists; True when this call created it. Key,
    kind, priority and serial group come from the catalog (``syncd.catalog``)."""
    return insert(
        session,
        key=payload.key(company_id),
        kind=payload.KIND.value,
        company_id=company_id,
        payload=payload.to_json(),
        now=now,
        not_before=not_before,
        serial_group=catalog.serial_group(payload, company_id),
        priority=catalog.spec_of(payload).priority,
    )


def enqueue_many(
    session: Session, payloads: Iterable[Payload], *, company_id: str, now: datetime, chunk: int = 500
) -> set[str]:
    """``enqueue`` for many payloads in a few statements (a reminder run queues thousands); returns
    the keys this call created (a key that existed already is left as it was)."""
    rows = [
        {
            "serial_group": catalog.serial_group(payload, company_id),
            "key": payload.key(company_id),
            "kind": payload.KIND.value,
            "priority": catalog.spec_of(payload).priority,
            "company_id": company_id,
            "payload": payload.to_json(),
            "status": EffectStatus.PENDING.value,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for payload in payloads
    ]
    dialect = session.get_bind().dialect.name
    insert_ = postgresql.insert if dialect == "postgresql" else sqlite.insert
    created: set[str] = set()
    for start in range(0, len(rows), chunk):
        stmt = (
            insert_(Effect)
            .values(rows[start : start + chunk])
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(Effect.key)
        )
        created.update(session.scalars(stmt))
    return created


def insert(
    session: Session,
    *,
    key: str,
    kind: str,
    company_id: str,
    payload: Mapping[str, Any],
    now: datetime,
    not_before: datetime | None = None,
    serial_group: str | None = None,
    priority: int = catalog.LATER,
) -> bool:
    """Record a row exactly as given unless its key exists (tests, and rows of kinds this release
    does not know); stages ``enqueue`` catalog payloads instead."""
    values = {
        "serial_group": serial_group,
        "key": key,
        "kind": kind,
        "priority": priority,
        "company_id": company_id,
        "payload": dict(payload),
        "status": EffectStatus.PENDING.value,
        "attempts": 0,
        "next_attempt_at": not_before or now,
        "created_at": now,
    }
    dialect = session.get_bind().dialect.name
    insert_ = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = (
        insert_(Effect).values(**values).on_conflict_do_nothing(index_elements=["key"]).returning(Effect.id)
    )
    return session.execute(stmt).first() is not None


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


def pin(session: Session, effect: Claimed, *, owner: str, until: datetime, **changes: Any) -> None:
    """Hand an effect we hold to ``owner`` (a batch performing it) until ``until``, merging
    ``changes`` into its payload, in the caller's transaction; raises LeaseLost if we lost it."""
    row = session.scalar(select(Effect).where(_owned(effect)))
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
    row = session.scalar(select(Effect).where(_owned(effect)))
    if row is None:
        raise LeaseLost(effect.key)
    row.payload = {**dict(row.payload), **changes}
    row.lease_owner = None
    row.lease_expires_at = None
    row.next_attempt_at = at
    row.last_error = error[:2000]


def fail_in(session: Session, effect: Claimed, *, error: str, now: datetime) -> None:
    """``fail`` in the caller's transaction."""
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
            .where(_owned(effect))
            .values(next_attempt_at=at, lease_owner=None, lease_expires_at=None, last_error=error[:2000])
        )


def hold(db: Database, effect: Claimed, *, error: str, at: datetime, now: datetime) -> bool:
    """An effect that must not fail met an error it cannot outwait: keep it pending, retry at
    ``at``, and note when it was first held. True the first time (tell a person once)."""
    with db.transaction() as session:
        row = session.scalar(select(Effect).where(_owned(effect)))
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
        row = session.scalar(select(Effect).where(_owned(effect)))
        if row is None:
            raise LeaseLost(effect.key)
        payload = {**dict(row.payload), **changes}
        row.payload = payload
        return Claimed(
            effect.id, effect.key, effect.kind, effect.company_id, payload, effect.attempts, effect.owner
        )


def held(session: Session, company_id: str | None = None) -> list[Effect]:
    """Pending effects that were held back by an error (oldest first)."""
    stmt = select(Effect).where(Effect.status == EffectStatus.PENDING.value, Effect.held_at.is_not(None))
    if company_id is not None:
        stmt = stmt.where(Effect.company_id == company_id)
    return list(session.scalars(stmt.order_by(Effect.held_at, Effect.id)))


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


# How an error reads when the effect waits for a setting (a payout with no bank account in its
# currency): "... held: set company.accounts.banks.JPY to ...".
AWAITS_SETTING = "held: set "


def due_awaiting_settings(db: Database, *, now: datetime) -> int:
    """At start the configuration may have just been fixed: effects waiting for a setting are due
    now rather than at their next (hourly) try, as their staff email promises."""
    with db.transaction() as session:
        result = session.execute(
            update(Effect)
            .where(
                Effect.status == EffectStatus.PENDING.value,
                Effect.next_attempt_at > now,
                Effect.last_error.like(f"%{AWAITS_SETTING}%"),
            )
            .values(next_attempt_at=now)
        )
        return int(getattr(result, "rowcount", 0))


def requeue_failed(db: Database, *, company_id: str | None, now: datetime) -> int:
    """Put permanently failed effects back in the queue once a person fixed the cause, and make
    held ones due now rather than at their next retry."""
    with db.transaction() as session:
        stmt = update(Effect).where(Effect.status == EffectStatus.FAILED.value)
        again = update(Effect).where(Effect.status == EffectStatus.PENDING.value, Effect.held_at.is_not(None))
        if company_id is not None:
            stmt = stmt.where(Effect.company_id == company_id)
            again = again.where(Effect.company_id == company_id)
        result = session.execute(
            stmt.values(status=EffectStatus.PENDING.value, next_attempt_at=now, done_at=None)
        )
        moved = session.execute(again.where(Effect.next_attempt_at > now).values(next_attempt_at=now))
        return int(getattr(result, "rowcount", 0)) + int(getattr(moved, "rowcount", 0))


def requeue_one(db: Database, *, company_id: str, key: str, now: datetime) -> bool:
    """``requeue_failed`` for one effect of the company (failed, or held): False when it is neither."""
    with db.transaction() as session:
        effect = session.scalar(select(Effect).where(Effect.key == key, Effect.company_id == company_id))
        if effect is None:
            return False
        if effect.status == EffectStatus.FAILED.value:
            effect.status = EffectStatus.PENDING.value
            effect.done_at = None
        elif effect.status != EffectStatus.PENDING.value or effect.held_at is None:
            return False
        effect.next_attempt_at = min(effect.next_attempt_at, now)
        return True


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
