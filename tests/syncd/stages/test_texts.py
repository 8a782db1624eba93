"""Texts over the Twilio simulator: queued only with consent, sent once (even after a crash past
Twilio's acceptance), dropped when STOP came first, held through quiet hours, Twilio's refusals
recorded, delivery reports kept."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from loopback import wait_until
from sqlalchemy import select
from texting import CUSTOMER, PHONE, REALM, T0, Texting, consent, send_texts, texting_world

from syncd.config.sms import SmsSettings
from syncd.domain import Customer
from syncd.domain.phones import InvalidPhoneError
from syncd.ports.texts import Text
from syncd.stages import text_consent, texts
from syncd.stages.texts import TextOutcome, invoice_text, queue_text, segments
from syncd.store import effects
from syncd.store import texts as store
from syncd.store.models import CustomerRow, Effect, TextNumber, TextRow

BODY = "Northwind IT: invoice 1042 ($120.00) is due today. Pay: https://pay.example/i/abc STOP to end"


NOW = [T0]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[Texting]:
    NOW[0] = T0
    with texting_world(tmp_path, clock=lambda: NOW[0]) as found:
        yield found


def _queue(world: Texting, ref: str = "1042-0", body: str = BODY, **extra: object) -> TextOutcome:
    with world.ctx.db.transaction() as s:
        return queue_text(
            s,
            company_id=REALM,
            customer_id=CUSTOMER,
            purpose="reminder",
            ref=ref,
            body=body,
            now=NOW[0],
            **extra,
        )  # type: ignore[arg-type]


def _row(world: Texting, ref: str = "1042-0") -> TextRow:
    with world.ctx.db.transaction() as s:
        row = s.get(TextRow, f"sms:{REALM}:reminder:{ref}")
        assert row is not None
        s.expunge(row)
        return row


def _effect(world: Texting, ref: str = "1042-0") -> Effect:
    with world.ctx.db.transaction() as s:
        row = effects.get(s, f"sms:{REALM}:reminder:{ref}")
        assert row is not None
        s.expunge(row)
        return row


def test_queue_text_needs_a_consented_number(world: Texting) -> None:
    assert _queue(world) is TextOutcome.NO_NUMBER
    with world.ctx.db.transaction() as s:
        customer = s.get(CustomerRow, (REALM, CUSTOMER))
        assert customer is not None
        customer.mobile = "(415) 555-0123"
    assert _queue(world) is TextOutcome.NO_CONSENT
    consent(world.ctx)
    assert _queue(world) is TextOutcome.QUEUED
    assert _queue(world) is TextOutcome.QUEUED  # same purpose and ref: still one effect
    with world.ctx.db.transaction() as s:
        rows = s.scalars(select(Effect).where(Effect.kind == "sms.message")).all()
        assert [r.key for r in rows] == [f"sms:{REALM}:reminder:1042-0"]
        store.opt_out(s, [REALM], PHONE, T0)
    assert _queue(world, ref="1042-3") is TextOutcome.OPTED_OUT
    off = SmsSettings()
    assert _queue(world, ref="1042-3", settings=off) is TextOutcome.DISABLED


def test_quiet_hours_outcome_and_deferral(world: Texting) -> None:
    consent(world.ctx)
    settings = world.ctx.settings.company(REALM).sms
    assert _queue(world, settings=settings, local_hour=22) is TextOutcome.QUIET
    assert _queue(world, settings=settings, local_hour=10) is TextOutcome.QUEUED
    NOW[0] = T0 + timedelta(hours=12)  # 22:00 in New York
    send_texts(world.ctx)
    effect = _effect(world)
    assert effect.status == "pending" and "quiet hours" in (effect.last_error or "")
    assert effect.next_attempt_at >= NOW[0] + timedelta(hours=10)  # 08:00 local
    assert world.sim.sent_to(PHONE) == []


def test_a_text_goes_out_once_and_its_delivery_is_recorded(world: Texting) -> None:
    consent(world.ctx)
    assert _queue(world) is TextOutcome.QUEUED
    assert send_texts(world.ctx) == 1
    sent = world.sim.sent_to(PHONE)
    assert [(m.body, m.from_) for m in sent] == [(BODY, world.sim.number)]
    assert _effect(world).remote_id == sent[0].sid
    wait_until(lambda: _row(world).status == "delivered", timeout=10, what="the delivery report")
    assert _row(world).sid == sent[0].sid
    assert send_texts(world.ctx) == 0


def test_stop_before_the_send_drops_the_queued_text(world: Texting) -> None:
    consent(world.ctx)
    _queue(world)
    world.sim.text_from(PHONE, "stop")
    assert send_texts(world.ctx) == 1
    assert world.sim.sent_to(PHONE)[-1].body.startswith("Northwind IT: you will get no more texts")
    assert [m for m in world.sim.sent_to(PHONE) if m.direction == "outbound-api"] == []
    row = _row(world)
    assert (row.status, row.error_code) == ("dropped", None)  # syncd dropped it, not Twilio
    assert _effect(world).status == "done"


def test_a_crash_after_twilio_accepted_does_not_send_twice(world: Texting) -> None:
    consent(world.ctx)
    _queue(world)
    (claimed,) = effects.claim(world.ctx.db, owner="dies", now=NOW[0], kinds=["sms.message"])
    first = texts.send_text(world.ctx, claimed)  # Twilio took it; the process dies before recording
    assert first.remote_id is not None
    NOW[0] = T0 + timedelta(minutes=30)  # the dead owner's lease is long gone
    assert send_texts(world.ctx) == 1
    assert [m.sid for m in world.sim.sent_to(PHONE)] == [first.remote_id]
    assert _effect(world).remote_id == first.remote_id


def test_twilio_opt_out_21610_marks_the_number_and_drops(world: Texting) -> None:
    consent(world.ctx)
    _queue(world)
    world.sim.state.opted_out.add((PHONE, world.sim.number))  # a STOP syncd never heard
    send_texts(world.ctx)
    row = _row(world)
    assert (row.status, row.error_code) == ("dropped", 21610)
    with world.ctx.db.transaction() as s:
        number = s.get(TextNumber, (REALM, CUSTOMER))
        assert number is not None and number.opted_out_at is not None


def test_an_invalid_number_fails_the_text_with_21211(world: Texting) -> None:
    consent(world.ctx, number="+15550000000")
    _queue(world)
    send_texts(world.ctx)
    assert (_row(world).status, _row(world).error_code) == ("failed", 21211)
    assert _effect(world).status == "failed"
    assert world.sim.sent_to("+15550000000") == []


def test_a_429_is_retried_after_its_retry_after(world: Texting) -> None:
    consent(world.ctx)
    _queue(world)
    world.sim.throttle(1)
    send_texts(world.ctx)
    effect = _effect(world)
    assert effect.status == "pending" and "429" in (effect.last_error or "")
    assert effect.next_attempt_at >= NOW[0] + timedelta(seconds=1)
    NOW[0] = T0 + timedelta(minutes=1)
    send_texts(world.ctx)
    assert len(world.sim.sent_to(PHONE)) == 1 and _effect(world).status == "done"


def test_texts_are_short_with_the_pay_link() -> None:
    body = invoice_text(
        "Northwind IT Services", "Invoice 1042 ($120.00) is due today", "https://p.example/i/x"
    )
    assert segments(body) == 1 and body.endswith("Pay: https://p.example/i/x STOP to end")
    long = invoice_text("N" * 200, "Invoice 1", "https://p.example/i/x")
    assert segments(long) == 1 and "https://p.example/i/x" in long
    assert segments("é" * 160) == 1 and segments("€" * 71) == 2


def test_attested_qbo_mobiles_become_textable_until_a_stop(tmp_path: Path) -> None:
    with texting_world(tmp_path, attest_qbo_mobile=True) as world:
        ctx = world.ctx
        pulled = [
            Customer(CUSTOMER, "Amy", None, None, "USD", True, T0, mobile="(415) 555-0123"),
            Customer("59", "Bo", None, None, "USD", True, T0, mobile="not a phone"),
        ]
        with ctx.db.transaction() as s:
            assert text_consent.attest_mobiles(ctx, s, REALM, pulled, now=T0) == 1
            row = store.number_of(s, REALM, CUSTOMER)
            assert row is not None and (row.number, row.source) == (PHONE, "qbo_mobile")
            assert store.number_of(s, REALM, "59") is None
            store.opt_out(s, [REALM], PHONE, T0)
        moved = [Customer(CUSTOMER, "Amy", None, None, "USD", True, T0, mobile="+1 415 555 0199")]
        with ctx.db.transaction() as s:
            assert text_consent.attest_mobiles(ctx, s, REALM, moved, now=T0) == 0  # a STOP stays a STOP
        NOW[0] = T0
        assert _queue(world) is TextOutcome.OPTED_OUT
        # Switched on after customer 60 was mirrored: the next pull's pass attests them too.
        with ctx.db.transaction() as s:
            cy = CustomerRow(company_id=REALM, qbo_id="60", display_name="Cy", currency="USD", updated_at=T0)
            cy.mobile = "415-555-0160"
            s.add(cy)
            s.flush()
            assert text_consent.attest_mobiles(ctx, s, REALM, [], now=T0) == 1
            assert store.number_of(s, REALM, "60") is not None


def test_portal_consent_records_how_and_refuses_a_bad_number(world: Texting) -> None:
    with world.ctx.db.transaction() as s:
        row = text_consent.give_consent(
            world.ctx,
            s,
            company_id=REALM,
            customer_id=CUSTOMER,
            number="415 555 0123",
            now=T0,
            ip="203.0.113.9",
            user_agent="Phone/1.0",
        )
        assert (row.number, row.source, row.ip) == (PHONE, "portal", "203.0.113.9")
        assert "Reply STOP" in row.consent_text and row.consented_at == T0
        with pytest.raises(InvalidPhoneError):
            text_consent.give_consent(
                world.ctx,
                s,
                company_id=REALM,
                customer_id="59",
                number="12",
                now=T0,
                ip=None,
                user_agent=None,
            )


def test_the_reminder_runs_text_channel_is_the_companys_own_and_keeps_its_consent(world: Texting) -> None:
    """The cycle hands the reminder run ``text_channel``: a consented number gets the text queued,
    an unconsented one nothing; a company whose texting is off has no channel (steps go by email)."""
    ctx = world.ctx
    channel = texts.text_channel(ctx, REALM)
    assert channel is not None

    def ask(ref: str) -> TextOutcome:
        with ctx.db.transaction() as s:
            (outcome,) = channel.queue_texts(
                s, company_id=REALM, texts=[Text(CUSTOMER, "reminder", ref, BODY)], now=T0
            )
            assert channel.reaching(s, company_id=REALM, customer_ids=[CUSTOMER, "59"]) == (
                {CUSTOMER} if outcome is TextOutcome.QUEUED else set()
            )
            return outcome

    assert ask("before-consent") is TextOutcome.NO_NUMBER  # customer 58 has no QBO number
    consent(ctx)
    assert ask("after-consent") is TextOutcome.QUEUED
    with ctx.db.transaction() as s:
        kinds = [e.key for e in s.scalars(select(Effect)) if e.kind == "sms.message"]
    assert kinds == [f"sms:{REALM}:reminder:after-consent"]


def test_a_company_that_does_not_text_has_no_text_channel(tmp_path: Path) -> None:
    with texting_world(tmp_path, enabled=False) as off:
        assert texts.text_channel(off.ctx, REALM) is None
