"""Running one SDK call: bounded backoff on 429 and translation of everything into syncd errors."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import stripe

from connectors.stripe.errors import translate
from syncd.errors import ThrottledError
from syncd.retrying import Backoff, RetryPolicy

T = TypeVar("T")

# A call runs inside a request or an effect: Stripe's hint is honoured only up to the cap.
BACKOFF = Backoff(base=0.5, cap=8.0, hint_cap=8.0)


def backoff_delay(attempt: int, retry_after: float | None) -> float:
    """Seconds to wait before retry number ``attempt`` (1-based); Stripe's hint wins when larger."""
    return BACKOFF.delay(attempt, retry_after)


def call(fn: Callable[[], T], *, retries: int, sleep: Callable[[float], None] = time.sleep) -> T:
    """Run ``fn`` and return its result, raising only the syncd error tree.

    The SDK itself retries network errors, 409 and 5xx (``max_network_retries``) but not 429,
    which Stripe asks clients to back off from; every call syncd makes is a read or carries an
    Idempotency-Key, so repeating it is safe. Card declines are never repeated.
    """

    def attempt() -> T:
        try:
            return fn()
        except stripe.StripeError as exc:
            raise translate(exc) from exc

    return RetryPolicy(BACKOFF, budgets=((ThrottledError, retries),)).run(attempt, sleep=sleep)
