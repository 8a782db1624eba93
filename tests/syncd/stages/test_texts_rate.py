"""A burst of texts against Twilio's limits as the simulator enforces them: API calls refused with
429 (too many at once) are retried after their Retry-After and never sent twice, and what Twilio
accepts leaves one sender no faster than its messages a second, every text once."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from loopback import wait_until
from sqlalchemy import select
from texting import REALM, T0, Texting, texting_world

from syncd.stages.texts import TextOutcome, queue_text
from syncd.store import texts as store
from syncd.store.models import CustomerRow, Effect
from syncd.store.texts import ConsentSource
from syncd.worker import run_effects

NOW = [T0]
CUSTOMERS = 12
THROTTLED = 4


@pytest.fixture
def world(tmp_path: Path) -> Iterator[Texting]:
    NOW[0] = T0
    with texting_world(tmp_path, clock=lambda: NOW[0]) as found:  # the simulator sends 10 a second
        yield found


def _phone(n: int) -> str:
    return f"+1415555{1000 + n:04d}"


def _burst(world: Texting) -> None:
    """Twelve customers with consent, each queued a reminder text (as one reminder run does)."""
    with world.ctx.db.transaction() as s:
        for n in range(CUSTOMERS):
            customer = str(100 + n)
            s.add(
                CustomerRow(
                    company_id=REALM, qbo_id=customer, display_name=f"C{n}", currency="USD", updated_at=T0
                )
            )
            s.flush()
            store.consent(
                s,
                company_id=REALM,
                customer_id=customer,
                number=_phone(n),
                source=ConsentSource.PORTAL,
                text="Text me reminders",
                now=T0,
            )
            outcome = queue_text(
                s,
                company_id=REALM,
                customer_id=customer,
                purpose="reminder",
                ref=f"burst-{n}",
                body=f"Northwind IT: invoice {n} is overdue. Pay: https://pay.example/i/{n}",
                now=T0,
            )
            assert outcome is TextOutcome.QUEUED


def _send(world: Texting) -> int:
    return run_effects(world.ctx, owner="burst", kinds=["sms.message"], parallel=4)


def test_a_burst_keeps_to_twilios_limits_and_sends_each_text_once(world: Texting) -> None:
    _burst(world)
    world.sim.throttle(THROTTLED)  # the account is over Twilio's API concurrency for a moment
    _send(world)
    with world.ctx.db.transaction() as s:
        waiting = list(
            s.scalars(select(Effect).where(Effect.kind == "sms.message", Effect.status == "pending"))
        )
    assert len(waiting) == THROTTLED
    for effect in waiting:  # each waits at least the Retry-After Twilio gave (1 s)
        assert "429" in (effect.last_error or "") and effect.next_attempt_at >= T0 + timedelta(seconds=1)
    NOW[0] = T0 + timedelta(seconds=2)
    _send(world)
    assert _send(world) == 0  # nothing left to send

    outbound = [
        m for n in range(CUSTOMERS) for m in world.sim.sent_to(_phone(n)) if m.direction == "outbound-api"
    ]
    assert sorted(m.to for m in outbound) == sorted(_phone(n) for n in range(CUSTOMERS))  # each once
    with world.ctx.db.transaction() as s:
        statuses = set(s.scalars(select(Effect.status).where(Effect.kind == "sms.message")))
    assert statuses == {"done"}

    wait_until(
        lambda: all(m.sent is not None for m in outbound), timeout=10, what="the simulator sending every text"
    )
    sent = sorted(m.sent for m in outbound if m.sent is not None)
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(sent)]
    interval = world.sim.state.interval
    assert min(gaps) >= interval * 0.9, gaps  # one sender: never faster than its rate
