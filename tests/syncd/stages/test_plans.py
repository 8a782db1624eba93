"""Installment plans over both simulators (real HTTP; syncd's and Stripe's clocks moved together):
a plan paid to the end with one missed installment, exactly once; an installment emailed as a link
for a customer without autopay, then missed; a plan suspended when the invoice is edited in QBO;
reminders and autopay leaving an invoice in a plan alone."""

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
from autopay_scene import Scene, attach, autopay_scene, enroll_customer
from method_rows import card_on_file
from sqlalchemy import select

from syncd.domain.plans import Cadence
from syncd.stages import plans
from syncd.stages.events import ingest
from syncd.stages.reminders import SKIPS
from syncd.store.effects import EffectStatus
from syncd.store.models import (
    AutopayCharge,
    AutopayEnrollment,
    Effect,
    InstallmentPlan,
    InvoiceRow,
    PaymentRow,
    PlanInstallment,
    SavedMethodRow,
)

CSRF = re.compile(r'name="csrf_token"\s+value="([^"]+)"')
CHECKOUT = re.compile(r"/pay/(cs_[A-Za-z0-9_]+)")
AMOUNT = re.compile(r'name="amount"[^>]*value="([^"]+)"', re.S)


@pytest.fixture
def scene_for(tmp_path: Path) -> Iterator[Any]:
    with ExitStack() as stack:

        def build(*methods: str, enroll: bool = True, **company: Any) -> Scene:
            scene = stack.enter_context(autopay_scene(tmp_path, *methods, enroll=enroll, **company))
            scene.loop.stripe.webhooks.paused = False  # delivered, and waited for by ``_settle``
            return scene

        yield build


def _settle(scene: Scene) -> None:
    """Stripe's webhooks delivered and ingested, the books written, QBO pulled again."""
    scene.loop.stripe.webhooks.flush()
    ingest(scene.loop.ctx)
    scene.loop.drain()
    scene.cycle()


def _installments(scene: Scene) -> list[PlanInstallment]:
    with scene.loop.ctx.db.transaction() as s:
        rows = list(s.scalars(select(PlanInstallment).order_by(PlanInstallment.plan_id, PlanInstallment.seq)))
        s.expunge_all()
        return rows


def _plan(scene: Scene) -> InstallmentPlan:
    with scene.loop.ctx.db.transaction() as s:
        plan = s.scalars(select(InstallmentPlan)).one()
        s.expunge(plan)
        return plan


def _staff(scene: Scene, words: str) -> list[Any]:
    return [m for m in scene.loop.sink.mailbox.all() if words in m.subject and "staff@" in str(m.to)]


def _customer(scene: Scene, words: str) -> list[Any]:
    return [m for m in scene.emails(words) if "staff@" not in str(m.to)]


def _use_card(scene: Scene, token: str, tag: str) -> str:
    """Put another test card on file and turn autopay on with it (a new authorisation)."""
    loop, customer = scene.loop, scene.charges_customer(0)
    with loop.ctx.db.transaction() as s:
        first = s.get(SavedMethodRow, scene.method_id)
        assert first is not None
        stripe_customer = first.stripe_customer_id
    method_id = scene.method_id if token == "pm_card_visa" else attach(loop, token, stripe_customer)
    with loop.ctx.db.transaction() as s:
        if s.get(SavedMethodRow, method_id) is None:
            s.add(
                card_on_file(
                    method_id, loop.realm, customer, scene.clock.now, stripe_customer_id=stripe_customer
                )
            )
        enroll_customer(s, loop.realm, customer, method_id, scene.clock.now, reference=f"autopay:{tag}")
    return method_id


def _align(scene: Scene) -> None:
    """Stripe's clock and syncd's at the same moment (the scene moves them by whole days from
    different times of day), so a Checkout session's expiry is what Stripe accepts."""
    stripe_clock = scene.loop.stripe.clock
    ahead = scene.clock.now - stripe_clock.now()
    if ahead > timedelta(0):
        stripe_clock.advance(ahead)
    else:
        scene.clock.now -= ahead


def _pay_by_link(scene: Scene, expected: str) -> None:
    """The customer opens the invoice's link, finds the installment's amount offered, and pays it."""
    loop = scene.loop
    _align(scene)
    browser = requests.Session()
    url = loop.ctx.links.url(loop.realm, scene.invoice_id)
    page = browser.get(url, timeout=10)
    assert page.status_code == 200 and "installment due now" in page.text
    amount, token = AMOUNT.search(page.text), CSRF.search(page.text)
    assert amount is not None and token is not None and amount.group(1) == expected
    answer = browser.post(
        f"{url}/pay",
        data={"csrf_token": token.group(1), "amount": expected},
        allow_redirects=False,
        timeout=30,
    )
    assert answer.status_code == 303, answer.text[:300]
    found = CHECKOUT.search(answer.headers["location"])
    assert found is not None
    loop.stripe.pay_checkout(found.group(1), "card_success")


def test_a_plan_paid_to_the_end_with_one_missed_installment_exactly_once(scene_for: Any) -> None:
    scene: Scene = scene_for()  # invoice of 120.00 due in 5 days, Visa on file, autopay on
    loop = scene.loop
    today = scene.clock.now.date()
    number = loop.qbo.entity("Invoice", scene.invoice_id)["DocNumber"]  # type: ignore[index]
    plan_id = plans.create(
        loop.ctx,
        loop.realm,
        number,
        down=Decimal("30.00"),
        count=3,
        every=Cadence.WEEK,
        start=today + timedelta(days=3),
    )
    assert [i.amount for i in _installments(scene)] == [Decimal("30.00")] * 4

    scene.cycle()  # the down payment's notice, three days ahead (autopay's own notice: none)
    [notice] = scene.emails("will charge")
    assert "30.00" in notice.text and "down payment" in notice.text and "Visa ending 4242" in notice.text
    scene.cycle(days=2)
    assert scene.charges() == []  # autopay leaves the invoice to its plan: no notice, no charge
    scene.cycle(days=1, hour=9)
    assert scene.intents() == []  # before the charge hour
    scene.cycle(hour=10)
    [down] = scene.intents()
    assert down["status"] == "succeeded" and down["amount"] == 3000
    assert down["metadata"]["payment_key"] == f"plan:{loop.realm}:{plan_id}:0:1"
    _settle(scene)
    assert Decimal(str(loop.qbo.entity("Invoice", scene.invoice_id)["Balance"])) == Decimal("90.00")  # type: ignore[index]

    _use_card(scene, "pm_card_chargeDeclinedInsufficientFunds", "broke")
    scene.cycle(days=4)  # installment 1's notice
    assert any("30.00" in m.text and "1 of 3" in m.text for m in scene.emails("will charge"))
    scene.cycle(days=3)  # its day: declined (soft), retried in 2 days
    [retry] = scene.emails("Payment declined")
    assert "try again on" in retry.text
    assert _installments(scene)[1].status == "scheduled" and _installments(scene)[1].attempt == 1
    scene.cycle(days=2)  # declined again, no retry left: missed
    assert _installments(scene)[1].status == "missed"
    [missed] = _customer(scene, "Installment missed")
    assert "1 of 3" in missed.text and loop.ctx.links.url(loop.realm, scene.invoice_id) in missed.text
    assert len(_staff(scene, "Installment missed")) == 1

    _pay_by_link(scene, "30.00")  # the customer pays the missed installment from its link
    _settle(scene)
    assert [i.status for i in _installments(scene)][:2] == ["paid", "paid"]
    assert Decimal(str(loop.qbo.entity("Invoice", scene.invoice_id)["Balance"])) == Decimal("60.00")  # type: ignore[index]

    _use_card(scene, "pm_card_visa", "visa-again")
    scene.cycle(days=2)  # installment 2's notice
    scene.cycle(days=3)  # charged
    _settle(scene)
    scene.cycle(days=4)
    scene.cycle(days=3)  # the last installment
    _settle(scene)
    _settle(scene)

    assert _plan(scene).status == "closed"
    assert [i.status for i in _installments(scene)] == ["paid"] * 4
    booked = scene.qbo_payments()
    assert sorted(Decimal(str(p["TotalAmt"])) for p in booked) == [Decimal("30.00")] * 4
    assert Decimal(str(loop.qbo.entity("Invoice", scene.invoice_id)["Balance"])) == 0  # type: ignore[index]
    succeeded = [i for i in scene.intents() if i["status"] == "succeeded"]
    assert len(succeeded) == 4 and sum(i["amount"] for i in succeeded) == 12000
    assert len(scene.intents()) == 6  # and the two declined attempts, one key each
    assert len(_customer(scene, "Installment missed")) == 1 and len(_staff(scene, "Installment missed")) == 1
    assert all(c.status == "cancelled" for c in scene.charges())  # autopay never charged it
    scene.cycle(days=30)  # nothing more, ever
    _settle(scene)
    assert len(scene.qbo_payments()) == 4 and len(scene.intents()) == 6
    with loop.ctx.db.transaction() as s:
        failed = s.scalars(select(Effect).where(Effect.status == EffectStatus.FAILED.value)).all()
        assert failed == []
        pays = s.scalars(select(PaymentRow).where(PaymentRow.qbo_payment_id.is_not(None))).all()
        assert len(pays) == 4 and len({p.qbo_payment_id for p in pays}) == 4


def test_without_autopay_each_installment_is_a_link_for_its_amount_and_an_unpaid_one_is_missed(
    scene_for: Any,
) -> None:
    scene: Scene = scene_for(enroll=False)
    loop = scene.loop
    plans.create(
        loop.ctx, loop.realm, scene.invoice_id, down=Decimal("20.00"), count=2, every=Cadence.TWO_WEEKS
    )
    assert [i.amount for i in _installments(scene)] == [Decimal("20.00"), Decimal("50.00"), Decimal("50.00")]
    scene.cycle()
    [due] = scene.emails("Installment due")
    assert "20.00" in due.text and loop.ctx.links.url(loop.realm, scene.invoice_id) in due.text
    assert scene.intents() == []  # no charge without autopay
    _pay_by_link(scene, "20.00")
    _settle(scene)
    assert [i.status for i in _installments(scene)] == ["paid", "scheduled", "scheduled"]
    browser = requests.Session()  # the customer's account page shows the plan and its schedule
    assert browser.get(f"{loop.ctx.links.url(loop.realm, scene.invoice_id)}/account", timeout=10).ok
    page = browser.get(f"{loop.url}/account", timeout=10)
    assert page.status_code == 200 and 'data-testid="plans"' in page.text
    assert "Down payment" in page.text and "Installment 2" in page.text and "Paid so far: $20.00" in page.text
    scene.cycle(days=14)
    assert [i.status for i in _installments(scene)][1] == "link_sent"
    scene.cycle(days=6)
    assert [i.status for i in _installments(scene)][1] == "link_sent"
    scene.cycle(days=1)  # plan_missed_days (7) after its date, still unpaid
    assert [i.status for i in _installments(scene)][1] == "missed"
    assert len(_customer(scene, "Installment missed")) == 1 and len(_staff(scene, "Installment missed")) == 1
    scene.cycle(days=1)
    assert len(_customer(scene, "Installment missed")) == 1  # told once


def test_an_invoice_edited_in_qbo_suspends_its_plan_and_staff_are_told(scene_for: Any) -> None:
    scene: Scene = scene_for()
    loop = scene.loop
    today = scene.clock.now.date()
    plans.create(
        loop.ctx,
        loop.realm,
        scene.invoice_id,
        down=Decimal("20.00"),
        count=2,
        every=Cadence.MONTH,
        start=today + timedelta(days=10),
    )
    with loop.ctx.db.transaction() as s:
        invoice = s.get(InvoiceRow, (loop.realm, scene.invoice_id))
        assert invoice is not None
        assert SKIPS[-1](s, loop.realm, today)(invoice)  # no reminder step for an invoice in a plan
    line = loop.qbo.entity("Invoice", scene.invoice_id)["Line"][0]  # type: ignore[index]
    line = {**line, "Amount": Decimal("150.00")}
    line["SalesItemLineDetail"] = {**line["SalesItemLineDetail"], "Qty": 1, "UnitPrice": Decimal("150.00")}
    loop.qbo.update_invoice(scene.invoice_id, Line=[line])  # the bookkeeper raises the invoice
    scene.cycle()
    plan = _plan(scene)
    assert plan.status == "suspended" and "changed in QuickBooks" in (plan.status_reason or "")
    [alert] = _staff(scene, "suspended")
    assert "syncd plan cancel" in alert.text
    scene.cycle(days=10)
    assert scene.intents() == [] and {i.status for i in _installments(scene)} == {"scheduled"}
    assert all(c.status == "cancelled" for c in scene.charges())  # nor does autopay charge it
    assert len(_staff(scene, "suspended")) == 1


def test_a_plan_closes_when_the_invoice_is_paid_another_way(scene_for: Any) -> None:
    scene: Scene = scene_for(enroll=False)
    loop = scene.loop
    plans.create(loop.ctx, loop.realm, scene.invoice_id, down=Decimal("20.00"), count=2, every=Cadence.WEEK)
    scene.cycle()
    _pay_by_link_whole(scene)
    _settle(scene)
    assert _plan(scene).status == "closed"
    assert {i.status for i in _installments(scene)} == {"paid"}
    with loop.ctx.db.transaction() as s:
        assert s.scalars(select(AutopayCharge)).all() == []


def _pay_by_link_whole(scene: Scene) -> None:
    loop = scene.loop
    _align(scene)
    browser = requests.Session()
    url = loop.ctx.links.url(loop.realm, scene.invoice_id)
    page = browser.get(url, timeout=10)
    token = CSRF.search(page.text)
    assert token is not None
    answer = browser.post(
        f"{url}/pay",
        data={"csrf_token": token.group(1), "amount": "120.00"},
        allow_redirects=False,
        timeout=30,
    )
    assert answer.status_code == 303, answer.text[:300]
    found = CHECKOUT.search(answer.headers["location"])
    assert found is not None
    loop.stripe.pay_checkout(found.group(1), "card_success")


def test_a_replayed_installment_charge_never_charges_twice(scene_for: Any) -> None:
    scene: Scene = scene_for()
    loop = scene.loop
    plans.create(loop.ctx, loop.realm, scene.invoice_id, down=Decimal("40.00"), count=1, every=Cadence.MONTH)
    scene.cycle()  # the notice; the down payment moves to three days on
    scene.cycle(days=3)
    [intent] = scene.intents()
    assert intent["amount"] == 4000
    with loop.ctx.db.transaction() as s:
        row = s.get(PlanInstallment, (1, 0))
        assert row is not None and row.status == "paid"
        # As if the worker died after Stripe charged and before it recorded the answer.
        row.status = "charging"
        effect = s.scalars(select(Effect).where(Effect.kind == "stripe.plan_charge")).one()
        effect.status, effect.done_at, effect.next_attempt_at = (
            EffectStatus.PENDING.value,
            None,
            scene.clock.now,
        )
    loop.stripe.clock.advance(timedelta(hours=25))  # past Stripe's key window
    loop.drain()
    _settle(scene)
    assert len(scene.intents()) == 1 and _installments(scene)[0].status == "paid"
    assert [Decimal(str(p["TotalAmt"])) for p in scene.qbo_payments()] == [Decimal("40.00")]


def test_a_plan_cannot_be_made_over_a_payment_on_its_way_to_quickbooks(scene_for: Any) -> None:
    scene: Scene = scene_for(enroll=False)
    loop = scene.loop
    _pay_by_link_whole(scene)  # paid at Stripe; the webhook not ingested yet, the books not written
    loop.stripe.webhooks.flush()
    ingest(loop.ctx)
    with pytest.raises(plans.PlanError, match="on its way"):
        plans.create(
            loop.ctx, loop.realm, scene.invoice_id, down=Decimal("20.00"), count=2, every=Cadence.WEEK
        )


def test_an_installment_debited_from_a_bank_account_is_paid_once_it_settles(scene_for: Any) -> None:
    scene: Scene = scene_for("pm_usBankAccount")
    loop = scene.loop
    with loop.ctx.db.transaction() as s:
        s.get(SavedMethodRow, scene.method_id).kind = "us_bank_account"  # type: ignore[union-attr]
    plans.create(loop.ctx, loop.realm, scene.invoice_id, down=Decimal("40.00"), count=1, every=Cadence.MONTH)
    scene.cycle()
    scene.cycle(days=3)
    [intent] = scene.intents()
    assert intent["status"] == "processing" and _installments(scene)[0].status == "processing"
    assert scene.qbo_payments() == []  # not paid until it settles
    scene.cycle(days=6)  # four business days on, Stripe settles it
    _settle(scene)
    assert _installments(scene)[0].status == "paid"
    assert [Decimal(str(p["TotalAmt"])) for p in scene.qbo_payments()] == [Decimal("40.00")]


@pytest.mark.parametrize(
    ("token", "autopay_stays_on"),
    [("pm_card_chargeDeclinedExpiredCard", False), ("pm_card_authenticationRequired", True)],
)
def test_a_hard_decline_or_authentication_required_misses_the_installment_at_once(
    scene_for: Any, token: str, autopay_stays_on: bool
) -> None:
    scene: Scene = scene_for(token)
    loop = scene.loop
    plans.create(loop.ctx, loop.realm, scene.invoice_id, down=Decimal("40.00"), count=2, every=Cadence.WEEK)
    scene.cycle()
    scene.cycle(days=3)
    assert len(scene.intents()) == 1  # no retry
    assert _installments(scene)[0].status == "missed" and _installments(scene)[0].attempt == 1
    [missed] = _customer(scene, "Installment missed")
    assert loop.ctx.links.url(loop.realm, scene.invoice_id) in missed.text
    assert len(_staff(scene, "Installment missed")) == 1
    with loop.ctx.db.transaction() as s:
        enrollment = s.scalars(select(AutopayEnrollment)).one()
        assert (enrollment.stopped_at is None) is autopay_stays_on
    assert scene.qbo_payments() == []


def test_a_payment_recorded_in_quickbooks_suspends_the_plan(scene_for: Any) -> None:
    scene: Scene = scene_for(enroll=False)
    loop = scene.loop
    plans.create(loop.ctx, loop.realm, scene.invoice_id, down=Decimal("20.00"), count=2, every=Cadence.WEEK)
    loop.qbo.record_offline_payment(scene.invoice_id, Decimal("15.00"))
    scene.cycle()
    assert _plan(scene).status == "suspended" and _customer(scene, "Installment due") == []
    assert len(_staff(scene, "suspended")) == 1


def test_paying_ahead_through_the_invoice_page_covers_the_next_parts_which_are_never_charged(
    scene_for: Any,
) -> None:
    scene: Scene = scene_for(allow_partial=True)  # on autopay; any part of an invoice may be paid
    loop = scene.loop
    today = scene.clock.now.date()
    plans.create(
        loop.ctx,
        loop.realm,
        scene.invoice_id,
        down=Decimal("60.00"),
        count=2,
        every=Cadence.WEEK,
        start=today + timedelta(days=7),
    )
    scene.cycle()
    _align(scene)
    browser = requests.Session()  # the customer pays the down payment early, by themselves
    url = loop.ctx.links.url(loop.realm, scene.invoice_id)
    token = CSRF.search(browser.get(url, timeout=10).text)
    assert token is not None
    answer = browser.post(
        f"{url}/pay",
        data={"csrf_token": token.group(1), "amount": "60.00"},
        allow_redirects=False,
        timeout=30,
    )
    assert answer.status_code == 303
    found = CHECKOUT.search(answer.headers["location"])
    assert found is not None
    loop.stripe.pay_checkout(found.group(1), "card_success")
    _settle(scene)
    assert [i.status for i in _installments(scene)] == ["paid", "scheduled", "scheduled"]
    scene.cycle(days=7)  # the down payment's day: nothing charged
    assert [i["amount"] for i in scene.intents()] == [6000]
