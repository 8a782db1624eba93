"""The worker's error policy for effects that must not fail (a charge Stripe took): held, retried,
staff told once — where any other kind fails for good."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy.orm import Session

from syncd.context import Context
from syncd.errors import PermanentError, TransientError
from syncd.store import effects
from syncd.store.effects import Claimed
from syncd.store.engine import Database
from syncd.worker import HOLD_AFTER, MAX_TRANSIENT_ATTEMPTS, Done, Performer, perform

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
told: list[str] = []
errors: dict[str, Exception] = {}


def _raise(ctx: Context, effect: Claimed) -> Done:
    raise errors[effect.key]


def _tell(ctx: Context, session: Session, effect: Claimed, error: str) -> None:
    told.append(f"{effect.key}: {error}")


TABLE = {"test.must_book": Performer(_raise, on_held=_tell), "test.may_fail": Performer(_raise)}


def _ctx(db: Database, now: list[datetime]) -> Context:
    unused = cast(Any, None)
    return Context(
        settings=unused,
        db=db,
        box=unused,
        qbo_factory=unused,
        stripe=unused,
        mailer=unused,
        clock=lambda: now[0],
    )


def _attempt(ctx: Context, db: Database, key: str, error: Exception) -> None:
    errors[key] = error
    claimed = effects.claim_key(db, key, owner="w", now=ctx.clock())
    assert claimed is not None, f"{key} is not due"
    perform(ctx, claimed, TABLE)


def test_a_must_succeed_effect_is_held_where_another_fails_and_staff_are_told_once(
    sqlite_db: Database,
) -> None:
    now = [T0]
    ctx = _ctx(sqlite_db, now)
    told.clear()
    with sqlite_db.transaction() as s:
        effects.insert(s, key="must", kind="test.must_book", company_id="c1", payload={}, now=T0)
        effects.insert(s, key="may", kind="test.may_fail", company_id="c1", payload={}, now=T0)
    _attempt(ctx, sqlite_db, "may", PermanentError("QBO 6000 closed books"))
    for _ in range(3):
        _attempt(ctx, sqlite_db, "must", PermanentError("QBO 2500 Invalid Reference Id : Account 9"))
        now[0] += timedelta(hours=1)
    with sqlite_db.transaction() as s:
        must, may = effects.get(s, "must"), effects.get(s, "may")
        assert may is not None and may.status == "failed"
        assert must is not None and must.status == "pending" and must.held_at == T0
        assert must.next_attempt_at <= T0 + timedelta(hours=3)  # retried on its own
    assert told == ["must: QBO 2500 Invalid Reference Id : Account 9"]


def test_a_must_succeed_effect_outlasts_any_number_of_transient_failures(sqlite_db: Database) -> None:
    now = [T0]
    ctx = _ctx(sqlite_db, now)
    told.clear()
    with sqlite_db.transaction() as s:
        effects.insert(s, key="down", kind="test.must_book", company_id="c1", payload={}, now=T0)
    for attempt in range(1, MAX_TRANSIENT_ATTEMPTS + 3):
        _attempt(ctx, sqlite_db, "down", TransientError("QBO HTTP 503"))
        with sqlite_db.transaction() as s:
            row = effects.get(s, "down")
            assert row is not None and row.status == "pending"
            assert (row.held_at is not None) == (attempt >= HOLD_AFTER)
            now[0] = row.next_attempt_at
    assert told == ["down: QBO HTTP 503"]
