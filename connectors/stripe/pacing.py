"""Pacing of the one call syncd makes in bulk: off-session PaymentIntents of a due day. Stripe
limits each named endpoint to 25 requests a second per account (docs.stripe.com/rate-limits);
creates are spaced to ``PER_SECOND`` per account, so a day of thousands of charges goes out at
Stripe's pace instead of meeting 429s and backing off."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

PER_SECOND = 23.0  # under the endpoint's 25, leaving room for the account's other creates


class Pace:
    """Hands out send times ``1 / per_second`` apart; ``wait`` sleeps until the caller's."""

    def __init__(
        self,
        per_second: float = PER_SECOND,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.spacing = 1.0 / per_second
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next = 0.0

    def wait(self) -> None:
        with self._lock:
            now = self._clock()
            slot = max(now, self._next)
            self._next = slot + self.spacing
        if slot > now:
            self._sleep(slot - now)


_lock = threading.Lock()
_paces: dict[tuple[str, str | None], Pace] = {}


def pace_for(api_key: str, account: str | None) -> Pace:
    """The process's one pace of a Stripe account (every company's connector on it shares it)."""
    with _lock:
        return _paces.setdefault((api_key, account), Pace())
