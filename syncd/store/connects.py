"""Connect attempts: ``syncd connect quickbooks`` and the running daemon meeting over the store.

Contract: the command opens an attempt under a digest of its OAuth ``state`` (the state itself
is never stored), then waits. Whoever receives the redirect ``take``s the attempt in one
transaction: only an open, unexpired attempt can be taken, and only once, so a replayed or
forged redirect finds nothing. The taker records the connected realm or the error with
``finish``; the waiting command reads it with ``outcome``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete

from syncd.store.engine import Database
from syncd.store.models import ConnectAttempt


@dataclass(frozen=True, slots=True)
class Outcome:
    finished: bool
    realm_id: str | None
    error: str | None


def _digest(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def open_attempt(db: Database, state: str, *, now: datetime, ttl: timedelta) -> None:
    with db.transaction() as session:
        session.execute(delete(ConnectAttempt).where(ConnectAttempt.expires_at < now))
        session.add(ConnectAttempt(state_hash=_digest(state), created_at=now, expires_at=now + ttl))


def take(db: Database, state: str, *, now: datetime) -> bool:
    """Claim the attempt for this redirect; False when there is none open for ``state``."""
    with db.transaction() as session:
        row = session.get(ConnectAttempt, _digest(state), with_for_update=True)
        if row is None or row.expires_at < now or row.finished_at is not None:
            return False
        row.finished_at = now
        return True


def finish(db: Database, state: str, *, realm_id: str | None, error: str | None) -> None:
    """Record what came of a taken attempt: the realm now connected, or why not."""
    with db.transaction() as session:
        row = session.get(ConnectAttempt, _digest(state))
        if row is not None:
            row.realm_id = realm_id
            row.error = error


def outcome(db: Database, state: str) -> Outcome:
    """Finished means a realm or an error was recorded (taken but still exchanging: not yet)."""
    with db.transaction() as session:
        row = session.get(ConnectAttempt, _digest(state))
        if row is None:
            return Outcome(finished=True, realm_id=None, error="the connect attempt is gone")
        done = row.realm_id is not None or row.error is not None
        return Outcome(finished=done, realm_id=row.realm_id, error=row.error)


def close(db: Database, state: str) -> None:
    with db.transaction() as session:
        session.execute(delete(ConnectAttempt).where(ConnectAttempt.state_hash == _digest(state)))
