"""StripeConnector over HTTP against the Stripe simulator: the flows syncd depends on, end to end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from connectors.serving import ThreadedServer
from connectors.stripe.client import StripeConnector
from syncd.domain import (
    CheckoutRequest,
    CheckoutSession,
    CheckoutStatus,
    DisputeStatus,
    PaymentIntentStatus,
    PayoutStatus,
    StripeEventKind,
)
from syncd.domain.autopay import Mandate
from syncd.errors import (
    AuthenticationRequiredError,
    DeclinedError,
    DeclineKind,
    SignatureError,
    ValidationError,
)

pytest.importorskip("connectors.stripe.simulator")

if TYPE_CHECKING:
    from conftest import WebhookReceiver

COMPANY = "9341452"


def _checkout(
    connector: StripeConnector,
    *,
    key: str = "pay:abc:1",
    amount: str = "123.45",
    currency: str = "USD",
    methods: tuple[str, ...] = ("card", "us_bank_account"),
    customer_id: str | None = None,
    save_method: bool = False,
) -> CheckoutSession:
    request = CheckoutRequest(
        company=COMPANY,
        invoice_ids=("130", "131"),
        amount=Decimal(amount),
        currency=currency,
        description="Invoices 1037, 1038",
        customer_id=customer_id,
        customer_email=None if customer_id else "amy@example.com",
        success_url="https://pay.example.com/i/abc/done",
        cancel_url="https://pay.example.com/i/abc",
        payment_methods=methods,
        payment_key=key,
        save_method=save_method,
    )
    return connector.create_checkout_session(request, idempotency_key=f"syncd:checkout:{key}")


def _paid_by_card(
    sim: Any, connector: StripeConnector, amount: str = "123.45"
) -> tuple[CheckoutSession, str]:
    session = _checkout(connector, amount=amount, key=f"pay:card:{amount}")
    sim.pay_checkout(session.id, "card_success")
    done = connector.get_checkout_session(session.id)
    assert done.payment_intent_id is not None
    return done, done.payment_intent_id


def test_completed_card_payment(sim: Any, connector: StripeConnector, receiver: WebhookReceiver) -> None:
    customer = connector.ensure_customer(
        company=COMPANY,
        qbo_customer_id="58",
        name="Amy's Bird Sanctuary",
        email="amy@example.com",
        idempotency_key="c58",
    )
    session = _checkout(connector, customer_id=customer)
    assert session.status is CheckoutStatus.OPEN and session.url
    assert (session.amount, session.currency) == (Decimal("123.45"), "USD")
    assert session.metadata == {"company": COMPANY, "invoice_ids": "130,131", "payment_key": "pay:abc:1"}
    sim.pay_checkout(session.id, "card_success")
    done = connector.get_checkout_session(session.id)
    assert (done.status, done.payment_status) == (CheckoutStatus.COMPLETE, "paid")
    assert done.payment_intent_id is not None
    intent = connector.get_payment_intent(done.payment_intent_id)
    assert intent.status is PaymentIntentStatus.SUCCEEDED
    assert (intent.amount_received, intent.customer_id, intent.payment_method_type) == (
        Decimal("123.45"),
        customer,
        "card",
    )
    assert intent.metadata["invoice_ids"] == "130,131"
    txn = intent.balance_txn
    assert txn is not None and txn.amount == Decimal("123.45")
    assert txn.fee == Decimal("3.88")  # 2.9 % of 123.45 = 3.58005 -> 3.58, plus 0.30
    assert txn.net == txn.amount - txn.fee
    sim.webhooks.flush()
    completed = receiver.of_type("checkout.session.completed")
    assert len(completed) == 1 and completed[0].paid is True
    assert (completed[0].payment_intent_id, completed[0].amount) == (intent.id, Decimal("123.45"))
    assert completed[0].metadata["payment_key"] == "pay:abc:1"
    assert receiver.of_type("payment_intent.succeeded")[0].kind is StripeEventKind.PAYMENT_SUCCEEDED
    assert receiver.refused == []


def test_ensure_customer_is_one_to_one(sim: Any, connector: StripeConnector) -> None:
    first = connector.ensure_customer(
        company=COMPANY, qbo_customer_id="58", name="Amy", email=None, idempotency_key="a"
    )
    again = connector.ensure_customer(
        company=COMPANY, qbo_customer_id="58", name="Amy", email=None, idempotency_key="a"
    )
    other = connector.ensure_customer(
        company=COMPANY, qbo_customer_id="59", name="Bob", email=None, idempotency_key="b"
    )
    assert first == again != other
    assert len(sim.objects("customer")) == 2


def test_declined_card_leaves_the_session_open(sim: Any, connector: StripeConnector) -> None:
    session = _checkout(connector)
    sim.pay_checkout(session.id, "card_declined")
    after = connector.get_checkout_session(session.id)
    assert after.status is CheckoutStatus.OPEN and after.payment_status == "unpaid"
    if after.payment_intent_id is not None:
        intent = connector.get_payment_intent(after.payment_intent_id)
        assert intent.status is not PaymentIntentStatus.SUCCEEDED


def test_ach_success_settles_after_days(
    sim: Any, connector: StripeConnector, receiver: WebhookReceiver
) -> None:
    session = _checkout(connector, methods=("us_bank_account",))
    sim.pay_checkout(session.id, "ach_success")
    pending = connector.get_checkout_session(session.id)
    assert (pending.status, pending.payment_status) == (CheckoutStatus.COMPLETE, "unpaid")
    assert pending.payment_intent_id is not None
    intent = connector.get_payment_intent(pending.payment_intent_id)
    assert intent.status is PaymentIntentStatus.PROCESSING and intent.payment_method_type == "us_bank_account"
    sim.webhooks.flush()
    assert receiver.of_type("checkout.session.completed")[0].paid is False
    sim.clock.advance(timedelta(days=7))
    settled = connector.get_payment_intent(pending.payment_intent_id)
    assert settled.status is PaymentIntentStatus.SUCCEEDED
    assert settled.balance_txn is not None and settled.balance_txn.fee > 0
    sim.webhooks.flush()
    succeeded = receiver.of_type("checkout.session.async_payment_succeeded")
    assert len(succeeded) == 1 and succeeded[0].kind is StripeEventKind.CHECKOUT_ASYNC_SUCCEEDED
    assert succeeded[0].paid is True


def test_ach_failure(sim: Any, connector: StripeConnector, receiver: WebhookReceiver) -> None:
    session = _checkout(connector, methods=("us_bank_account",))
    sim.pay_checkout(session.id, "ach_failure")
    sim.clock.advance(timedelta(days=7))
    after = connector.get_checkout_session(session.id)
    assert after.payment_intent_id is not None
    intent = connector.get_payment_intent(after.payment_intent_id)
    assert intent.status is not PaymentIntentStatus.SUCCEEDED and intent.amount_received == 0
    sim.webhooks.flush()
    failed = receiver.of_type("checkout.session.async_payment_failed")
    assert len(failed) == 1 and failed[0].kind is StripeEventKind.CHECKOUT_ASYNC_FAILED
    assert failed[0].metadata["invoice_ids"] == "130,131"


def test_refund(sim: Any, connector: StripeConnector, receiver: WebhookReceiver) -> None:
    _, intent_id = _paid_by_card(sim, connector)
    refund = connector.refund(
        payment_intent_id=intent_id,
        amount=Decimal("23.45"),
        metadata={"company": COMPANY},
        idempotency_key="r1",
    )
    again = connector.refund(
        payment_intent_id=intent_id,
        amount=Decimal("23.45"),
        metadata={"company": COMPANY},
        idempotency_key="r1",
    )
    assert again.id == refund.id and len(sim.objects("refund")) == 1
    sim.clock.advance(timedelta(hours=25))
    late = connector.refund(
        payment_intent_id=intent_id,
        amount=Decimal("23.45"),
        metadata={"company": COMPANY},
        idempotency_key="r1",
    )
    assert late.id == refund.id and len(sim.objects("refund")) == 1
    assert (refund.amount, refund.currency, refund.payment_intent_id) == (Decimal("23.45"), "USD", intent_id)
    fetched = connector.get_refund(refund.id)
    assert fetched.balance_txn is not None and fetched.balance_txn.amount == Decimal("-23.45")
    assert fetched.metadata == {"company": COMPANY, "syncd_key": "r1"}
    sim.webhooks.flush()
    refunded = receiver.of_type("charge.refunded")
    assert (
        refunded and refunded[-1].amount == Decimal("23.45") and refunded[-1].payment_intent_id == intent_id
    )


def test_dispute_opened_and_won(sim: Any, connector: StripeConnector, receiver: WebhookReceiver) -> None:
    _, intent_id = _paid_by_card(sim, connector)
    charge_id = connector.get_payment_intent(intent_id).latest_charge_id
    assert charge_id is not None
    dispute_id = sim.open_dispute(charge_id)
    opened = connector.get_dispute(dispute_id)
    assert (opened.charge_id, opened.amount, opened.payment_intent_id) == (
        charge_id,
        Decimal("123.45"),
        intent_id,
    )
    assert opened.status in (DisputeStatus.NEEDS_RESPONSE, DisputeStatus.WARNING_NEEDS_RESPONSE)
    assert [(t.amount, t.fee) for t in opened.balance_txns] == [(Decimal("-123.45"), Decimal("15.00"))]
    sim.close_dispute(dispute_id, won=True)
    won = connector.get_dispute(dispute_id)
    assert won.status is DisputeStatus.WON
    assert sum(t.amount for t in won.balance_txns) == 0
    sim.webhooks.flush()
    assert [e.kind for e in receiver.events if e.type.startswith("charge.dispute.")][:1] == [
        StripeEventKind.DISPUTE_CREATED
    ]
    assert receiver.of_type("charge.dispute.closed")[-1].status == "won"


def test_payout_with_fees(sim: Any, connector: StripeConnector, receiver: WebhookReceiver) -> None:
    start = sim.clock.now()
    _paid_by_card(sim, connector, amount="100.00")
    _paid_by_card(sim, connector, amount="50.00")
    sim.clock.advance(timedelta(days=3))  # funds become available and the daily sweep pays them out
    swept = [p["id"] for p in sim.objects("payout")]
    payout_id = swept[0] if swept else sim.create_payout()
    assert len(swept) <= 1
    sim.clock.advance(timedelta(days=3))
    payout = connector.get_payout(payout_id)
    assert payout.status is PayoutStatus.PAID and payout.currency == "USD"
    settled = connector.payout_balance_txns(payout_id)
    charges = [t for t in settled if t.type in ("charge", "payment")]
    assert len(charges) == 2
    assert sum((t.fee for t in charges), Decimal(0)) == Decimal("4.95")  # (2.90 + 0.30) + (1.45 + 0.30)
    assert sum((t.net for t in charges), Decimal(0)) == payout.amount == Decimal("145.05")
    window = list(
        connector.balance_txns(created_from=start, created_to=sim.clock.now() + timedelta(seconds=1))
    )
    assert [t.created for t in window] == sorted(t.created for t in window)
    assert payout.balance_txn_id in {t.id for t in window}
    sim.webhooks.flush()
    assert receiver.of_type("payout.paid")[0].object_id == payout_id


def test_idempotent_replay_same_key_same_session(sim: Any, connector: StripeConnector) -> None:
    first = _checkout(connector, key="pay:abc:7")
    replay = _checkout(connector, key="pay:abc:7")
    assert replay.id == first.id
    assert len(sim.objects("checkout.session")) == 1


def test_replay_after_the_key_expired_finds_the_session_by_metadata(
    sim: Any, connector: StripeConnector
) -> None:
    first_attempt = sim.clock.now()
    first = _checkout(connector, key="pay:abc:8")
    _checkout(connector, key="pay:other:1")
    sim.clock.advance(timedelta(hours=25))
    request = CheckoutRequest(
        company=COMPANY,
        invoice_ids=("130", "131"),
        amount=Decimal("123.45"),
        currency="USD",
        description="Invoices 1037, 1038",
        customer_id=None,
        customer_email="amy@example.com",
        success_url="https://pay.example.com/i/abc/done",
        cancel_url="https://pay.example.com/i/abc",
        payment_methods=("card",),
        payment_key="pay:abc:8",
    )
    replay = connector.create_checkout_session(
        request, idempotency_key="syncd:checkout:pay:abc:8", first_attempt_at=first_attempt
    )
    assert replay.id == first.id
    assert len(sim.objects("checkout.session")) == 2


def test_off_session_charges(sim: Any, connector: StripeConnector) -> None:
    customer = connector.ensure_customer(
        company=COMPANY, qbo_customer_id="60", name="C", email=None, idempotency_key="c60"
    )

    def charge(method: str, key: str) -> Any:
        return connector.charge_off_session(
            customer_id=customer,
            payment_method_id=method,
            amount=Decimal("42.00"),
            currency="USD",
            metadata={"company": COMPANY, "invoice_ids": "140"},
            idempotency_key=key,
        )

    paid = charge("pm_card_visa", "autopay:140:1")
    assert paid.status is PaymentIntentStatus.SUCCEEDED and paid.amount_received == Decimal("42.00")
    assert paid.balance_txn is not None and paid.balance_txn.fee == Decimal("1.52")
    before = sim.request_count()
    with pytest.raises(AuthenticationRequiredError) as needs_auth:
        charge("pm_card_authenticationRequired", "autopay:140:2")
    assert needs_auth.value.customer_message and needs_auth.value.code == "authentication_required"
    with pytest.raises(DeclinedError) as declined:
        charge("pm_card_chargeDeclined", "autopay:140:3")
    assert not isinstance(declined.value, AuthenticationRequiredError)
    assert sim.request_count() - before == 4  # a lookup and one create each: declines are never retried
    sim.clock.advance(timedelta(hours=25))  # Stripe has forgotten the keys: the lookup answers
    with pytest.raises(DeclinedError):
        charge("pm_card_chargeDeclined", "autopay:140:3")
    assert charge("pm_card_visa", "autopay:140:1").id == paid.id
    assert len(sim.objects("payment_intent")) == 3


@pytest.mark.parametrize(
    ("method", "code", "kind"),
    [
        # Stripe's documented test cards for each decline an automatic charge may meet.
        ("pm_card_chargeDeclinedInsufficientFunds", "insufficient_funds", DeclineKind.SOFT),
        ("pm_card_chargeDeclinedProcessingError", "processing_error", DeclineKind.SOFT),
        ("pm_card_chargeDeclinedExpiredCard", "expired_card", DeclineKind.HARD),
        ("pm_card_chargeDeclinedLostCard", "lost_card", DeclineKind.HARD),
        ("pm_card_chargeDeclinedStolenCard", "stolen_card", DeclineKind.HARD),
        ("pm_card_chargeDeclined", "generic_decline", DeclineKind.HARD),
        ("pm_card_authenticationRequired", "authentication_required", DeclineKind.AUTHENTICATION),
    ],
)
def test_off_session_declines_by_kind(
    connector: StripeConnector, method: str, code: str, kind: DeclineKind
) -> None:
    customer = connector.ensure_customer(
        company=COMPANY, qbo_customer_id="61", name="D", email=None, idempotency_key="c61"
    )
    with pytest.raises(DeclinedError) as declined:
        connector.charge_off_session(
            customer_id=customer,
            payment_method_id=method,
            amount=Decimal("42.00"),
            currency="USD",
            metadata={"company": COMPANY, "invoice_ids": "141"},
            idempotency_key=f"autopay:141:{method}",
        )
    assert (declined.value.code, declined.value.kind) == (code, kind)
    assert declined.value.customer_message


def test_an_off_session_bank_debit_needs_a_mandate(connector: StripeConnector) -> None:
    customer = connector.ensure_customer(
        company=COMPANY, qbo_customer_id="62", name="B", email=None, idempotency_key="c62"
    )

    def debit(key: str, mandate: Mandate | None) -> Any:
        return connector.charge_off_session(
            customer_id=customer,
            payment_method_id="pm_usBankAccount",
            amount=Decimal("42.00"),
            currency="USD",
            metadata={"company": COMPANY, "invoice_ids": "142"},
            idempotency_key=key,
            mandate=mandate,
        )

    with pytest.raises(ValidationError, match="mandate"):
        debit("autopay:142:1", None)
    accepted = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    paid = debit("autopay:142:2", Mandate(accepted_at=accepted, ip="203.0.113.7", user_agent="Phone/1.0"))
    assert paid.status is PaymentIntentStatus.PROCESSING


def test_forged_webhook_is_refused(sim: Any, connector: StripeConnector, receiver: WebhookReceiver) -> None:
    sim.webhooks.max_attempts = 1  # a refused delivery would otherwise be retried with back-off
    with ThreadedServer(receiver) as forger_target:
        sim.add_webhook_endpoint(forger_target.url + "/stripe/webhook", "whsec_someone_else")
        _paid_by_card(sim, connector)
        sim.webhooks.flush()
    assert receiver.refused and all(isinstance(exc, SignatureError) for exc in receiver.refused)
    assert len(receiver.of_type("checkout.session.completed")) == 1  # the genuine delivery only


def test_missed_webhooks_recovered_by_events_after(
    sim: Any, connector: StripeConnector, receiver: WebhookReceiver
) -> None:
    since = sim.clock.now()
    sim.webhooks.paused = True
    done, intent_id = _paid_by_card(sim, connector)
    assert receiver.events == []
    recovered = connector.events_after(None, since=since)
    assert [e.created for e in recovered] == sorted(e.created for e in recovered)
    completed = [e for e in recovered if e.kind is StripeEventKind.CHECKOUT_COMPLETED]
    assert len(completed) == 1 and completed[0].checkout_session_id == done.id and completed[0].paid
    assert intent_id in {e.payment_intent_id for e in recovered}
    cursor = recovered[-1].id
    assert connector.events_after(cursor, since=since) == []
    _paid_by_card(sim, connector, amount="10.00")
    newer = connector.events_after(cursor, since=since)
    assert newer and {e.id for e in newer}.isdisjoint({e.id for e in recovered})
    assert [e.created for e in newer] == sorted(e.created for e in newer)
    sim.webhooks.paused = False


def test_throttling_and_server_errors_are_retried(sim: Any, connector: StripeConnector) -> None:
    session = _checkout(connector)
    sim.faults.throttle_next(3)
    assert connector.get_checkout_session(session.id).id == session.id
    sim.faults.error_rate = 0.3
    try:
        for _ in range(8):
            assert connector.get_checkout_session(session.id).id == session.id
        replay = _checkout(connector)
    finally:
        sim.faults.reset()
    assert replay.id == session.id and len(sim.objects("checkout.session")) == 1
