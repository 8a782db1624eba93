"""The SQLite turn of one process: a reentrant lock handed over directly to the next waiter, the
urgent ones (a payment on its way to the books) before the rest, each kind in order of arrival."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

# Set by the work a payer or the books wait on (Stripe webhook intake, event ingest, the money
# lane): their transactions go before a first sync's, which may be hundreds queued at once.
URGENT: ContextVar[bool] = ContextVar("db_urgent", default=False)


@contextmanager
def urgent(flag: bool = True) -> Iterator[None]:
    """Transactions begun inside (in this thread) take the SQLite turn before other work."""
    token = URGENT.set(flag)
    try:
        yield
    finally:
        URGENT.reset(token)


@dataclass(eq=False)
class _Waiter:
    thread: int
    handed: threading.Event = field(default_factory=threading.Event)


class Turnstile:
    """At most one holder (reentrant for it); on release the turn goes straight to the oldest
    urgent waiter, else the oldest other one, so no waiter is woken only to find it taken."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._owner: int | None = None
        self._depth = 0
        self._urgent: deque[_Waiter] = deque()
        self._others: deque[_Waiter] = deque()

    def acquire(self, timeout: float, *, first: bool | None = None) -> bool:
        """Wait up to ``timeout`` seconds for the turn (``first``: urgent; default: ``URGENT``)."""
        me = threading.get_ident()
        with self._mutex:
            if self._owner == me:
                self._depth += 1
                return True
            if self._owner is None:
                self._owner, self._depth = me, 1
                return True
            waiter = _Waiter(me)
            (self._urgent if (URGENT.get() if first is None else first) else self._others).append(waiter)
        if waiter.handed.wait(timeout):
            return True
        with self._mutex:
            if waiter.handed.is_set():  # handed over just as the wait ran out
                return True
            for line in (self._urgent, self._others):
                if waiter in line:
                    line.remove(waiter)
        return False

    def release(self) -> None:
        with self._mutex:
            self._depth -= 1
            if self._depth > 0:
                return
            line = self._urgent or self._others
            if line:
                waiter = line.popleft()
                self._owner, self._depth = waiter.thread, 1
                waiter.handed.set()
            else:
                self._owner = None

    def waiting(self) -> tuple[int, int]:
        """How many wait: (urgent, others)."""
        with self._mutex:
            return len(self._urgent), len(self._others)
