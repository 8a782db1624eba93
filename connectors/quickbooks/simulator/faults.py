"""Faults on demand: 5xx share, hangs past the client timeout, forced throttling, 401s and stale objects."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable


class Faults:
    """Switches a test flips to make the simulator misbehave; all draws come from a seeded generator."""

    def __init__(self, seed: int = 0, expire_tokens: Callable[[], None] | None = None) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self._expire_tokens = expire_tokens
        self.error_rate = 0.0
        self.timeout_rate = 0.0
        self.timeout_seconds = 35.0  # longer than python-quickbooks' and syncd's 30 s client timeout
        self.latency_seconds = 0.0  # added to every API request; lets tests fill the 10-in-flight limit
        self._throttle = 0
        self._unauthorized = 0
        self._stale = 0
        self.generation = 0  # bumped by reset(): hung requests notice and stop hanging

    def throttle_next(self, n: int = 1) -> None:
        with self._lock:
            self._throttle += n

    def unauthorized_next(self, n: int = 1) -> None:
        with self._lock:
            self._unauthorized += n

    def stale_next(self, n: int = 1) -> None:
        with self._lock:
            self._stale += n

    def expire_access_tokens(self) -> None:
        if self._expire_tokens is not None:
            self._expire_tokens()

    def reset(self) -> None:
        with self._lock:
            self.error_rate = 0.0
            self.timeout_rate = 0.0
            self.timeout_seconds = 35.0
            self.latency_seconds = 0.0
            self._throttle = self._unauthorized = self._stale = 0
            self.generation += 1

    def _take(self, name: str) -> bool:
        with self._lock:
            left: int = getattr(self, name)
            if left <= 0:
                return False
            setattr(self, name, left - 1)
            return True

    def take_throttle(self) -> bool:
        return self._take("_throttle")

    def take_unauthorized(self) -> bool:
        return self._take("_unauthorized")

    def take_stale(self) -> bool:
        return self._take("_stale")

    def draw(self) -> str | None:
        """``"error"``, ``"timeout"`` or None for this request."""
        with self._lock:
            if self.error_rate <= 0 and self.timeout_rate <= 0:
                return None
            roll = self._rng.random()
        if roll < self.error_rate:
            return "error"
        if roll < self.error_rate + self.timeout_rate:
            return "timeout"
        return None
