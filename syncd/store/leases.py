"""Named leases with an expiry: one owner per company, one refresher per token chain; and requests
left for whoever holds a lease.

A lease is taken by an atomic insert-or-steal-if-expired, renewed by its owner, and lapses on its
own when the owner dies, so no crash leaves a company orphaned for longer than the lease. A
request (``request``/``take_requests``) is a row of its own beside the lease, named
``request:<what>``, that the holder takes; it lapses too, since the holder acts on its own schedule
anyway and a takeover starts with a pull.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from syncd.store.engine import Database
from syncd.store.models import Lease

REQUEST = "request:"


@dataclass(frozen=True, slots=True)
class Taken:
    """What ``take`` did: ``owned`` the lease now, and from whom it lapsed (None: free or ours)."""

    owned: bool
    lapsed_from: str | None = None


def take(db: Database, name: str, owner: str, *, now: datetime, seconds: float) -> Taken:
    """Take or renew ``name`` for ``owner``; not owned when someone else holds a live lease."""
    expires = now + timedelta(seconds=seconds)
    with db.transaction() as session:
        before = session.scalar(select(Lease.owner).where(Lease.name == name))
        result = session.execute(
            update(Lease)
            .where(Lease.name == name, (Lease.owner == owner) | (Lease.expires_at < now))
            .values(owner=owner, expires_at=expires)
        )
        if getattr(result, "rowcount", 0):
            return Taken(True, before if before is not None and before != owner else None)
        if before is not None or session.scalar(select(Lease.name).where(Lease.name == name)) is not None:
            return Taken(False)
    try:
        with db.transaction() as session:
            session.add(Lease(name=name, owner=owner, expires_at=expires))
        return Taken(True)
    except IntegrityError:
        return Taken(False)


def acquire(db: Database, name: str, owner: str, *, now: datetime, seconds: float) -> bool:
    """Take or renew ``name`` for ``owner``; False when someone else holds a live lease."""
    return take(db, name, owner, now=now, seconds=seconds).owned


def release(db: Database, name: str, owner: str) -> None:
    with db.transaction() as session:
        session.execute(delete(Lease).where(Lease.name == name, Lease.owner == owner))


def holder(db: Database, name: str, *, now: datetime) -> str | None:
    with db.transaction() as session:
        row = session.get(Lease, name)
        return row.owner if row is not None and row.expires_at >= now else None


def request(db: Database, what: str, by: str, *, now: datetime, seconds: float) -> None:
    """Ask whoever holds the lease ``what`` belongs to to do it soon (``pull:<realm>``: a replica
    that got a QBO webhook for a company another replica owns); a repeated request renews it."""
    name, expires = REQUEST + what, now + timedelta(seconds=seconds)
    with db.transaction() as session:
        result = session.execute(update(Lease).where(Lease.name == name).values(owner=by, expires_at=expires))
        if getattr(result, "rowcount", 0):
            return
    try:
        with db.transaction() as session:
            session.add(Lease(name=name, owner=by, expires_at=expires))
    except IntegrityError:
        pass  # asked by another replica at the same moment: one request is enough


def take_requests(db: Database, whats: Iterable[str], *, now: datetime) -> list[str]:
    """The live requests among ``whats``, removed with any lapsed ones (the caller acts on them)."""
    names = [REQUEST + what for what in whats]
    if not names:
        return []
    with db.transaction() as session:
        rows = session.execute(select(Lease.name, Lease.expires_at).where(Lease.name.in_(names))).all()
        if rows:
            session.execute(delete(Lease).where(Lease.name.in_([name for name, _ in rows])))
    return sorted(name.removeprefix(REQUEST) for name, expires in rows if expires >= now)
