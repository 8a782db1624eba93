"""Fault injection for API requests: a share of simulated 500s and throttling of the next calls."""

from __future__ import annotations

import random
import threading

from connectors.stripe.simulator.errors import ApiError, rate_limited, server_error


class Faults:
    """``error_rate`` is the share of API requests answered 500 before doing anything;
    ``throttle_next(n)`` answers the next ``n`` with 429 ``rate_limit``."""

    def __init__(self, seed: int | None = None) -> None:
        self.error_rate = 0.0
        self._throttle = 0
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    def throttle_next(self, n: int) -> None:
        with self._lock:
            self._throttle += n

    def reset(self) -> None:
        with self._lock:
            self.error_rate = 0.0
            self._throttle = 0

    def pick(self) -> ApiError | None:
        with self._lock:
            if self._throttle > 0:
                self._throttle -= 1
                return rate_limited()
            if self.error_rate > 0 and self._random.random() < self.error_rate:
                return server_error()
        return None
