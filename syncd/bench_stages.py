"""Where a benchmarked payment's time goes: webhook accepted → event stored → QBO Payment effect
queued → claimed (its handler starts) → QBO answered → marked done, per payment and summed up."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import select

from syncd import worker
from syncd.bench_loop import percentile
from syncd.catalog import EffectKind
from syncd.context import Context
from syncd.store import effects
from syncd.store.effects import Claimed
from syncd.store.models import Effect, PaymentRow

# The stages, in order, each named for where it ends.
STAGES = ("stored", "queued", "claimed", "answered", "done")


class HandlerClock:
    """Wraps the QBO Payment performer: when each effect's handler started and returned."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.started: dict[str, float] = {}
        self.answered: dict[str, float] = {}

    @contextmanager
    def installed(self) -> Iterator[None]:
        """The worker performs QBO Payments through this clock while the block runs."""
        table = dict(worker.performers())
        kind = EffectKind.QBO_PAYMENT.value
        real = table[kind]

        def timed(ctx: Context, effect: Claimed) -> worker.Done:
            with self._lock:
                self.started.setdefault(effect.key, time.time())
            done = real.handler(ctx, effect)
            with self._lock:
                self.answered[effect.key] = time.time()
            return done

        table[kind] = worker.Performer(timed, real.on_held, money=real.money)
        original = worker.performers
        worker.performers = lambda: table  # type: ignore[assignment]
        try:
            yield
        finally:
            worker.performers = original


def breakdown(
    ctx: Context,
    sessions: set[str],
    arrivals: dict[str, float],
    stored: dict[str, float],
    clock: HandlerClock,
) -> dict[str, Any]:
    """p50 / p95 / max seconds of each stage over the payments whose every time is known.

    ``arrivals`` and ``stored``: when the first webhook naming each checkout session reached the
    intake and when the intake had stored it."""
    with ctx.db.transaction() as session:
        rows = session.execute(
            select(PaymentRow.checkout_session_id, Effect.key, Effect.created_at, Effect.done_at)
            .join(Effect, effects.payload_text("payment_key") == PaymentRow.key)
            .where(Effect.kind == EffectKind.QBO_PAYMENT, Effect.status == "done")
        ).all()
    spans: dict[str, list[float]] = {name: [] for name in STAGES}
    for sid, key, created, done in rows:
        if sid not in sessions or done is None:
            continue
        times = (
            arrivals.get(sid),
            stored.get(sid),
            created.timestamp(),
            clock.started.get(key),
            clock.answered.get(key),
            done.timestamp(),
        )
        if any(t is None for t in times):
            continue
        known = [float(t) for t in times if t is not None]
        for name, start, end in zip(STAGES, known, known[1:], strict=False):
            spans[name].append(max(0.0, end - start))
    return {
        f"{name}_p50_p95_max": [
            round(percentile(values, 50), 3),
            round(percentile(values, 95), 3),
            round(max(values), 3),
        ]
        for name, values in spans.items()
        if values
    }
