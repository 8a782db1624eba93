"""Reminders: due at the company's sending hour, once per step, never for a paid invoice."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from loop_harness import running_loop
from sqlalchemy import select

from syncd.cli.main import run
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


HOSTILE_EMAIL = "a@b.example\r\nBcc: x@evil.example"


def test_a_hostile_customer_email_fails_once_and_is_listed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """An address QBO let through with a header smuggled in is a permanent failure: not sent, not
    retried, no traceback, and ``syncd failed`` lists it on one line."""
    with running_loop(tmp_path, first_sync="email_open") as loop:
        ctx = loop.ctx
        run_cycle(ctx, loop.realm)
        with ctx.db.transaction() as s:
            effect = s.scalars(select(Effect).where(Effect.kind == "email.notice")).first()
            assert effect is not None
            # The address as the pull took it from QBO, header and all.
            effect.payload = {**effect.payload, "to": HOSTILE_EMAIL}
            key = effect.key
        loop.drain()
        with ctx.db.transaction() as s:
            failed = s.scalars(select(Effect).where(Effect.key == key)).one()
            assert failed.status == "failed" and failed.attempts == 1, (failed.status, failed.last_error)
            assert failed.last_error is not None and "\n" not in failed.last_error
            assert "recipient" in failed.last_error
        assert not [m for m in loop.sink.mailbox.all() if "evil" in " ".join(m.to)]
        assert "Traceback" not in caplog.text and "effect.crashed" not in caplog.text
        config = tmp_path / "cli.toml"
        config.write_text(
            f'secret_key = "{ctx.settings.secret_key}"\n'
            f'[database]\nurl = "{ctx.settings.database_url}"\n'
            f'[[company]]\nrealm_id = "{loop.realm}"\n'
        )
        capsys.readouterr()
        assert run(["--config", str(config), "failed"]) == 1
        out = capsys.readouterr().out
        listed = [line for line in out.splitlines() if key in line]
        assert len(listed) == 1 and "Bcc" in listed[0], out
        assert "1 failed effect(s)" in out.splitlines()[-1]


def test_no_reminder_for_an_invoice_held_for_review(tmp_path: Path) -> None:
    clock = MovableClock(datetime.now(UTC).replace(hour=11, minute=0, second=0, microsecond=0))
    with running_loop(tmp_path, clock=clock, timezone="America/New_York", reminder_days=[1, 30]) as loop:
        ctx = loop.ctx
        run_cycle(ctx, loop.realm)  # link_only: the backlog is settled without email
        start = clock.now.date()
        clock.now += timedelta(days=29)
        with ctx.db.transaction() as s:
            due = [
                r
                for r in s.scalars(select(InvoiceRow).where(InvoiceRow.status.in_(["open", "partial"])))
                if r.due_date is not None
                and (_latest_step((1, 30), r.due_date, clock.now.date()) or 0)
                > (_latest_step((1, 30), r.due_date, start) or 0)
            ]
            assert len(due) >= 2, "the seeded company has invoices reaching a reminder step"
            held = due[0].qbo_id
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
        assert notify(ctx, loop.realm) >= 1
        with ctx.db.transaction() as s:
            payloads = list(s.scalars(select(Effect.payload).where(Effect.kind == "email.notice")))
        reminded = {str(item["invoice_id"]) for p in payloads for item in p["items"]}
        assert held not in reminded
        assert {r.qbo_id for r in due[1:]} <= reminded
