"""The one retry policy: jitter bounds, the cap, server hints as a floor, budgets per error kind."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from syncd.errors import AuthError, StaleObjectError, ThrottledError, TransientError
from syncd.retrying import Backoff, RetryPolicy, parse_retry_after
from syncd.worker import MAX_BACKOFF, backoff

POLICY = Backoff(base=0.5, cap=60.0)


@pytest.mark.parametrize("attempt", range(1, 40))
def test_equal_jitter_stays_between_half_and_all_of_the_capped_step(attempt: int) -> None:
    rng = random.Random(attempt)
    step = min(60.0, 0.5 * 2 ** (attempt - 1))
    for _ in range(200):
        assert step / 2 <= POLICY.delay(attempt, rng=rng) <= step


def test_jitter_actually_spreads_and_is_reproducible_with_a_seed() -> None:
    waits = [POLICY.delay(6, rng=random.Random(seed)) for seed in range(50)]
    assert len(set(waits)) == 50  # not one fixed value
    assert POLICY.delay(6, rng=random.Random(7)) == POLICY.delay(6, rng=random.Random(7))


def test_huge_attempt_numbers_do_not_overflow() -> None:
    assert POLICY.ceiling(10**9) == 60.0 and POLICY.ceiling(0) == 0.5


def test_a_hint_is_a_floor_and_a_hint_cap_limits_it() -> None:
    assert POLICY.delay(1, 7.0, random.Random(1)) == 7.0
    assert 15.0 <= POLICY.delay(7, 1.0, random.Random(1)) <= 32.0  # a short hint does not shorten
    assert POLICY.delay(1, 3600.0) == 3600.0
    assert Backoff(base=0.5, cap=8.0, hint_cap=8.0).delay(1, 3600.0) == 8.0
    assert 0.25 <= POLICY.delay(1, 0.0) <= 0.5


def test_worker_backoff_uses_the_policy_and_honours_hints() -> None:
    for attempts in range(1, 30):
        step = min(MAX_BACKOFF.total_seconds(), 2.0**attempts)
        assert timedelta(seconds=step / 2) <= backoff(attempts) <= timedelta(seconds=step)
    assert backoff(1, 3600.0) == timedelta(hours=1)  # a long Retry-After is honoured in full


def test_retry_after_seconds_and_http_dates() -> None:
    now = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after("-3") == 0.0
    assert parse_retry_after("Thu, 05 Mar 2026 12:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Thu, 05 Mar 2026 11:59:00 GMT", now=now) == 0.0  # already past
    for unreadable in (None, "", "soon", "nan", "inf"):
        assert parse_retry_after(unreadable) is None


class Flaky:
    """Raises the queued errors in turn, then returns ``"ok"``."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


RUN = RetryPolicy(POLICY, budgets=((ThrottledError, 3), (TransientError, 1)), never=(StaleObjectError,))


def test_run_retries_within_each_budget_and_sleeps_the_policy_waits() -> None:
    slept: list[float] = []
    fn = Flaky(ThrottledError("429", retry_after=5.0), ThrottledError("429"), TransientError("503"))
    assert RUN.run(fn, sleep=slept.append, rng=random.Random(3)) == "ok"
    assert fn.calls == 4 and len(slept) == 3
    assert slept[0] == 5.0  # the hint
    assert 0.5 <= slept[1] <= 1.0  # second throttle retry: its own count
    assert 0.25 <= slept[2] <= 0.5  # first failure retry


def test_run_gives_up_when_a_budget_is_spent_and_raises_the_last_error() -> None:
    slept: list[float] = []
    last = TransientError("still down")
    fn = Flaky(TransientError("down"), last)
    with pytest.raises(TransientError) as raised:
        RUN.run(fn, sleep=slept.append)
    assert raised.value is last and fn.calls == 2 and len(slept) == 1


@pytest.mark.parametrize("error", [StaleObjectError("5010"), AuthError("401"), ValueError("bug")])
def test_run_never_retries_what_is_not_budgeted(error: Exception) -> None:
    slept: list[float] = []
    fn = Flaky(error)
    with pytest.raises(type(error)):
        RUN.run(fn, sleep=slept.append)
    assert fn.calls == 1 and slept == []


def test_before_sleep_sees_each_retried_error() -> None:
    seen: list[str] = []
    fn = Flaky(ThrottledError("a"), TransientError("b"))
    RUN.run(fn, sleep=lambda _s: None, before_sleep=lambda e: seen.append(str(e)))
    assert seen == ["a", "b"]
