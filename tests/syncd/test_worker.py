"""The worker's policy per outcome of a handler: retried, given up, crashed, unknown kind, paused on
an auth error; and for effects that must not fail (a charge Stripe took): held, retried, staff told
once — where any other kind fails for good."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from sqlalchemy.orm import Session

from syncd.context import Context
from syncd.errors import AuthError, Credential, PermanentError, TransientError
from syncd.store import effects
from syncd.store.effects import Claimed
from syncd.store.engine import Database
from syncd.store.models import Company, Effect
from syncd.worker import AUTH_RETRY, HOLD_AFTER, MAX_TRANSIENT_ATTEMPTS, Done, Performer, perform, run_effects

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
REALM = "c1"


class Script:
    """Handlers that raise (or not) what each test sets per key; held hooks recorded."""

    def __init__(self) -> None:
        self.errors: dict[str, BaseException] = {}
        self.performed: list[str] = []
        self.told: list[str] = []

    def handle(self, ctx: Context, effect: Claimed) -> Done:
        self.performed.append(effect.key)
        error = self.errors.get(effect.key)
        if error is not None:
            raise error
        return Done(remote_id=f"remote:{effect.key}")

    def tell(self, ctx: Context, session: Session, effect: Claimed, error: str) -> None:
        self.told.append(f"{effect.key}: {error}")

    def table(self) -> dict[str, Performer]:
        return {
            "test.may_fail": Performer(self.handle),
            "test.must_book": Performer(self.handle, on_held=self.tell),
        }


@pytest.fixture
def script() -> Script:
    return Script()


def _ctx(db: Database, now: list[datetime]) -> Context:
    unused = cast(Any, None)
    return Context(
        settings=unused,
        db=db,
        box=unused,
        qbo_factory=unused,
        stripe=unused,
        mailer=unused,
        qbo_app=unused,
        clock=lambda: now[0],
    )


def _queue(db: Database, key: str, kind: str = "test.may_fail") -> None:
    with db.transaction() as s:
        effects.insert(s, key=key, kind=kind, company_id=REALM, payload={}, now=T0)


def _row(db: Database, key: str) -> Effect:
    with db.transaction() as s:
        row = effects.get(s, key)
        assert row is not None
        s.expunge(row)
        return row


def _attempt(ctx: Context, db: Database, key: str, table: dict[str, Performer]) -> None:
    claimed = effects.claim_key(db, key, owner="w", now=ctx.clock())
    assert claimed is not None, f"{key} is not due"
    perform(ctx, claimed, table)


def test_a_transient_error_is_retried_until_the_limit_then_given_up(
    sqlite_db: Database, script: Script
) -> None:
    now = [T0]
    ctx = _ctx(sqlite_db, now)
    _queue(sqlite_db, "flaky")
    script.errors["flaky"] = TransientError("HTTP 503")
    for attempt in range(1, MAX_TRANSIENT_ATTEMPTS + 1):
        _attempt(ctx, sqlite_db, "flaky", script.table())
        row = _row(sqlite_db, "flaky")
        if attempt < MAX_TRANSIENT_ATTEMPTS:
            assert row.status == "pending" and row.last_error == "HTTP 503"
            assert row.next_attempt_at > now[0]  # backed off, not due at once
            now[0] = row.next_attempt_at
    assert row.status == "failed"
    assert row.last_error == f"gave up after {MAX_TRANSIENT_ATTEMPTS} attempts: HTTP 503"
    assert script.told == []


def test_a_crashing_handler_is_recorded_and_the_others_still_run(sqlite_db: Database, script: Script) -> None:
    now = [T0]
    ctx = _ctx(sqlite_db, now)
    for key in ("before", "crash", "after"):
        _queue(sqlite_db, key)
    script.errors["crash"] = ZeroDivisionError("a bug")
    assert run_effects(ctx, owner="w", parallel=1, table=script.table()) == 3
    assert script.performed == ["before", "crash", "after"]
    crashed = _row(sqlite_db, "crash")
    assert crashed.status == "pending" and crashed.last_error == "ZeroDivisionError: a bug"
    assert crashed.next_attempt_at > T0 and crashed.lease_owner is None
    for key in ("before", "after"):
        row = _row(sqlite_db, key)
        assert row.status == "done" and row.remote_id == f"remote:{key}"


def test_an_unknown_kind_fails_for_good_without_stopping_the_others(
    sqlite_db: Database, script: Script
) -> None:
    ctx = _ctx(sqlite_db, [T0])
    _queue(sqlite_db, "orphan", kind="test.nobody")
    _queue(sqlite_db, "known")
    assert run_effects(ctx, owner="w", parallel=1, table=script.table()) == 2
    orphan = _row(sqlite_db, "orphan")
    assert orphan.status == "failed" and orphan.last_error == "no handler for effect kind 'test.nobody'"
    assert _row(sqlite_db, "known").status == "done"


def test_an_unknown_kind_fails_with_the_catalog_table_too(sqlite_db: Database) -> None:
    ctx = _ctx(sqlite_db, [T0])
    _queue(sqlite_db, "orphan", kind="qbo.not_a_kind")
    assert run_effects(ctx, owner="w", parallel=1) == 1
    assert _row(sqlite_db, "orphan").status == "failed"


def _fail(ctx: Context, db: Database, script: Script, key: str, error: Exception) -> None:
    script.errors[key] = error
    _attempt(ctx, db, key, script.table())


def _company(db: Database) -> None:
    with db.transaction() as s:
        s.add(Company(realm_id=REALM, name="Acme", created_at=T0))


def test_an_auth_error_pauses_the_company_and_the_effect_waits(sqlite_db: Database, script: Script) -> None:
    now = [T0]
    ctx = _ctx(sqlite_db, now)
    _company(sqlite_db)
    _queue(sqlite_db, "write")
    script.errors["write"] = AuthError("QBO refused the token", credential=Credential.QBO_CONNECTION)
    _attempt(ctx, sqlite_db, "write", script.table())
    row = _row(sqlite_db, "write")
    assert row.status == "pending" and row.held_at is None
    assert row.next_attempt_at == T0 + AUTH_RETRY
    with sqlite_db.transaction() as s:
        company = s.get(Company, REALM)
        assert company is not None and company.status == "reconnect_needed"
        assert company.status_reason == "QBO refused the token"
        alerts = [e.key for e in s.query(Effect).filter(Effect.kind == "email.staff")]
    assert alerts == [f"email:staff:paused:{REALM}:quickbooks.connection:{T0.date().isoformat()}"]


def test_a_must_not_fail_kind_is_held_on_auth_and_permanent_errors_and_staff_told_once(
    sqlite_db: Database, script: Script
) -> None:
    now = [T0]
    ctx = _ctx(sqlite_db, now)
    _company(sqlite_db)
    _queue(sqlite_db, "charge", kind="test.must_book")
    _queue(sqlite_db, "other", kind="test.may_fail")
    script.errors["charge"] = AuthError("QBO refused the token", credential=Credential.QBO_CONNECTION)
    script.errors["other"] = PermanentError("QBO 6000 closed books")
    _attempt(ctx, sqlite_db, "charge", script.table())
    _attempt(ctx, sqlite_db, "other", script.table())
    assert _row(sqlite_db, "other").status == "failed"
    held = _row(sqlite_db, "charge")
    assert held.status == "pending" and held.held_at == T0
    now[0] = held.next_attempt_at
    script.errors["charge"] = PermanentError("QBO 2500 Invalid Reference Id")
    _attempt(ctx, sqlite_db, "charge", script.table())
    again = _row(sqlite_db, "charge")
    assert (
        again.status == "pending"
        and again.held_at == T0
        and again.last_error == "QBO 2500 Invalid Reference Id"
    )
    assert script.told == ["charge: QBO refused the token"]
    with sqlite_db.transaction() as s:
        assert [e.key for e in effects.held(s)] == ["charge"]


def test_a_must_succeed_effect_is_held_where_another_fails_and_staff_are_told_once(
    sqlite_db: Database, script: Script
) -> None:
    now = [T0]
    ctx = _ctx(sqlite_db, now)
    with sqlite_db.transaction() as s:
        effects.insert(s, key="must", kind="test.must_book", company_id="c1", payload={}, now=T0)
        effects.insert(s, key="may", kind="test.may_fail", company_id="c1", payload={}, now=T0)
    _fail(ctx, sqlite_db, script, "may", PermanentError("QBO 6000 closed books"))
    for _ in range(3):
        _fail(ctx, sqlite_db, script, "must", PermanentError("QBO 2500 Invalid Reference Id : Account 9"))
        now[0] += timedelta(hours=1)
    with sqlite_db.transaction() as s:
        must, may = effects.get(s, "must"), effects.get(s, "may")
        assert may is not None and may.status == "failed"
        assert must is not None and must.status == "pending" and must.held_at == T0
        assert must.next_attempt_at <= T0 + timedelta(hours=3)  # retried on its own
    assert script.told == ["must: QBO 2500 Invalid Reference Id : Account 9"]


def test_a_must_succeed_effect_outlasts_any_number_of_transient_failures(
    sqlite_db: Database, script: Script
) -> None:
    now = [T0]
    ctx = _ctx(sqlite_db, now)
    with sqlite_db.transaction() as s:
        effects.insert(s, key="down", kind="test.must_book", company_id="c1", payload={}, now=T0)
    for attempt in range(1, MAX_TRANSIENT_ATTEMPTS + 3):
        _fail(ctx, sqlite_db, script, "down", TransientError("QBO HTTP 503"))
        with sqlite_db.transaction() as s:
            row = effects.get(s, "down")
            assert row is not None and row.status == "pending"
            assert (row.held_at is not None) == (attempt >= HOLD_AFTER)
            now[0] = row.next_attempt_at
    assert script.told == ["down: QBO HTTP 503"]
