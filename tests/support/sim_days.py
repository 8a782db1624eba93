"""One simulated timeline for ``syncd run`` end-to-end tests: the daemon's clock (through
``SYNCD_SIMULATED_CLOCK_FILE``), the QBO simulator's and the Stripe simulator's moved together by
whole days, the world built on it, and a wait for a full company cycle after a move."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from world import World

from connectors.email.sink import SmtpSink
from connectors.quickbooks.simulator import QboSimulator
from connectors.quickbooks.simulator.wire import COMPANY_TZ
from connectors.stripe.simulator import StripeSimulator


class Days:
    """The clock of QBO, Stripe and the daemon: 10:00 company time on day 0, moved by whole days.
    Day ``today`` is the real date, so the Stripe simulator's signed events on that day are near
    real time (Stripe's SDK checks their age, never their youth, against the real clock)."""

    def __init__(self, path: Path, *, today: int = 0) -> None:
        self.path = path
        local_today = datetime.now(COMPANY_TZ).date() - timedelta(days=today)
        day0 = datetime(local_today.year, local_today.month, local_today.day, 10, tzinfo=COMPANY_TZ)
        self.offset = day0.astimezone(UTC) - datetime.now(UTC)
        self.day = 0
        self.stripe: StripeSimulator | None = None
        self._write()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def date(self, day: int | None = None) -> date:
        return (
            (self() + timedelta(days=(day if day is not None else self.day) - self.day))
            .astimezone(COMPANY_TZ)
            .date()
        )

    def to(self, day: int) -> None:
        self.offset += timedelta(days=day - self.day)
        self.day = day
        self._write()
        if self.stripe is not None:
            self.stripe.clock.advance(max(self() - self.stripe.clock.now(), timedelta(0)))

    def _write(self) -> None:
        part = self.path.with_suffix(".part")
        part.write_text(f"{self.offset.total_seconds():.6f}\n")
        part.replace(self.path)


@contextmanager
def world_on(days: Days, state: Path) -> Iterator[World]:
    """QBO (seed 7, no seeded invoices) and Stripe simulators on ``days``, and an SMTP sink."""
    state.mkdir(exist_ok=True)
    with (
        QboSimulator(seed=7, invoices=0, now=days) as qbo,
        StripeSimulator(now=days().replace(microsecond=0)) as stripe,
        SmtpSink() as sink,
    ):
        days.stripe = stripe
        yield World(qbo=qbo, stripe=stripe, sink=sink, state_dir=state)


def cycled(world: World, days: Days) -> None:
    """Wait for a full company cycle that began after the clock moved (pull .. reminders ..
    autopay), then for the worker to have had its turns."""
    moved = days()

    def pulled() -> datetime | None:
        at = world.company().last_pull_at
        return at if at is None or at.tzinfo else at.replace(tzinfo=UTC)

    world.wait_until(lambda: (pulled() or moved) > moved, timeout=30, what="a pull after the move")
    first = pulled()
    world.wait_until(lambda: pulled() != first, timeout=30, what="the cycle after it")
    time.sleep(1.0)
