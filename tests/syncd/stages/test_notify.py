"""Reminders: due at the company's sending hour, once per step, never for a paid invoice."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from loop_harness import running_loop
from sqlalchemy import select

from syncd.domain.reviews import EntryChange, ReviewStatus
from syncd.stages.cycle import run_cycle
from syncd.stages.notify import _latest_step, notify
from syncd.store.models import Effect, EntryReview, InvoiceRow


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
        run_cycle(ctx, loop.realm)
        loop.drain()

        def reminders() -> list[Effect]:
            with ctx.db.transaction() as s:
                return list(s.scalars(select(Effect).where(Effect.kind == "email.reminder")))

        with ctx.db.transaction() as s:
            overdue = [
                r
                for r in s.scalars(select(InvoiceRow).where(InvoiceRow.status.in_(["open", "partial"])))
                if r.due_date is not None and r.due_date <= clock.now.date() - timedelta(days=1)
            ]
        assert overdue, "the seeded company has overdue invoices"
        assert notify(ctx, loop.realm) == 0 and reminders() == []
        clock.now = clock.now.replace(hour=15)  # 10:00 in New York
        queued = notify(ctx, loop.realm)
        assert queued == len(overdue) == len(reminders())
        assert notify(ctx, loop.realm) == 0  # once per step
        # A bookkeeper records a check for one of them before the reminder goes out: it is skipped.
        paid = overdue[0]
        loop.qbo.record_offline_payment(paid.qbo_id, paid.balance)
        run_cycle(ctx, loop.realm)
        before = {m.message_id for m in loop.sink.mailbox.all()}
        loop.drain()
        sent = [m for m in loop.sink.mailbox.all() if m.message_id not in before]
        assert len(sent) == len(overdue) - 1
        assert all(paid.doc_number not in m.subject for m in sent), (
            paid.doc_number,
            [m.subject for m in sent],
        )


def test_no_reminder_for_an_invoice_held_for_review(tmp_path: Path) -> None:
    clock = MovableClock(datetime.now(UTC).replace(hour=11, minute=0, second=0, microsecond=0))
    with running_loop(tmp_path, clock=clock, timezone="America/New_York", reminder_days=[1]) as loop:
        ctx = loop.ctx
        run_cycle(ctx, loop.realm)
        with ctx.db.transaction() as s:
            overdue = [
                r
                for r in s.scalars(select(InvoiceRow).where(InvoiceRow.status.in_(["open", "partial"])))
                if r.due_date is not None and r.due_date <= clock.now.date() - timedelta(days=1)
            ]
            assert len(overdue) >= 2, "the seeded company has overdue invoices"
            held = overdue[0].qbo_id
            s.add(
                EntryReview(
                    company_id=loop.realm,
                    qbo_payment_id="901",
                    payment_key="pay:held",
                    payment_intent_id="pi_held",
                    invoice_ids=[held],
                    amount=Decimal("10.00"),
                    currency="USD",
                    change=EntryChange.DELETED.value,
                    detail="deleted in QuickBooks",
                    status=ReviewStatus.OPEN.value,
                    detected_at=clock.now,
                    resolved_at=None,
                )
            )
        clock.now = clock.now.replace(hour=15)  # the sending hour in New York
        assert notify(ctx, loop.realm) == len(overdue) - 1
        with ctx.db.transaction() as s:
            keys = set(s.scalars(select(Effect.key).where(Effect.kind == "email.reminder")))
        assert not any(f":{held}:" in k for k in keys)
