"""Client-side QBO rate limits per company: 500 requests/min, 10 in flight, 40 batch calls/min."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Protocol

from syncd.ports.quickbooks import BATCHES_PER_MINUTE, BULK_RESERVE_BATCHES, WINDOW_SECONDS

REQUESTS_PER_MINUTE = 500
MAX_IN_FLIGHT = 10
# Bulk work (link write-backs, pulls) leaves this much of each window to money effects.
BULK_RESERVE_REQUESTS = 100
# Money requests (see ``syncd.ports.quickbooks.money_first``) sent in the last PACE_SECONDS set the
# pace the rest of the window is kept at for them: a burst of payments is not left to wait a
# minute behind the fees, pulls and write-backs it set off, which go once money is quiet again.
PACE_SECONDS = 10.0


class BudgetBusy(Exception):
    """The budget will not free up within the caller's patience: do the work later instead."""

    def __init__(self, wait: float) -> None:
        super().__init__(f"QBO request budget busy for {wait:.1f} s")
        self.wait = wait


class Window(Protocol):
    """A rate budget: ``acquire`` blocks until a request may go, ``done`` says its answer came back."""

    def acquire(self, *, reserve: int = 0, patience: float | None = None, money: bool = False) -> int: ...

    def done(self, ticket: int) -> None: ...

    def drain(self) -> None: ...


class SlidingWindow:
    """At most ``limit`` requests in any ``period`` seconds, as QBO counts them (a sliding window).

    A request counts from when it is sent until ``period`` after its answer came back: QBO stamps
    it on arrival, somewhere in between, so two requests ``period`` apart by this count are at
    least ``period`` apart by QBO's too, whatever the network did. No initial burst beyond
    ``limit``: a token bucket's "full bucket plus refill" overruns such a window in its first minute.
    """

    def __init__(
        self,
        limit: int,
        period: float = WINDOW_SECONDS,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        margin: float = 0.25,
    ) -> None:
        self.limit = limit
        self.period = period
        self._clock = clock
        self._sleep = sleep
        self._margin = margin
        self._lock = threading.Lock()
        self._stamps: dict[int, float] = {}  # ticket -> answer time (inf while in flight)
        self._money: dict[int, float] = {}  # money tickets -> when they were sent
        self._next = 0
        self._hold_until = 0.0

    def _wait(self, now: float, reserve: int, money: bool = False) -> float:
        floor = now - self.period - self._margin
        for ticket in [t for t, stamp in self._stamps.items() if stamp <= floor]:
            del self._stamps[ticket]
            self._money.pop(ticket, None)
        recent = [sent for sent in self._money.values() if sent > now - PACE_SECONDS]
        if money or not recent:
            return self._slot_wait(now, floor, reserve)
        # What money will use of the rest of the window at its recent pace; that pace is looked
        # at again when its oldest request leaves the last PACE_SECONDS.
        pace = math.ceil(len(recent) * self.period / PACE_SECONDS)
        wait = self._slot_wait(now, floor, reserve + pace)
        return min(wait, max(0.01, min(recent) + PACE_SECONDS - now)) if wait > 0 else 0.0

    def _slot_wait(self, now: float, floor: float, reserve: int) -> float:
        if now < self._hold_until:
            return self._hold_until - now
        if len(self._stamps) < max(1, self.limit - reserve):
            return 0.0
        finished = sorted(stamp for stamp in self._stamps.values() if not math.isinf(stamp))
        excess = len(self._stamps) - max(1, self.limit - reserve)
        if excess < len(finished):
            return max(0.01, finished[excess] - floor)
        return 0.05  # everything counted is still in flight: its answer frees the first slot

    def try_acquire(self, *, reserve: int = 0, money: bool = False) -> int | float:
        """A ticket (an int), or the seconds to wait (a float) before trying again. Other work
        also leaves ``money`` requests what they are using at their current pace."""
        with self._lock:
            now = self._clock()
            wait = self._wait(now, reserve, money)
            if wait > 0:
                return wait
            ticket = self._next
            self._next += 1
            self._stamps[ticket] = math.inf
            if money:
                self._money[ticket] = now
            return ticket

    def acquire(self, *, reserve: int = 0, patience: float | None = None, money: bool = False) -> int:
        """A ticket, once the window allows; BudgetBusy instead of waiting more than ``patience``."""
        waited = 0.0
        while True:
            got = self.try_acquire(reserve=reserve, money=money)
            if isinstance(got, int):
                return got
            if patience is not None and waited + got > patience:
                raise BudgetBusy(got)
            self._sleep(got)
            waited += got

    def done(self, ticket: int) -> None:
        with self._lock:
            if ticket in self._stamps:
                self._stamps[ticket] = self._clock()

    def in_window(self) -> int:
        with self._lock:
            self._wait(self._clock(), 0)
            return len(self._stamps)

    def drain(self) -> None:
        """QBO said 429 (someone else shares the company's budget): send nothing for a slot's time."""
        with self._lock:
            self._hold_until = max(self._hold_until, self._clock() + self.period / self.limit)


class TokenBucket:
    """A thread-safe token bucket: ``capacity`` tokens, refilled evenly over ``period`` seconds.

    Not QBO's shape (see :class:`SlidingWindow`); kept for callers that want no real limit."""

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

    def acquire(self, *, reserve: int = 0, patience: float | None = None, money: bool = False) -> int:
        self.take()
        return 0

    def done(self, ticket: int) -> None:
        return None

    def drain(self) -> None:
        """Empty the bucket: the server said we were too fast, so stop bursting."""
        with self._lock:
            self._refill()
            self._tokens = min(self._tokens, 0.0)


@dataclass
class CompanyLimits:
    """The three QBO limits of one company, shared by every connector of that company in a process:
    reads, writes and batch calls all draw on the one request window."""

    requests: Window
    batches: Window
    in_flight: threading.BoundedSemaphore

    @classmethod
    def standard(
        cls, *, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep
    ) -> CompanyLimits:
        return cls(
            requests=SlidingWindow(REQUESTS_PER_MINUTE, clock=clock, sleep=sleep),
            batches=SlidingWindow(BATCHES_PER_MINUTE, clock=clock, sleep=sleep),
            in_flight=threading.BoundedSemaphore(MAX_IN_FLIGHT),
        )

    @contextmanager
    def slot(
        self, *, batch: bool, bulk: bool = False, patience: float | None = None, money: bool = False
    ) -> Iterator[None]:
        """Wait for the rate budget, then hold one of the in-flight slots for one request.

        ``bulk`` work leaves a reserve of each window to money effects, which go first; with
        ``patience`` it raises BudgetBusy rather than wait longer (a worker is not kept blocked).
        Everything but ``money`` also leaves money what it uses at its current pace."""
        with ExitStack() as stack:
            if batch:
                reserve = BULK_RESERVE_BATCHES if bulk else 0
                ticket = self.batches.acquire(reserve=reserve, patience=patience, money=money)
                stack.callback(self.batches.done, ticket)
            reserve = BULK_RESERVE_REQUESTS if bulk else 0
            request = self.requests.acquire(reserve=reserve, patience=patience, money=money)
            stack.callback(self.requests.done, request)
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


def forget_all() -> None:
    """Start every company's budget afresh. For a process that goes on against a new QBO whose
    own windows start empty (each test's simulator); a daemon never calls it."""
    with _registry_lock:
        _registry.clear()
