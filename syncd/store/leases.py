"""Named leases with an expiry: one owner per company, one refresher per token chain.

A lease is taken by an atomic insert-or-steal-if-expired, renewed by its owner, and lapses on its
own when the owner dies, so no crash leaves a company orphaned for longer than the lease.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from syncd.store.engine import Database
from syncd.store.models import Lease


def acquire(db: Database, name: str, owner: str, *, now: datetime, seconds: float) -> bool:
    """Take or renew ``name`` for ``owner``; False when someone else holds a live lease."""
    expires = now + timedelta(seconds=seconds)
    with db.transaction() as session:
        result = session.execute(
            update(Lease)
            .where(Lease.name == name, (Lease.owner == owner) | (Lease.expires_at < now))
            .values(owner=owner, expires_at=expires)
        )
        if getattr(result, "rowcount", 0):
            return True
        if session.scalar(select(Lease.name).where(Lease.name == name)) is not None:
            return False
    try:
        with db.transaction() as session:
            session.add(Lease(name=name, owner=owner, expires_at=expires))
        return True
    except IntegrityError:
        return False


def release(db: Database, name: str, owner: str) -> None:
    with db.transaction() as session:
        session.execute(delete(Lease).where(Lease.name == name, Lease.owner == owner))


def holder(db: Database, name: str, *, now: datetime) -> str | None:
    with db.transaction() as session:
        row = session.get(Lease, name)
        return row.owner if row is not None and row.expires_at >= now else None
