"""Reminders: due at the company's sending hour, once per step, never for a paid invoice."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from loop_harness import running_loop
from sqlalchemy import select

from syncd.stages.cycle import run_cycle
from syncd.stages.notify import _latest_step, notify
from syncd.store.models import Effect, InvoiceRow


class MovableClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_latest_step_picks_the_most_recent_due_reminder() -> None:
    due = date(2026, 11, 1)
    assert _latest_step((3, 10), due, date(2026, 11, 3)) is None
    assert _latest_step((3, 10), due, date(2026, 11, 4)) == 3
    assert _latest_step((3, 10), due, date(2026, 12, 1)) == 10


def test_reminders_wait_for_the_sending_hour_and_go_once(tmp_path: Path) -> None:
    # 06:00 in New York is before the 09:00 sending hour.
    clock = MovableClock(datetime.now(UTC).replace(hour=11, minute=0, second=0, microsecond=0))
    with running_loop(tmp_path, clock=clock, timezone="America/New_York", reminder_days=[1, 30]) as loop:
        ctx = loop.ctx
        run_cycle(ctx, loop.realm)  # the first sync settles the backlog (link_only): no email
        loop.drain()
        assert loop.sink.mailbox.all() == []
        start = clock.now.date()

        def notices() -> list[Effect]:
            with ctx.db.transaction() as s:
                return list(s.scalars(select(Effect).where(Effect.kind == "email.notice")))

        # 29 days on, backlog invoices reach steps they had not reached at the first sync.
        clock.now += timedelta(days=29)
        with ctx.db.transaction() as s:
            due = [
                r
                for r in s.scalars(select(InvoiceRow).where(InvoiceRow.status.in_(["open", "partial"])))
                if r.due_date is not None
                and (_latest_step((1, 30), r.due_date, clock.now.date()) or 0)
                > (_latest_step((1, 30), r.due_date, start) or 0)
            ]
            customers = {r.customer_id for r in due}
        assert due, "the seeded company has invoices reaching a reminder step"
        assert notify(ctx, loop.realm) == 0 and notices() == []
        clock.now = clock.now.replace(hour=15)  # 10:00 in New York
        queued = notify(ctx, loop.realm)
        assert queued == len(customers) == len(notices())
        assert notify(ctx, loop.realm) == 0  # once per step
        # A bookkeeper records a check for one of them before the reminder goes out: it is skipped.
        paid = due[0]
        loop.qbo.record_offline_payment(paid.qbo_id, paid.balance)
        run_cycle(ctx, loop.realm)
        loop.drain()
        sent = loop.sink.mailbox.all()
        assert all(paid.doc_number not in (m.text or "") for m in sent), [m.subject for m in sent]
        assert all(r.doc_number in " ".join(m.text or "" for m in sent) for r in due[1:])
