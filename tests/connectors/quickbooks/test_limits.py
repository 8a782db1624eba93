"""Client-side QBO rate limits."""

from __future__ import annotations

import threading
import time

from connectors.quickbooks.limits import CompanyLimits, TokenBucket, limits_for


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_bucket_allows_the_burst_then_paces_at_the_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(500, 60.0, clock=clock, sleep=clock.sleep)
    for _ in range(500):
        bucket.take()
    assert clock.slept == []
    for _ in range(10):
        bucket.take()
    assert abs(sum(clock.slept) - 10 * 60 / 500) < 1e-6


def test_drain_stops_the_burst() -> None:
    clock = FakeClock()
    bucket = TokenBucket(40, 60.0, clock=clock, sleep=clock.sleep)
    bucket.drain()
    assert bucket.try_take() > 0


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
