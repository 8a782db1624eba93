"""The simulator's own clock: time stands still until a test advances it, and due work runs then."""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Task = Callable[[], None]


class SimClock:
    """Aware-UTC time plus a queue of work due at given instants (ACH settlement, payouts,
    availability of funds, session and idempotency-key expiry)."""

    def __init__(self, start: datetime | None, lock: threading.RLock) -> None:
        if start is None:
            start = datetime.now(UTC).replace(microsecond=0)
        if start.tzinfo is None or start.utcoffset() != timedelta(0):
            raise ValueError("the simulator clock needs an aware UTC datetime")
        self._now = start.astimezone(UTC)
        self._lock = lock
        self._queue: list[tuple[datetime, int, Task]] = []
        self._seq = itertools.count()

    def now(self) -> datetime:
        return self._now

    def timestamp(self) -> int:
        return int(self._now.timestamp())

    def schedule(self, at: datetime, task: Task) -> None:
        with self._lock:
            heapq.heappush(self._queue, (at, next(self._seq), task))

    def advance(self, delta: timedelta) -> None:
        """Move time forward, running every task that falls due, in time order, at its instant."""
        if delta < timedelta(0):
            raise ValueError("the simulator clock only moves forward")
        with self._lock:
            target = self._now + delta
            while self._queue and self._queue[0][0] <= target:
                at, _, task = heapq.heappop(self._queue)
                self._now = max(self._now, at)
                task()
            self._now = target


def add_business_days(start: datetime, days: int) -> datetime:
    """``days`` weekdays after ``start`` (bank holidays are not modelled)."""
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            remaining -= 1
    return current


def next_midnight(moment: datetime) -> datetime:
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return day + timedelta(days=1)
