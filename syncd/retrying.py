"""The one retry policy: which errors are retried, how long to wait, and a server's hint as a floor.

A bottom-layer module: it imports nothing of syncd but ``syncd.errors``, so the worker and every
connector may use it without the connectors reaching up into the daemon.

Built on tenacity rather than stamina. The transports inject their sleep and a seeded RNG so tests
record waits instead of sleeping, keep separate budgets for throttling and for failures, and must
honour ``Retry-After``; the worker needs the very same wait as a plain number to schedule a retry
it stores. tenacity takes every one of those as an argument of ``Retrying``; stamina fixes its
backoff formula and switches test mode globally.

The jitter rule, everywhere: *equal jitter* — the wait before retry ``n`` is drawn uniformly
between half and all of ``min(cap, base * 2 ** (n - 1))``. Half keeps a floor (a retry never fires
at once), the random half spreads the retries of many workers hitting one company. A server's
hint (``TransientError.retry_after``) is a floor on that wait, optionally limited by ``hint_cap``
where a caller cannot afford to block for as long as the server asks.
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

import tenacity

from syncd.errors import SyncdError, TransientError

T = TypeVar("T")

_RNG = random.Random()


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential waits with equal jitter and a cap; a server hint is a floor (see the module)."""

    base: float  # seconds: the longest first wait
    cap: float  # seconds: no computed wait is longer
    hint_cap: float | None = None  # a hint is honoured up to this; None: in full

    def ceiling(self, attempt: int) -> float:
        """The exponential step for retry ``attempt`` (1-based), before jitter."""
        # Clamp the exponent: past a thousand doublings float overflows, and the cap won long before.
        return min(self.cap, self.base * math.ldexp(1.0, min(max(attempt, 1) - 1, 1000)))

    def delay(self, attempt: int, hint: float | None = None, rng: random.Random | None = None) -> float:
        """Seconds to wait before retry ``attempt`` (1-based), honouring ``hint`` as a floor."""
        step = self.ceiling(attempt)
        wait = (rng or _RNG).uniform(step / 2, step)
        if hint is not None and hint > 0:
            wait = max(wait, hint if self.hint_cap is None else min(hint, self.hint_cap))
        return wait


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header: delta-seconds or an HTTP-date; None when absent or
    unreadable, never negative."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:  # an HTTP-date is GMT by definition
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """What to retry and how long to wait, for calls made in-process (the transports).

    ``budgets`` gives, per error class, how many retries that kind of failure may take in one
    call (the first class an error is an instance of counts); an error matching none, or one of
    ``never``, is raised at once. Every wait comes from ``backoff``, numbered per budget, with the
    error's ``retry_after`` as its floor.
    """

    backoff: Backoff
    budgets: tuple[tuple[type[SyncdError], int], ...]
    never: tuple[type[SyncdError], ...] = ()

    def budget_of(self, error: BaseException | None) -> type[SyncdError] | None:
        """The budget ``error`` draws on; None when it is not retried."""
        if not isinstance(error, SyncdError) or isinstance(error, self.never):
            return None
        for kind, _limit in self.budgets:
            if isinstance(error, kind):
                return kind
        return None

    def run(
        self,
        fn: Callable[[], T],
        *,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        before_sleep: Callable[[SyncdError], None] | None = None,
    ) -> T:
        """Call ``fn`` until it returns or raises what may not (or no longer) be retried; the
        last error is raised as it was. ``before_sleep`` sees each retried error first."""
        limits = {kind: limit for kind, limit in self.budgets}
        used: Counter[type[SyncdError]] = Counter()
        waits: list[float] = []

        def error_of(state: tenacity.RetryCallState) -> BaseException | None:
            return state.outcome.exception() if state.outcome is not None else None

        def retryable(state: tenacity.RetryCallState) -> bool:
            return self.budget_of(error_of(state)) is not None

        def count(state: tenacity.RetryCallState) -> None:
            # Runs once per failed attempt that may be retried, before both wait and stop.
            error = error_of(state)
            kind = self.budget_of(error)
            if kind is None:
                return
            used[kind] += 1
            hint = error.retry_after if isinstance(error, TransientError) else None
            waits.append(self.backoff.delay(used[kind], hint, rng))

        def stop(state: tenacity.RetryCallState) -> bool:
            kind = self.budget_of(error_of(state))
            return kind is None or used[kind] > limits[kind]

        def wait(state: tenacity.RetryCallState) -> float:
            return waits[-1]

        def announce(state: tenacity.RetryCallState) -> None:
            error = error_of(state)
            if before_sleep is not None and isinstance(error, SyncdError):
                before_sleep(error)

        retrying = tenacity.Retrying(
            sleep=sleep,
            stop=stop,
            wait=wait,
            retry=retryable,
            after=count,
            before_sleep=announce,
            reraise=True,
        )
        return retrying(fn)
