"""Stripe's rate limiter, as published (docs.stripe.com/rate-limits): per account and per second,
a global limit (100 operations in live mode, 25 in a sandbox), a default limit per endpoint (25
requests a second for each named operation, ``POST /v1/payment_intents`` one of them) and a
stricter one for Search (20 reads a second). Off unless a test or benchmark turns it on."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

WINDOW_SECONDS = 1.0


class RateLimits:
    """Sliding one-second windows over wall time (the simulator's clock stands still between
    ``advance`` calls; rate is about real requests). ``throttled`` counts the 429s answered."""

    def __init__(
        self,
        *,
        enabled: bool = False,
        global_per_second: int = 100,
        endpoint_per_second: int = 25,
        search_per_second: int = 20,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.enabled = enabled
        self.global_per_second = global_per_second
        self.endpoint_per_second = endpoint_per_second
        self.search_per_second = search_per_second
        self.throttled = 0
        self.admitted = 0
        self.clock = clock  # wall time; a test may set its own
        self._lock = threading.Lock()
        self._windows: dict[tuple[str, str], deque[float]] = {}

    def admit(self, account: str, endpoint: str) -> bool:
        """Count the request in and return True, or count a 429 and return False."""
        if not self.enabled:
            return True
        limit = self.search_per_second if endpoint.endswith("/search") else self.endpoint_per_second
        with self._lock:
            now = self.clock()
            windows = [
                (self._window(account, "*"), self.global_per_second),
                (self._window(account, endpoint), limit),
            ]
            for window, _ in windows:
                while window and window[0] <= now - WINDOW_SECONDS:
                    window.popleft()
            if any(len(window) >= cap for window, cap in windows):
                self.throttled += 1
                return False
            for window, _ in windows:
                window.append(now)
            self.admitted += 1
            return True

    def _window(self, account: str, endpoint: str) -> deque[float]:
        return self._windows.setdefault((account, endpoint), deque())

    def reset(self) -> None:
        with self._lock:
            self._windows.clear()
            self.throttled = 0
            self.admitted = 0
