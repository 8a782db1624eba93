"""Putting effects in the queue: ``enqueue`` a catalog payload, ``enqueue_many``, ``insert`` a raw row."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from syncd import catalog
from syncd.catalog import Payload
from syncd.store.effects.rows import EffectStatus
from syncd.store.models import Effect


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
