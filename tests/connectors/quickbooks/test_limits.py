"""Client-side QBO rate limits."""

from __future__ import annotations

import threading
import time

import pytest
from virtual_clock import VirtualClock

from connectors.quickbooks.limits import BudgetBusy, CompanyLimits, SlidingWindow, TokenBucket, limits_for


def test_bucket_allows_the_burst_then_paces_at_the_rate() -> None:
    clock = VirtualClock()
    bucket = TokenBucket(500, 60.0, clock=clock, sleep=clock.sleep)
    for _ in range(500):
        bucket.take()
    assert clock.slept == []
    for _ in range(10):
        bucket.take()
    assert abs(sum(clock.slept) - 10 * 60 / 500) < 1e-6


def _max_in_any_window(stamps: list[float], period: float) -> int:
    stamps = sorted(stamps)
    best = start = 0
    for end, stamp in enumerate(stamps):
        while stamps[start] <= stamp - period:
            start += 1
        best = max(best, end - start + 1)
    return best


def test_the_first_minute_allows_40_batch_calls_not_40_plus_refill() -> None:
    clock = VirtualClock()
    window = SlidingWindow(40, 60.0, clock=clock, sleep=clock.sleep)
    sent: list[float] = []
    for _ in range(200):
        ticket = window.acquire()
        sent.append(clock.now)
        clock.now += 0.2  # the answer takes 200 ms
        window.done(ticket)
    assert sent[39] < 10 and sent[40] >= 60  # the 41st waits for the first to leave the window
    assert _max_in_any_window(sent, 60.0) == 40


def test_a_token_bucket_would_overrun_the_sliding_window() -> None:
    """Why the limiter is a window: QBO counted 9 throttled batch calls behind the old bucket."""
    clock = VirtualClock()
    bucket = TokenBucket(40, 60.0, clock=clock, sleep=clock.sleep)
    sent: list[float] = []
    for _ in range(100):
        bucket.take()
        sent.append(clock.now)
    assert _max_in_any_window(sent, 60.0) > 40


def test_a_request_counts_until_its_answer_came_back() -> None:
    clock = VirtualClock()
    window = SlidingWindow(2, 60.0, clock=clock, sleep=clock.sleep, margin=0.0)
    slow = window.acquire()
    fast = window.acquire()
    window.done(fast)
    clock.now = 30.0
    assert window.try_acquire() == 30.0  # the fast one leaves the window first
    clock.now = 70.0
    assert isinstance(window.try_acquire(), int)
    assert window.try_acquire() == 0.05  # the slow one is still in flight: QBO may stamp it late
    window.done(slow)
    assert window.try_acquire() == 60.0  # and it counts for 60 s from its answer


def test_bulk_work_leaves_a_reserve_to_money() -> None:
    clock = VirtualClock()
    window = SlidingWindow(10, 60.0, clock=clock, sleep=clock.sleep)
    for _ in range(8):
        window.done(window.acquire(reserve=2))
    assert isinstance(window.try_acquire(reserve=2), float)  # bulk waits
    assert isinstance(window.try_acquire(), int)  # money does not
    assert isinstance(window.try_acquire(), int)


def test_drain_holds_the_next_request_back() -> None:
    clock = VirtualClock()
    window = SlidingWindow(40, 60.0, clock=clock, sleep=clock.sleep)
    window.drain()
    assert window.try_acquire() == 60.0 / 40


def test_in_flight_never_exceeds_ten() -> None:
    limits = CompanyLimits.standard()
    active = peak = 0
    lock = threading.Lock()
    release = threading.Event()

    def work() -> None:
        nonlocal active, peak
        with limits.slot(batch=False):
            with lock:
                active += 1
                peak = max(peak, active)
            release.wait(5)
            with lock:
                active -= 1

    threads = [threading.Thread(target=work) for _ in range(25)]
    for t in threads:
        t.start()
    for _ in range(5000):
        with lock:
            if active == 10:
                break
        time.sleep(0.001)
    release.set()
    for t in threads:
        t.join()
    assert peak == 10


def test_limits_are_shared_per_company() -> None:
    assert limits_for("realm-a") is limits_for("realm-a")
    assert limits_for("realm-a") is not limits_for("realm-b")


def test_bulk_work_is_deferred_rather_than_kept_waiting() -> None:
    clock = VirtualClock()
    limits = CompanyLimits.standard(clock=clock, sleep=clock.sleep)
    for _ in range(32):
        with limits.slot(batch=True, bulk=True, patience=5.0):
            pass
    with pytest.raises(BudgetBusy) as busy, limits.slot(batch=True, bulk=True, patience=5.0):
        raise AssertionError("a bulk batch call went out beyond its share")
    assert 55 < busy.value.wait <= 61 and clock.slept == []
    with limits.slot(batch=True):  # money still has its reserve, at once
        pass
    assert clock.slept == []


def test_other_work_leaves_money_the_window_at_its_recent_pace() -> None:
    clock = VirtualClock()
    window = SlidingWindow(100, 60.0, clock=clock, sleep=clock.sleep)
    for _ in range(10):  # 10 money requests in 10 s: 60 of the window stay theirs
        window.done(window.acquire(money=True))
    for _ in range(30):
        window.done(window.acquire())
    assert window.try_acquire() == 10.0  # until the money pace is looked at again
    assert isinstance(window.try_acquire(money=True), int)
    clock.now = 10.5  # money went quiet: the others go on
    assert isinstance(window.try_acquire(), int)
