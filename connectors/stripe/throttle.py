"""Running one SDK call: bounded backoff on 429 and translation of everything into syncd errors."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

import stripe

from connectors.stripe.errors import translate
from syncd.errors import ThrottledError

T = TypeVar("T")

BASE_DELAY = 0.5
MAX_DELAY = 8.0


def backoff_delay(attempt: int, retry_after: float | None) -> float:
    """Seconds to wait before retry number ``attempt`` (1-based); Stripe's hint wins when larger."""
    delay = min(MAX_DELAY, BASE_DELAY * float(2 ** (attempt - 1)))
    delay *= 0.5 + random.random() / 2
    if retry_after is not None:
        delay = max(delay, min(retry_after, MAX_DELAY))
    return delay


def call(fn: Callable[[], T], *, retries: int, sleep: Callable[[float], None] = time.sleep) -> T:
    """Run ``fn`` and return its result, raising only the syncd error tree.

    The SDK itself retries network errors, 409 and 5xx (``max_network_retries``) but not 429,
    which Stripe asks clients to back off from; every call syncd makes is a read or carries an
    Idempotency-Key, so repeating it is safe. Card declines are never repeated.
    """
    attempt = 0
    while True:
        try:
            return fn()
        except stripe.StripeError as exc:
            error = translate(exc)
            if isinstance(error, ThrottledError) and attempt < retries:
                attempt += 1
                sleep(backoff_delay(attempt, error.retry_after))
                continue
            raise error from exc
