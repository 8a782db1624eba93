"""QBO's per-company limits: 500 requests/min, 10 in flight, 40 batch calls/min (sliding windows)."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field

WINDOW_SECONDS = 60.0


@dataclass
class _RealmUsage:
    requests: deque[float] = field(default_factory=deque)
    batches: deque[float] = field(default_factory=deque)
    in_flight: int = 0


class Limits:
    """Admission control per realm over the simulator clock (seconds since the epoch)."""

    def __init__(self, per_minute: int = 500, concurrent: int = 10, batches_per_minute: int = 40) -> None:
        self.per_minute = per_minute
        self.concurrent = concurrent
        self.batches_per_minute = batches_per_minute
        self._lock = threading.Lock()
        self._usage: dict[str, _RealmUsage] = {}

    def admit(self, realm_id: str, now: float, *, batch: bool) -> bool:
        """Count the request in and return True, or return False (throttled) without counting it."""
        with self._lock:
            usage = self._usage.setdefault(realm_id, _RealmUsage())
            floor = now - WINDOW_SECONDS
            for window in (usage.requests, usage.batches):
                while window and window[0] <= floor:
                    window.popleft()
            if usage.in_flight >= self.concurrent or len(usage.requests) >= self.per_minute:
                return False
            if batch and len(usage.batches) >= self.batches_per_minute:
                return False
            usage.requests.append(now)
            if batch:
                usage.batches.append(now)
            usage.in_flight += 1
            return True

    def release(self, realm_id: str) -> None:
        with self._lock:
            usage = self._usage.get(realm_id)
            if usage is not None and usage.in_flight > 0:
                usage.in_flight -= 1

    def reset(self) -> None:
        with self._lock:
            for usage in self._usage.values():
                usage.requests.clear()
                usage.batches.clear()
