"""Webhook inbox: raw bodies stored before answering 2xx, deduplicated by (source, event id)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from syncd import links
from syncd.store.engine import Database
from syncd.store.models import InboxEvent


@dataclass(frozen=True, slots=True)
class InboxItem:
    id: int
    source: str
    event_id: str
    company_id: str | None
    event_type: str
    payload: bytes
    attempts: int


def store(
    session: Session,
    *,
    source: str,
    event_id: str,
    event_type: str,
    payload: bytes,
    now: datetime,
    company_id: str | None = None,
) -> bool:
    """Keep the event unless it is a duplicate delivery; True when it is new. Payable link tokens
    (a Checkout Session's return URLs) are taken out of the body first."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = (
        insert(InboxEvent)
        .values(
            source=source,
            event_id=event_id,
            event_type=event_type,
            payload=links.scrub_bytes(payload),
            received_at=now,
            company_id=company_id,
            attempts=0,
        )
        .on_conflict_do_nothing(index_elements=["source", "event_id"])
        .returning(InboxEvent.id)
    )
    return session.execute(stmt).first() is not None


def pending(db: Database, *, source: str, limit: int = 100, max_attempts: int = 20) -> list[InboxItem]:
    """Unprocessed events in arrival order (events that kept failing are left for a person)."""
    with db.transaction() as session:
        rows = session.scalars(
            select(InboxEvent)
            .where(
                InboxEvent.source == source,
                InboxEvent.processed_at.is_(None),
                InboxEvent.attempts < max_attempts,
            )
            .order_by(InboxEvent.id)
            .limit(limit)
        )
        return [
            InboxItem(r.id, r.source, r.event_id, r.company_id, r.event_type, r.payload, r.attempts)
            for r in rows
        ]


def mark_processed(session: Session, item_id: int, *, now: datetime) -> None:
    session.execute(update(InboxEvent).where(InboxEvent.id == item_id).values(processed_at=now, error=None))


def mark_failed(db: Database, item_id: int, *, error: str) -> None:
    with db.transaction() as session:
        session.execute(
            update(InboxEvent)
            .where(InboxEvent.id == item_id)
            .values(attempts=InboxEvent.attempts + 1, error=error[:2000])
        )


def has_event(session: Session, source: str, event_id: str) -> bool:
    found = session.scalar(
        select(InboxEvent.id).where(InboxEvent.source == source, InboxEvent.event_id == event_id)
    )
    return found is not None


def mark_event_processed(session: Session, source: str, event_id: str, *, now: datetime) -> None:
    session.execute(
        update(InboxEvent)
        .where(InboxEvent.source == source, InboxEvent.event_id == event_id)
        .values(processed_at=now)
    )
