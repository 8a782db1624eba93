"""The reminder policy over the QBO simulator and the loop: steps before, on and after the due date
by email and by text, one message a customer a day, missed steps, promises, and the ladder up to a
credit hold that paying releases."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from loop_harness import Loop, running_loop
from sqlalchemy import select
from sqlalchemy.orm import Session

from syncd.config import parse
from syncd.domain.autopay import ChargeStatus
from syncd.domain.collections import Channel, ReminderStep
from syncd.domain.plans import Cadence, InstallmentStatus
from syncd.ports.texts import Text
from syncd.preview import preview, tomorrow_at
from syncd.stages import collectors, plans
from syncd.stages.cycle import run_cycle
from syncd.stages.digests import queue_digests
from syncd.stages.reminders import due_step
from syncd.store import collections, holds
from syncd.store import plans as plan_store
from syncd.store.models import AutopayCharge, AutopayEnrollment, CollectionAccount, Effect, InvoiceRow

STAFF = "staff@northwind.test"
ANA = "ana@northwind.test"
POLICY = {"policy": True, "assign": [f"{ANA} min_owed=10"], "hold_after_days": 5}
START = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)  # 10:00 in New York


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class MemoryTexts:
    """The text channel as a list: what the reminder run queued, once per ref."""

    def __init__(self, reaching: bool = True) -> None:
        self.sent: dict[str, Text] = {}
        self.reaches = reaching  # whether the customers have a number that takes texts

    def queue_texts(
        self, session: Session, *, company_id: str, texts: Sequence[Text], now: datetime
    ) -> object:
        for text in texts:
            self.sent.setdefault(text.ref, text)
        return None

    def reaching(self, session: Session, *, company_id: str, customer_ids: Collection[str]) -> set[str]:
        return set(customer_ids) if self.reaches else set()


@contextmanager
def ladder_loop(tmp_path: Path, **collections_settings: Any) -> Iterator[tuple[Loop, Clock]]:
    clock = Clock(START)
    policy = {**POLICY, **collections_settings}
    with running_loop(
        tmp_path, invoices=0, clock=clock, timezone="America/New_York", collections=policy
    ) as loop:
        run_cycle(loop.ctx, loop.realm)  # the first sync: nothing open yet
        loop.drain()
        yield loop, clock


def mails(loop: Loop) -> list[Any]:
    """The sink's messages, oldest first."""
    return list(reversed(loop.sink.mailbox.all()))


def subjects(loop: Loop, seen: int) -> list[str]:
    return [m.subject for m in mails(loop)[seen:]]


def test_due_step_sends_only_the_latest_step_missed() -> None:
    steps = [ReminderStep(d, Channel.EMAIL, "reminder_after") for d in (-3, 0, 3, 10, 30)]
    due = date(2026, 11, 10)
    assert due_step(steps, due, date(2026, 11, 6), since=date(2026, 11, 1), after=None) is None
    assert due_step(steps, due, date(2026, 11, 7), since=date(2026, 11, 1), after=None) == steps[0]
    # Down from the 7th to the 23rd: only +10 goes, not 0 and +3 as well.
    assert due_step(steps, due, date(2026, 11, 23), since=date(2026, 11, 1), after=-3) == steps[3]
    assert due_step(steps, due, date(2026, 11, 23), since=date(2026, 11, 1), after=10) is None
    # An invoice first emailed after the +3 step had passed does not get +3 afterwards.
    assert due_step(steps, due, date(2026, 11, 15), since=date(2026, 11, 14), after=None) is None


def test_a_full_ladder_for_one_customer(tmp_path: Path) -> None:
    texts = MemoryTexts()
    with ladder_loop(tmp_path) as (loop, clock):
        ctx, realm = loop.ctx, loop.realm
        due = START.date() + timedelta(days=5)
        invoice = loop.qbo.add_invoice(amount=Decimal("120.00"), due_date=due, email="ap@customer.test")
        days: dict[int, list[str]] = {}
        digests: dict[int, list[str]] = {}  # the collector's morning emails
        seen = 0

        def day(offset: int) -> list[str]:
            nonlocal seen
            clock.now = datetime.combine(due + timedelta(days=offset), START.timetz())
            run_cycle(ctx, realm, texts)
            loop.drain()
            new = mails(loop)[seen:]
            seen += len(new)
            days[offset] = [m.subject for m in new if m.to != ANA]
            digests[offset] = [m.subject for m in new if m.to == ANA]
            return days[offset]

        clock.now = START
        run_cycle(ctx, realm, texts)  # the new invoice's own email
        loop.drain()
        seen = len(loop.sink.mailbox.all())
        assert seen == 1
        with ctx.db.transaction() as s:
            customer = s.scalars(select(InvoiceRow.customer_id).where(InvoiceRow.qbo_id == invoice)).one()

        for offset in range(-4, 4):
            day(offset)
        assert days[-4] == [] and days[-2] == [] and days[-1] == [] and days[1] == [] and days[2] == []
        assert days[-3] == ["Reminder: 1 invoice from Northwind IT Services coming due"]
        assert days[0] == ["Due today: 1 invoice from Northwind IT Services"]
        assert days[3] == ["Overdue: 1 invoice from Northwind IT Services"]
        assert [t.ref.rsplit(":", 1)[1] for t in texts.sent.values()] == ["3"]  # +3 is "both"
        (text,) = texts.sent.values()
        assert text.customer_id == customer and "is overdue" in text.body and f"{loop.url}/" in text.body

        # The collector hears a promise for the 12th day: the +10 step waits for it.
        collectors.promise(
            ctx, realm, customer, on=due + timedelta(days=12), amount=Decimal("120.00"), by=ANA
        )
        for offset in range(4, 14):
            day(offset)
        assert all(days[o] == [] for o in range(4, 13)), days
        # Not paid by then: the promise is broken, staff are told and the reminder goes.
        assert sorted(days[13]) == [
            "Overdue: 1 invoice from Northwind IT Services",
            "[syncd] Northwind IT Services: Promise to pay broken",
        ]

        # The final notice hands the account to a collector by the rule.
        assert day(30) == ["Final notice: 1 unpaid invoice from Northwind IT Services"]
        with ctx.db.transaction() as s:
            account = s.get(CollectionAccount, (realm, customer))
            assert account is not None and account.collector == ANA and account.escalated_at is not None
            assert holds.active(s, realm, customer) is None
        assert day(34) == []
        assert day(35) == ["[syncd] Northwind IT Services: Customer on credit hold"]  # hold_after_days = 5
        with ctx.db.transaction() as s:
            assert holds.active(s, realm, customer) is not None
            history = [a.kind for a in collections.history(s, realm, customer)]
            assert history[:2] == ["hold", "assigned"]
        # The bookkeeper sees it on the QBO customer.
        qbo_customer = loop.qbo.entity("Customer", customer)
        assert qbo_customer is not None and "[syncd credit hold] on hold since" in str(
            qbo_customer.get("Notes")
        )

        # Paying everything overdue releases the hold on its own.
        loop.qbo.record_offline_payment(invoice, Decimal("120.00"))
        assert day(36) == []
        with ctx.db.transaction() as s:
            assert holds.active(s, realm, customer) is None
            assert collections.history(s, realm, customer)[0].body == "released: paid"
        assert "[syncd credit hold]" not in str((loop.qbo.entity("Customer", customer) or {}).get("Notes"))
        assert day(40) == []
        assert all(not sent for o, sent in digests.items() if o < 30)
        assert digests[30] == digests[34] == ["1 overdue account to follow up today at Northwind IT Services"]
        assert digests[40] == []  # paid: nothing to follow up, no digest
        with ctx.db.transaction() as s:
            keys = set(s.scalars(select(Effect.key).where(Effect.kind == "email.dunning")))
        assert {k.rsplit(":", 1)[1] for k in keys} == {"-3", "0", "3", "10", "30"}


def test_missed_steps_send_only_the_latest_and_one_message_a_day(tmp_path: Path) -> None:
    with ladder_loop(tmp_path) as (loop, clock):
        ctx, realm = loop.ctx, loop.realm
        due = START.date() + timedelta(days=1)
        first = loop.qbo.add_invoice(amount=Decimal("80.00"), due_date=due, email="ap@customer.test")
        second = loop.qbo.add_invoice(
            amount=Decimal("40.00"), due_date=due + timedelta(days=7), email="ap@customer.test"
        )
        run_cycle(ctx, realm)  # both new invoices in one message
        loop.drain()
        assert len(loop.sink.mailbox.all()) == 1
        clock.now = clock.now + timedelta(days=12)  # down for 12 days: the first is 11 days overdue
        run_cycle(ctx, realm)
        run_cycle(ctx, realm)  # again the same day: nothing more
        loop.drain()
        (message,) = mails(loop)[1:]
        assert message.subject == "Overdue: 2 invoices from Northwind IT Services"
        with ctx.db.transaction() as s:
            (effect,) = s.scalars(select(Effect).where(Effect.kind == "email.dunning"))
            docs = {r.qbo_id: r.doc_number for r in s.scalars(select(InvoiceRow))}
        assert effect.key.endswith(f":{clock.now.date().isoformat()}:10")  # +10, not 0 and +3 too
        assert effect.payload["invoice_ids"] == [first, second]
        assert all(f"Invoice {docs[i]}" in (message.text or "") for i in (first, second))


def test_disputed_invoices_and_quiet_hours_get_no_reminder(tmp_path: Path) -> None:
    with ladder_loop(tmp_path, quiet_start=9, quiet_end=12) as (loop, clock):
        ctx, realm = loop.ctx, loop.realm
        due = START.date() + timedelta(days=1)
        disputed = loop.qbo.add_invoice(amount=Decimal("80.00"), due_date=due, email="ap@customer.test")
        run_cycle(ctx, realm)
        loop.drain()
        with ctx.db.transaction() as s:
            customer = s.scalars(select(InvoiceRow.customer_id).where(InvoiceRow.qbo_id == disputed)).one()
        clock.now += timedelta(days=4)  # +3: 10:00 local is inside quiet hours (9 to 12)
        run_cycle(ctx, realm)
        loop.drain()
        assert len(loop.sink.mailbox.all()) == 1
        collectors.call(
            ctx, realm, customer, collectors.CallOutcome.DISPUTED, "never got it", by=ANA, invoice_id=disputed
        )
        clock.now += timedelta(hours=3)  # 13:00 local: out of quiet hours, but disputed
        run_cycle(ctx, realm)
        loop.drain()
        assert len(loop.sink.mailbox.all()) == 1


@pytest.mark.parametrize(
    ("collections_table", "problem"),
    [
        ({"steps": ["3:fax:reminder_after"]}, "the channel must be email, sms or both"),
        ({"steps": ["x:email:reminder_after"]}, "the days must be a whole number"),
        ({"steps": ["3:email:reminder_after", "3:sms:final_notice"]}, "two steps on the same day"),
        ({"steps": ["3:email:nope"]}, "the template must be one of"),
        ({"assign": ["nobody min_owed=5"]}, "must be a list like"),
        ({"assign": ["a@b.test min_owed=lots"]}, "min_owed must be an amount"),
        ({"quiet_start": 24}, "quiet_start"),
    ],
)
def test_a_wrong_policy_names_the_setting(collections_table: dict[str, Any], problem: str) -> None:
    data = {"secret_key": "x" * 44, "company": [{"realm_id": "1", "collections": collections_table}]}
    with pytest.raises(Exception, match=problem):
        parse(data)


def test_preview_tomorrow_lists_who_gets_which_step(tmp_path: Path) -> None:
    with ladder_loop(tmp_path) as (loop, _clock):
        ctx, realm = loop.ctx, loop.realm
        loop.qbo.add_invoice(
            amount=Decimal("75.00"), due_date=START.date() + timedelta(days=4), email="ap@customer.test"
        )
        run_cycle(ctx, realm)
        loop.drain()
        assert preview(ctx, realm, read_quickbooks=False).emails == ()  # today: nothing more
        tomorrow = preview(ctx, realm, read_quickbooks=False, at=tomorrow_at(ctx, realm))
        (planned,) = tomorrow.emails
        assert (planned.to, planned.template) == ("ap@customer.test", "reminder_before")
        assert planned.invoices[0].days == -3
        with ctx.db.transaction() as s:  # rehearsed: nothing was queued
            assert s.scalars(select(Effect).where(Effect.kind == "email.dunning")).all() == []


def test_a_new_invoice_after_a_reminder_step_waits_a_day(tmp_path: Path) -> None:
    with ladder_loop(tmp_path) as (loop, clock):
        ctx, realm = loop.ctx, loop.realm
        loop.qbo.add_invoice(
            amount=Decimal("60.00"), due_date=START.date() + timedelta(days=3), email="ap@customer.test"
        )
        run_cycle(ctx, realm)  # its own email today (the -3 step had passed already: not sent)
        loop.drain()
        clock.now += timedelta(days=3)  # due today: the reminder_due step
        run_cycle(ctx, realm)
        loop.drain()
        assert [m.subject for m in mails(loop)][-1] == "Due today: 1 invoice from Northwind IT Services"
        seen = len(mails(loop))
        loop.qbo.add_invoice(
            amount=Decimal("90.00"), due_date=START.date() + timedelta(days=30), email="ap@customer.test"
        )
        run_cycle(ctx, realm)  # same customer, same day: the new invoice waits
        loop.drain()
        assert mails(loop)[seen:] == []
        clock.now += timedelta(days=1)
        run_cycle(ctx, realm)
        loop.drain()
        (message,) = mails(loop)[seen:]
        assert "90.00" in (message.text or "")


@pytest.mark.parametrize("texting", [True, False], ids=["text-channel", "no-text-channel"])
def test_an_sms_step_texts_only_and_falls_back_to_email_without_sms(tmp_path: Path, texting: bool) -> None:
    texts = MemoryTexts()
    with ladder_loop(tmp_path, steps=["2:sms:reminder_after", "9:email:final_notice"]) as (loop, clock):
        ctx, realm = loop.ctx, loop.realm
        loop.qbo.add_invoice(
            amount=Decimal("45.00"), due_date=START.date() + timedelta(days=1), email="ap@customer.test"
        )
        run_cycle(ctx, realm)
        loop.drain()
        seen = len(mails(loop))
        clock.now += timedelta(days=3)
        if texting:
            run_cycle(ctx, realm, texts)
        else:
            run_cycle(ctx, realm)
        loop.drain()
        new = [m.subject for m in mails(loop)[seen:]]
        if texting:
            assert new == [] and len(texts.sent) == 1
            assert "is overdue" in next(iter(texts.sent.values())).body
        else:
            assert new == ["Overdue: 1 invoice from Northwind IT Services"] and texts.sent == {}


def test_autopay_customers_are_not_chased_until_their_charge_fails(tmp_path: Path) -> None:
    """An enrolled customer's invoice is paid on its due date by autopay: no reminder; once its
    charge is declined (or needs the payer, or is over the cap) the reminders chase it."""
    with ladder_loop(tmp_path, steps=["2:email:reminder_after", "9:email:final_notice"]) as (loop, clock):
        ctx, realm = loop.ctx, loop.realm
        due = START.date() + timedelta(days=1)
        invoice = loop.qbo.add_invoice(amount=Decimal("45.00"), due_date=due, email="ap@customer.test")
        run_cycle(ctx, realm)
        loop.drain()
        with ctx.db.transaction() as s:
            row = s.get(InvoiceRow, (realm, invoice))
            assert row is not None
            customer = row.customer_id
            s.add(
                AutopayEnrollment(
                    company_id=realm,
                    customer_id=customer,
                    payment_method_id="pm_card_visa",
                    consent_reference="consent:1",
                    enrolled_at=clock.now,
                    updated_at=clock.now,
                )
            )
        seen = len(mails(loop))
        clock.now += timedelta(days=3)
        run_cycle(ctx, realm)
        loop.drain()
        assert subjects(loop, seen) == []
        with ctx.db.transaction() as s:
            s.add(
                AutopayCharge(
                    key=f"autopay:{realm}:{invoice}:45.000:1",
                    company_id=realm,
                    customer_id=customer,
                    invoice_id=invoice,
                    balance=Decimal("45.00"),
                    currency="USD",
                    attempt=1,
                    charge_on=due,
                    status=ChargeStatus.DECLINED.value,
                    payment_method_id="pm_card_visa",
                    created_at=clock.now,
                    updated_at=clock.now,
                )
            )
        clock.now += timedelta(days=1)
        run_cycle(ctx, realm)
        loop.drain()
        assert subjects(loop, seen) == ["Overdue: 1 invoice from Northwind IT Services"]


def test_a_text_only_step_emails_a_customer_no_text_reaches(tmp_path: Path) -> None:
    """The company texts, but this customer has no consented number (or said STOP): the step
    that only texts goes to them by email instead of not at all."""
    texts = MemoryTexts(reaching=False)
    with ladder_loop(tmp_path, steps=["2:sms:reminder_after", "9:email:final_notice"]) as (loop, clock):
        ctx, realm = loop.ctx, loop.realm
        loop.qbo.add_invoice(
            amount=Decimal("45.00"), due_date=START.date() + timedelta(days=1), email="ap@customer.test"
        )
        run_cycle(ctx, realm)
        loop.drain()
        seen = len(mails(loop))
        clock.now += timedelta(days=3)
        run_cycle(ctx, realm, texts)
        loop.drain()
        assert subjects(loop, seen) == ["Overdue: 1 invoice from Northwind IT Services"]
        assert texts.sent == {}


def test_the_collector_digest_names_installments_missed_or_due_within_a_week(tmp_path: Path) -> None:
    with ladder_loop(tmp_path) as (loop, clock):
        ctx, realm = loop.ctx, loop.realm
        today = START.date()
        invoice = loop.qbo.add_invoice(
            amount=Decimal("300.00"), due_date=today - timedelta(days=40), email="ap@customer.test"
        )
        run_cycle(ctx, realm)
        loop.drain()
        with ctx.db.transaction() as s:
            row = s.scalars(select(InvoiceRow).where(InvoiceRow.qbo_id == invoice)).one()
            customer, number = row.customer_id, row.doc_number
        collectors.assign(ctx, realm, customer, ANA, by="owner@northwind.test")
        plan_id = plans.create(
            ctx, realm, number or invoice, down=Decimal("100.00"), count=2, every=Cadence.WEEK, start=today
        )
        seen = len(loop.sink.mailbox.all())
        clock.now = START + timedelta(days=1)
        queue_digests(ctx, realm)
        loop.drain()
        (digest,) = [m for m in mails(loop)[seen:] if m.to == ANA]
        text = digest.text or ""
        # The down payment (due yesterday) and the first installment (due in six days); not the last.
        assert text.count("Installment") == 2 and "MISSED" not in text, text
        with ctx.db.transaction() as s:
            down = plan_store.installments(s, plan_id)[0]
            plan_store.move(down, InstallmentStatus.MISSED, now=clock.now)
        seen = len(loop.sink.mailbox.all())
        clock.now = START + timedelta(days=2)
        queue_digests(ctx, realm)
        loop.drain()
        (digest,) = [m for m in mails(loop)[seen:] if m.to == ANA]
        assert "Installment $100.00 MISSED" in (digest.text or ""), digest.text
