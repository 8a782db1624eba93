"""Connect attempts on both backends: taken once while open, never after expiry, outcome readable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from syncd.store import connects
from syncd.store.engine import Database
from syncd.store.models import ConnectAttempt

T0 = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def test_an_attempt_is_taken_once_and_reports_its_realm(db: Database) -> None:
    connects.open_attempt(db, "state-a", now=T0, ttl=timedelta(minutes=10))
    assert connects.outcome(db, "state-a").finished is False
    assert connects.take(db, "state-a", now=T0 + timedelta(minutes=1))
    assert not connects.take(db, "state-a", now=T0 + timedelta(minutes=1))
    assert connects.outcome(db, "state-a").finished is False  # taken, still exchanging
    connects.finish(db, "state-a", realm_id="111", error=None)
    assert connects.outcome(db, "state-a") == connects.Outcome(finished=True, realm_id="111", error=None)
    with db.transaction() as session:
        stored = list(session.scalars(select(ConnectAttempt.state_hash)))
    assert stored and "state-a" not in stored  # only a digest is kept
    connects.close(db, "state-a")
    assert connects.outcome(db, "state-a").error == "the connect attempt is gone"


def test_expired_attempts_are_not_taken_and_are_swept(db: Database) -> None:
    connects.open_attempt(db, "old", now=T0, ttl=timedelta(minutes=10))
    assert not connects.take(db, "old", now=T0 + timedelta(minutes=11))
    assert not connects.take(db, "unknown", now=T0)
    connects.open_attempt(db, "new", now=T0 + timedelta(hours=1), ttl=timedelta(minutes=10))
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(ConnectAttempt)) == 1
