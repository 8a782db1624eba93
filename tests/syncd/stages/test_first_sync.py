"""First sync over the simulators: what a newly connected company's backlog gets, per
``first_sync``; one message per customer per day; never an invoice email and a reminder at once."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from loop_harness import Loop, running_loop
from sqlalchemy import select

from syncd.stages import views
from syncd.stages.cycle import run_cycle
from syncd.stages.notify import notify
from syncd.store.models import Effect, InvoiceRow, PortalLink

# The finding: a 50-invoice company emailed 31 times in seconds on its first run.
INVOICES = 50
LINK = re.compile(r"https?://[^\s\"<>]+/i/[A-Za-z0-9_-]{32}")


class MovableClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _noon() -> MovableClock:
    return MovableClock(datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0))


def _payable(loop: Loop) -> dict[str, tuple[InvoiceRow, str | None]]:
    """Open invoices by id, with the address their email would go to."""
    with loop.ctx.db.transaction() as s:
        rows = s.scalars(select(InvoiceRow).where(InvoiceRow.status.in_(["open", "partial"]))).all()
        return {r.qbo_id: (r, views.recipient(s, r)) for r in rows}


def _link_ids(loop: Loop) -> dict[str, str]:
    """Portal URL -> invoice id, for every open invoice."""
    return {loop.ctx.links.url(loop.realm, i): i for i in _payable(loop)}


def _mailed(loop: Loop) -> list[tuple[Any, list[str]]]:
    """Every message in the sink, oldest first, with the invoice ids whose links it carries."""
    by_url = _link_ids(loop)
    out = []
    for m in reversed(loop.sink.mailbox.all()):
        ids = sorted({by_url[u] for u in LINK.findall(m.text or "") if u in by_url})
        out.append((m, ids))
    return out


def _effect_kinds(loop: Loop) -> Counter[str]:
    with loop.ctx.db.transaction() as s:
        return Counter(s.scalars(select(Effect.kind).where(Effect.kind.like("email.%"))))


def _first_cycle(loop: Loop) -> None:
    run_cycle(loop.ctx, loop.realm)
    loop.drain()


def test_link_only_publishes_every_link_and_emails_nobody(tmp_path: Path) -> None:
    clock = _noon()
    with running_loop(tmp_path, invoices=INVOICES, clock=clock, first_sync="link_only") as loop:
        _first_cycle(loop)
        payable = _payable(loop)
        assert len(payable) >= 20, "the seeded company has a backlog"
        with loop.ctx.db.transaction() as s:
            linked = set(s.scalars(select(PortalLink.invoice_id)))
        assert set(payable) <= linked  # every open invoice has its payment page
        assert loop.sink.mailbox.all() == []
        assert _effect_kinds(loop) == Counter()
        # The cycles after it send nothing either, until something new happens.
        run_cycle(loop.ctx, loop.realm)
        loop.drain()
        assert loop.sink.mailbox.all() == []


def test_email_open_sends_one_message_per_customer_covering_every_open_invoice(tmp_path: Path) -> None:
    clock = _noon()
    with running_loop(tmp_path, invoices=INVOICES, clock=clock, first_sync="email_open") as loop:
        _first_cycle(loop)
        payable = _payable(loop)
        addressed = {i for i, (_, to) in payable.items() if to}
        mailed = _mailed(loop)
        covered = Counter(i for _, ids in mailed for i in ids)
        assert set(covered) == addressed and set(covered.values()) == {1}  # each invoice once
        customers = {payable[i][0].customer_id for i in addressed}
        assert len(mailed) == len(customers) < len(addressed)  # several invoices in one message
        assert len({m.to for m, _ in mailed}) == len(mailed)  # one message per customer
        # No reminder rides along: the overdue ones are in their customer's message, once.
        overdue = [i for i in addressed if (payable[i][0].due_date or clock.now.date()) < clock.now.date()]
        assert overdue, "the seeded backlog has overdue invoices"
        assert _effect_kinds(loop) == Counter({"email.notice": len(customers)})
        # A second cycle the same day sends nothing more.
        run_cycle(loop.ctx, loop.realm)
        loop.drain()
        assert len(loop.sink.mailbox.all()) == len(mailed)


def test_email_not_overdue_leaves_the_overdue_backlog_alone(tmp_path: Path) -> None:
    clock = _noon()
    with running_loop(tmp_path, invoices=INVOICES, clock=clock, first_sync="email_not_overdue") as loop:
        _first_cycle(loop)
        today = clock.now.date()
        payable = _payable(loop)
        not_overdue = {
            i for i, (r, to) in payable.items() if to and (r.due_date is None or r.due_date >= today)
        }
        overdue = {
            i for i, (r, to) in payable.items() if to and r.due_date is not None and r.due_date < today
        }
        assert not_overdue and overdue
        covered = Counter(i for _, ids in _mailed(loop) for i in ids)
        assert set(covered) == not_overdue and set(covered.values()) == {1}
        # The reminder steps the overdue ones had already passed are not sent the next day either.
        clock.now += timedelta(days=1)
        before = len(loop.sink.mailbox.all())
        notify(loop.ctx, loop.realm)
        loop.drain()
        later = {i for m, ids in _mailed(loop)[before:] for i in ids}
        assert not later & overdue, later & overdue


def test_one_message_per_customer_per_day_the_rest_waits_for_tomorrow(tmp_path: Path) -> None:
    clock = _noon()
    with running_loop(tmp_path, invoices=INVOICES, clock=clock, first_sync="email_open") as loop:
        _first_cycle(loop)
        first = _mailed(loop)
        customer_to = first[0][0].to
        payable = _payable(loop)
        customer_id = payable[first[0][1][0]][0].customer_id
        # The same customer is billed again an hour later: their message for today went already.
        clock.now += timedelta(hours=1)
        new_id = loop.qbo.add_invoice(customer_id, due_date=clock.now.date() + timedelta(days=14))
        run_cycle(loop.ctx, loop.realm)
        loop.drain()
        assert len(loop.sink.mailbox.all()) == len(first)
        # Tomorrow it goes, in that customer's one message of the day.
        clock.now += timedelta(days=1)
        run_cycle(loop.ctx, loop.realm)
        loop.drain()
        theirs = [ids for m, ids in _mailed(loop)[len(first) :] if m.to == customer_to]
        assert len(theirs) == 1 and new_id in theirs[0]


def test_a_new_overdue_invoice_is_emailed_once_not_with_a_reminder(tmp_path: Path) -> None:
    clock = _noon()
    with running_loop(tmp_path, invoices=INVOICES, clock=clock, reminder_days=[3, 10]) as loop:
        _first_cycle(loop)  # link_only: the backlog is settled silently
        # A bookkeeper enters an old, 12-day overdue invoice after the first sync.
        late = loop.qbo.add_invoice(due_date=clock.now.date() - timedelta(days=12), email="late@example.org")
        run_cycle(loop.ctx, loop.realm)
        loop.drain()
        mailed = _mailed(loop)
        assert [ids for _, ids in mailed] == [[late]]
        assert mailed[0][0].subject.startswith("Invoice ")
        # Steps 3 and 10 are behind it: no reminder for them, today or in the next days.
        for _ in range(5):
            clock.now += timedelta(days=1)
            notify(loop.ctx, loop.realm)
            loop.drain()
        assert [m.to for m, ids in _mailed(loop) if late in ids] == ["late@example.org"]
        with loop.ctx.db.transaction() as s:
            link = s.scalars(select(PortalLink).where(PortalLink.invoice_id == late)).one()
            assert link.reminded_step == 10


def test_replanning_after_a_crash_and_resending_keep_one_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plan and its link marks commit together; a send whose completion is lost is resent
    under the same key and Message-ID."""
    from syncd.store import effects as ledger

    clock = _noon()
    with running_loop(tmp_path, invoices=INVOICES, clock=clock, first_sync="email_open") as loop:
        run_cycle(loop.ctx, loop.realm)
        queued = _effect_kinds(loop)["email.notice"]
        assert queued and notify(loop.ctx, loop.realm) == 0  # planned again: nothing new
        real = ledger.complete
        lost: list[str] = []

        def crash_once(session: Any, effect: Any, **kw: Any) -> None:
            if not lost and effect.kind == "email.notice":
                lost.append(effect.key)
                raise RuntimeError("killed after the SMTP server accepted")
            real(session, effect, **kw)

        monkeypatch.setattr(ledger, "complete", crash_once)
        loop.drain()
        clock.now += timedelta(minutes=30)  # past the retry backoff
        loop.drain()
        ids = Counter(m.message_id for m in loop.sink.mailbox.all())
        assert len(ids) == queued  # the resend carries the first attempt's Message-ID
        assert sorted(ids.values()) == [1] * (queued - 1) + [2]


def test_backlog_steps_are_skipped_and_later_steps_remind(tmp_path: Path) -> None:
    clock = _noon()
    with running_loop(tmp_path, invoices=INVOICES, clock=clock, reminder_days=[1, 30]) as loop:
        _first_cycle(loop)
        start = clock.now.date()
        clock.now += timedelta(days=31)
        notify(loop.ctx, loop.realm)
        loop.drain()
        payable = _payable(loop)
        due_30 = {
            i
            for i, (r, to) in payable.items()
            if to
            and r.due_date is not None
            and start - timedelta(days=30) < r.due_date <= start - timedelta(days=1)
        }
        assert due_30, "some backlog invoices were overdue but not yet 30 days"
        covered = Counter(i for _, ids in _mailed(loop) for i in ids)
        assert due_30 <= set(covered) and set(covered.values()) == {1}


def test_with_notify_new_invoices_off_the_backlog_is_never_emailed(tmp_path: Path) -> None:
    clock = _noon()
    with running_loop(
        tmp_path, invoices=INVOICES, clock=clock, first_sync="email_open", notify_new_invoices=False
    ) as loop:
        _first_cycle(loop)
        assert loop.sink.mailbox.all() == []  # not even reminders for the overdue ones
