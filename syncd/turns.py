"""Turns at a limited resource, fairest first: of the companies waiting, the one whose last turn
began longest ago (never: first of all) goes next. A plain semaphore wakes waiters in no order, so
with hundreds of companies a first sync could wait behind others' webhook-woken re-pulls for
minutes."""

from __future__ import annotations

import itertools
import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class Turns:
    """At most ``slots`` holders at once; ``turn(name)`` waits for one, fairest first."""

    def __init__(self, slots: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._free = slots
        self._clock = clock
        self._cond = threading.Condition()
        self._last: dict[str, float] = {}
        self._waiting: set[tuple[float, int]] = set()
        self._arrivals = itertools.count()

    @contextmanager
    def turn(self, name: str) -> Iterator[None]:
        with self._cond:
            # Ties (two never served, or served at once) go in order of arrival.
            ticket = (self._last.get(name, -math.inf), next(self._arrivals))
            self._waiting.add(ticket)
            try:
                self._cond.wait_for(lambda: self._free > 0 and min(self._waiting) == ticket)
            finally:
                self._waiting.discard(ticket)
            self._free -= 1
            self._last[name] = self._clock()
            self._cond.notify_all()  # the next in line may have a slot too
        try:
            yield
        finally:
            with self._cond:
                self._free += 1
                self._cond.notify_all()

    def waiting(self) -> int:
        """How many wait for a turn now."""
        with self._cond:
            return len(self._waiting)
