"""Client-side QBO rate limits per company: 500 requests/min, 10 in flight, 40 batch calls/min."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

REQUESTS_PER_MINUTE = 500
MAX_IN_FLIGHT = 10
BATCHES_PER_MINUTE = 40


class TokenBucket:
    """A thread-safe token bucket: ``capacity`` tokens, refilled evenly over ``period`` seconds."""

    def __init__(
        self,
        capacity: int,
        period: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.capacity = float(capacity)
        self.rate = capacity / period
        self._tokens = float(capacity)
        self._clock = clock
        self._sleep = sleep
        self._stamp = clock()
        self._lock = threading.Lock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def try_take(self) -> float:
        """Take a token and return 0, or return the seconds to wait before one is available."""
        with self._lock:
            self._refill()
            if self._tokens >= 1:
                self._tokens -= 1
                return 0.0
            return (1 - self._tokens) / self.rate

    def take(self) -> None:
        """Block until a token is available, then take it."""
        while (wait := self.try_take()) > 0:
            self._sleep(wait)

    def drain(self) -> None:
        """Empty the bucket: the server said we were too fast, so stop bursting."""
        with self._lock:
            self._refill()
            self._tokens = min(self._tokens, 0.0)


@dataclass
class CompanyLimits:
    """The three QBO limits of one company, shared by every connector of that company in a process."""

    requests: TokenBucket
    batches: TokenBucket
    in_flight: threading.BoundedSemaphore

    @classmethod
    def standard(
        cls, *, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep
    ) -> CompanyLimits:
        return cls(
            requests=TokenBucket(REQUESTS_PER_MINUTE, 60.0, clock=clock, sleep=sleep),
            batches=TokenBucket(BATCHES_PER_MINUTE, 60.0, clock=clock, sleep=sleep),
            in_flight=threading.BoundedSemaphore(MAX_IN_FLIGHT),
        )

    @contextmanager
    def slot(self, *, batch: bool) -> Iterator[None]:
        """Wait for the rate budget, then hold one of the in-flight slots for one request."""
        if batch:
            self.batches.take()
        self.requests.take()
        with self.in_flight:
            yield


_registry: dict[str, CompanyLimits] = {}
_registry_lock = threading.Lock()


def limits_for(realm_id: str) -> CompanyLimits:
    """The process-wide limits of ``realm_id`` (QBO counts per company, not per connection)."""
    with _registry_lock:
        limits = _registry.get(realm_id)
        if limits is None:
            limits = _registry[realm_id] = CompanyLimits.standard()
        return limits
