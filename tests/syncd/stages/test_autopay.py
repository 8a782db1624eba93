"""Autopay over both simulators: enrollment with a recorded authorisation on the account page, a
notice ``notice_days`` before the due date, the off-session charge on it (booked once in QBO),
"don't charge this one", an invoice paid offline after its notice, and each kind of decline."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests
from autopay_scene import SKIP, Scene, attach, autopay_scene, enroll_customer
from method_rows import card_on_file
from sqlalchemy import select

from syncd.domain.autopay import ChargeStatus
from syncd.stages import autopay
from syncd.stages.events import ingest
from syncd.store.effects import EffectStatus
from syncd.store.models import (
    AutopayCharge,
    AutopayEnrollment,
    CardRequest,
    Effect,
    MethodConsent,
    PaymentRow,
    SavedMethodRow,
)


@pytest.fixture
def scene_for(tmp_path: Path) -> Iterator[Any]:
    with ExitStack() as stack:

        def build(*methods: str, enroll: bool = True) -> Scene:
            return stack.enter_context(autopay_scene(tmp_path, *methods, enroll=enroll))

        yield build


def _form_value(html: str, name: str) -> str:
    found = re.search(rf"name=\"?{name}\"?\s+value=['\"]([^'\"]+)['\"]", html)
    assert found is not None, f"no {name} in page"
    return found.group(1)


def test_enroll_notice_then_charge_on_the_due_date_booked_once(scene_for: Any) -> None:
    scene: Scene = scene_for(enroll=False)
    scene.loop.stripe.webhooks.paused = False
    loop = scene.loop
    browser = requests.Session()
    browser.headers["User-Agent"] = "AutopayTest/1.0"
    signed = browser.get(f"{loop.ctx.links.url(scene.realm, scene.invoice_id)}/account", timeout=10)
    assert signed.status_code == 200
    page = browser.get(f"{loop.url}/account/autopay", timeout=10)
    assert page.status_code == 200 and "Turn on autopay" in page.text and "Visa ending 4242" in page.text
    assert "120.00" in page.text  # what would be charged, and when
    form = {"csrf_token": _form_value(page.text, "csrf_token"), "method": scene.method_id, "cap": "500"}
    refused = browser.post(f"{loop.url}/account/autopay", data=form, allow_redirects=False, timeout=10)
    assert refused.status_code == 400  # not agreed
    forged = browser.post(
        f"{loop.url}/account/autopay", data={**form, "agree": "1", "csrf_token": "x"}, timeout=10
    )
    assert forged.status_code == 403
    page = browser.get(f"{loop.url}/account/autopay", timeout=10)
    form["csrf_token"] = _form_value(page.text, "csrf_token")
    done = browser.post(
        f"{loop.url}/account/autopay", data={**form, "agree": "1"}, allow_redirects=False, timeout=10
    )
    assert done.status_code == 303, done.text
    with loop.ctx.db.transaction() as s:
        enrollment = s.scalars(select(AutopayEnrollment)).one()
        assert (enrollment.payment_method_id, enrollment.cap) == (scene.method_id, Decimal("500"))
        consent = s.get(MethodConsent, enrollment.consent_reference)
        assert consent is not None and consent.user_agent == "AutopayTest/1.0" and consent.ip == "127.0.0.1"
        assert (
            "Visa ending 4242" in consent.text and "up to 500" in consent.text and "autopay-1" in consent.text
        )

    scene.cycle()  # due in 5 days: no notice yet
    assert scene.charges() == [] and not scene.emails("will charge")
    scene.cycle(days=2)
    [planned] = scene.charges()
    assert planned.status == "scheduled" and planned.charge_on == scene.clock.now.date() + timedelta(days=3)
    [notice] = scene.emails("will charge")
    assert (
        "120.00" in notice.text and "Visa ending 4242" in notice.text and len(SKIP.findall(notice.text)) == 2
    )

    scene.cycle(days=3, hour=9)  # the due date, before the charge hour
    assert scene.intents() == []
    scene.cycle(hour=10)
    [intent] = scene.intents()
    assert intent["status"] == "succeeded" and intent["amount"] == 12000
    assert intent["metadata"]["invoice_ids"] == scene.invoice_id
    assert intent["metadata"]["payment_key"] == planned.key
    loop.stripe.webhooks.flush()
    ingest(loop.ctx)
    loop.drain()
    scene.cycle()
    assert len(scene.intents()) == 1
    [booked] = scene.qbo_payments()
    assert Decimal(str(booked["TotalAmt"])) == Decimal("120.00")
    assert Decimal(str(loop.qbo.entity("Invoice", scene.invoice_id)["Balance"])) == 0
    assert [c.status for c in scene.charges()] == ["succeeded"]
    # Five days on, the invoice link's session has ended: the customer comes in through it again.
    browser.get(f"{loop.ctx.links.url(scene.realm, scene.invoice_id)}/account", timeout=10)
    off = browser.get(f"{loop.url}/account/autopay", timeout=10)
    assert "Autopay is <strong>on</strong>" in off.text
    turned = browser.post(
        f"{loop.url}/account/autopay/off",
        data={"csrf_token": _form_value(off.text, "csrf_token")},
        allow_redirects=False,
        timeout=10,
    )
    assert turned.status_code == 303
    with loop.ctx.db.transaction() as s:
        assert s.scalars(select(AutopayEnrollment)).one().stopped_at is not None


def test_dont_charge_this_one_from_the_notice(scene_for: Any) -> None:
    scene: Scene = scene_for()
    scene.cycle(days=2)
    [notice] = scene.emails("will charge")
    links = SKIP.findall(notice.text)
    assert len(links) == 2
    browser = requests.Session()
    shown = browser.get(links[0], timeout=10)  # the first button: don't charge this one
    assert shown.status_code == 200 and "charge this one" in shown.text
    assert [c.status for c in scene.charges()] == ["scheduled"]  # a GET never acts
    forged = requests.post(links[0], data={"csrf_token": "forged"}, timeout=10)
    assert forged.status_code == 403 and [c.status for c in scene.charges()] == ["scheduled"]
    used = browser.post(links[0], data={"csrf_token": _form_value(shown.text, "csrf_token")}, timeout=10)
    assert used.status_code == 200 and "will not be charged automatically" in used.text
    assert [c.status for c in scene.charges()] == ["skipped"]
    scene.cycle(days=3)
    scene.cycle()
    assert scene.intents() == [] and [c.status for c in scene.charges()] == ["skipped"]
    assert browser.get(links[0].replace(links[0][-5:], "AAAAA"), timeout=10).status_code == 404


def test_invoices_paid_offline_after_their_notice_are_never_over_charged(scene_for: Any) -> None:
    scene: Scene = scene_for("pm_card_visa", "pm_card_visa")
    scene.cycle(days=2)
    assert [c.status for n in (0, 1) for c in scene.charges(n)] == ["scheduled", "scheduled"]
    scene.loop.qbo.record_offline_payment(scene.invoice_ids[0], Decimal("120.00"))  # paid in full
    scene.loop.qbo.record_offline_payment(scene.invoice_ids[1], Decimal("20.00"))  # lowered
    scene.clock.now += timedelta(days=3)
    # No pull: the charge itself re-reads each invoice from QBO.
    autopay.run(scene.loop.ctx, scene.realm)
    scene.loop.drain()
    assert scene.intents(0) == [] and [c.status for c in scene.charges(0)] == ["cancelled"]
    [intent] = scene.intents(1)
    assert intent["amount"] == 10000 and [c.status for c in scene.charges(1)] == ["succeeded"]


DECLINES = (
    # (test card, what the attempt ends as, a word of the email the customer gets)
    ("pm_card_chargeDeclinedInsufficientFunds", "declined", "try again"),
    ("pm_card_chargeDeclinedProcessingError", "declined", "try again"),
    ("pm_card_chargeDeclinedExpiredCard", "declined", "stopped"),
    ("pm_card_chargeDeclinedLostCard", "declined", "stopped"),
    ("pm_card_authenticationRequired", "needs_action", "confirm"),
)


def test_each_decline_kind(scene_for: Any) -> None:
    scene: Scene = scene_for(*(token for token, _, _ in DECLINES))
    scene.cycle(days=2)
    scene.cycle(days=3)
    with scene.loop.ctx.db.transaction() as s:
        enrollments = {e.customer_id: e for e in s.scalars(select(AutopayEnrollment))}
        card_requests = {r.qbo_customer_id for r in s.scalars(select(CardRequest))}
    for n, (token, status, word) in enumerate(DECLINES):
        first = scene.charges(n)[0]
        assert (first.status, first.attempt) == (status, 1), token
        [told] = scene.emails(word, n)
        enrollment = enrollments[first.customer_id]
        with scene.loop.ctx.db.transaction() as s:
            payment = s.get(PaymentRow, first.key)
            assert payment is not None and payment.status == "failed"
        if word == "try again":  # soft: one retry planned on the schedule, with its own notice
            retry = scene.charges(n)[1]
            assert (retry.attempt, retry.status) == (2, "scheduled"), token
            assert retry.charge_on == scene.clock.now.date() + timedelta(days=2)
            assert enrollment.stopped_at is None and len(SKIP.findall(told.text)) == 2
        elif word == "stopped":  # hard: autopay off for the method, an update-card link
            assert enrollment.stopped_at is not None and "declined" in (enrollment.stop_reason or "")
            assert first.customer_id in card_requests and "/c/" in told.text
        else:  # authentication required: a link to pay on the invoice's own page
            assert enrollment.stopped_at is None and "/i/" in told.text
    scene.cycle(days=2)  # the retries' day: declined again, and no retry is left
    for n, (token, _, word) in enumerate(DECLINES):
        expected = ["declined", "declined"] if word == "try again" else [scene.charges(n)[0].status]
        assert [c.status for c in scene.charges(n)] == expected, token
        assert len(scene.intents(n)) == len(expected)  # each attempt its own key, no more
        assert scene.qbo_payments(n) == []
    assert scene.emails("did not go through", 0) and scene.emails("did not go through", 1)


def test_a_replayed_charge_never_charges_twice(scene_for: Any) -> None:
    scene: Scene = scene_for()
    scene.cycle(days=2)
    scene.cycle(days=3)
    [charge] = scene.charges()
    assert charge.status == ChargeStatus.SUCCEEDED.value
    with scene.loop.ctx.db.transaction() as s:
        row = s.get(AutopayCharge, charge.key)
        assert row is not None
        # As if the worker died after Stripe charged and before it recorded the answer.
        row.status = ChargeStatus.CHARGING.value
        effect = s.scalars(select(Effect).where(Effect.kind == "stripe.autopay_charge")).one()
        effect.status, effect.done_at, effect.next_attempt_at = (
            EffectStatus.PENDING.value,
            None,
            scene.clock.now,
        )
    scene.loop.stripe.clock.advance(timedelta(hours=25))  # past Stripe's key window
    scene.loop.drain()
    assert len(scene.intents()) == 1 and [c.status for c in scene.charges()] == ["succeeded"]
    assert len(scene.qbo_payments()) == 1


def test_a_changed_invoice_gets_a_new_notice_and_one_over_the_cap_the_link(scene_for: Any) -> None:
    scene: Scene = scene_for("pm_card_visa", "pm_card_visa")
    with scene.loop.ctx.db.transaction() as s:
        capped = s.get(AutopayEnrollment, (scene.realm, scene.charges_customer(1)))
        assert capped is not None
        capped.cap = Decimal("100.00")
    scene.cycle(days=2)
    assert [c.status for c in scene.charges(1)] == ["over_cap"]
    [told] = scene.emails("limit", 1)
    assert "/i/" in told.text and not scene.emails("will charge", 1)
    scene.loop.qbo.record_offline_payment(scene.invoice_id, Decimal("20.00"))
    scene.cycle(days=1)  # the pull sees the lower balance: beyond the tolerance of 0.00
    first, second = scene.charges()
    assert (first.status, first.balance) == ("superseded", Decimal("120.00"))
    assert (second.status, second.balance) == ("scheduled", Decimal("100.00"))
    assert second.charge_on == scene.clock.now.date() + timedelta(days=3)  # a day after the due date
    assert len(scene.emails("will charge")) == 2
    scene.cycle(days=2)  # the due date: the charge has moved
    assert scene.intents() == []
    scene.cycle(days=1)
    [intent] = scene.intents()
    assert intent["amount"] == 10000
    assert scene.intents(1) == [] and len(scene.charges(1)) == 1  # over the cap: never charged


def test_a_bank_debit_is_charged_under_the_customers_mandate_and_stays_processing(scene_for: Any) -> None:
    scene: Scene = scene_for("pm_usBankAccount")
    with scene.loop.ctx.db.transaction() as s:
        s.get(SavedMethodRow, scene.method_id).kind = "us_bank_account"  # type: ignore[union-attr]
    scene.cycle(days=2)
    scene.cycle(days=3)
    [intent] = scene.intents()
    assert intent["status"] == "processing"
    assert [c.status for c in scene.charges()] == ["processing"]
    assert scene.qbo_payments() == []  # not paid until it settles


def test_after_a_hard_decline_a_new_card_and_a_new_enrollment_charge_the_invoice(scene_for: Any) -> None:
    scene: Scene = scene_for("pm_card_chargeDeclinedExpiredCard")
    scene.cycle(days=2)
    scene.cycle(days=3)
    assert [c.status for c in scene.charges()] == ["declined"]
    scene.cycle(days=1)
    assert len(scene.charges()) == 1  # autopay is off: nothing more is planned
    customer = scene.charges()[0].customer_id
    cus = scene.loop.ctx.stripe.ensure_customer(
        company=scene.realm, qbo_customer_id=customer, name="C0", email=None, idempotency_key="again"
    )
    method_id = attach(scene.loop, "pm_card_visa", cus)
    with scene.loop.ctx.db.transaction() as s:
        s.add(card_on_file(method_id, scene.realm, customer, scene.clock.now, stripe_customer_id=cus))
        enroll_customer(s, scene.realm, customer, method_id, scene.clock.now, reference="autopay:again")
    scene.cycle(days=1)
    _, planned = scene.charges()
    assert (planned.attempt, planned.status, planned.payment_method_id) == (2, "scheduled", method_id)
    scene.cycle(days=3)
    assert [c.status for c in scene.charges()] == ["declined", "succeeded"]
    assert scene.intents()[-1]["status"] == "succeeded"
