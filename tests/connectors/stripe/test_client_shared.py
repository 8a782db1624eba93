"""One suite, three backends: the same assertions against the connector over `responses` stubs
serving the published samples and over the simulator, so the simulator cannot drift from the samples
without a test noticing, and against the in-memory fake (``fakes.stripe``) — the Protocol's
contract. Request counts and throttling are the connector's alone (OVER_HTTP); scenarios the stub
cannot stage run over the simulator and the fake (STATEFUL)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
from fakes.stripe import DECLINED, NEEDS_AUTHENTICATION, FakeStripe

from connectors.stripe.client import StripeConnector
from connectors.stripe.webhooks import sign
from syncd.domain import CheckoutRequest, CheckoutStatus, PaymentIntentStatus, StripeEvent
from syncd.errors import AuthenticationRequiredError, DeclinedError, SignatureError, ValidationError
from syncd.ports.stripe import Stripe

if TYPE_CHECKING:
    from conftest import StripeStub

OVER_HTTP = pytest.mark.parametrize("backend", ["stub", "sim"], indirect=True)
STATEFUL = pytest.mark.parametrize("backend", ["sim", "fake"], indirect=True)
SECRET = "whsec_connector_tests"  # the connector fixture's (conftest.py)


def _checkout(key: str = "pay:shared:1") -> CheckoutRequest:
    return CheckoutRequest(
        company="9341452",
        invoice_ids=("130", "131"),
        amount=Decimal("123.45"),
        currency="USD",
        description="Invoices 1037, 1038",
        customer_id=None,
        customer_email="amy@example.com",
        success_url="https://pay.example.com/done",
        cancel_url="https://pay.example.com/",
        payment_methods=("card",),
        payment_key=key,
    )


class StubBackend:
    """Scenarios staged with `responses` from the samples in tests/contracts/stripe/."""

    def __init__(self, stub: StripeStub, connector: StripeConnector) -> None:
        self.stub = stub
        self.connector = connector

    def request_count(self) -> int:
        return len(self.stub.mock.calls)

    def succeeded_card_payment(self) -> str:
        intent = self.stub.sample("docs_examples/payment_intent.json")
        charge = self.stub.sample("docs_examples/charge.json")
        charge["balance_transaction"] = self.stub.sample("docs_examples/balance_transaction.json") | {
            "amount": 12345,
            "fee": 388,
            "net": 11957,
            "type": "charge",
            "source": charge["id"],
        }
        charge["payment_intent"] = intent["id"]
        intent |= {
            "status": "succeeded",
            "amount": 12345,
            "amount_received": 12345,
            "latest_charge": charge,
            "payment_method": self.stub.sample("payment_method_card.json"),
            "metadata": {"company": "9341452", "invoice_ids": "130,131", "payment_key": "pay:shared:1"},
        }
        self.stub.mock.get(self.stub.url(f"/v1/payment_intents/{intent['id']}"), json=intent)
        return str(intent["id"])

    def off_session_method(self, outcome: str) -> tuple[str, str]:
        code = "authentication_required" if outcome == "auth" else "card_declined"
        decline = "authentication_required" if outcome == "auth" else "generic_decline"
        body = self.stub.error("card_error", "Your card was declined.", code, decline_code=decline)
        self.stub.nothing_created_before()
        self.stub.mock.post(self.stub.url("/v1/payment_intents"), status=402, json=body)
        return "cus_QXg1o8vcGmoR32", "pm_1Pgc75B7WZ01zgkWlHVgdEGJ"

    def throttle_next_events_read(self, n: int) -> None:
        path = "/v1/events"
        throttled = self.stub.error("invalid_request_error", "Too many requests", "rate_limit")
        for _ in range(n):
            self.stub.mock.get(self.stub.url(path), status=429, json=throttled)
        self.stub.mock.get(self.stub.url(path), json=self.stub.sample("event_list_response.json"))

    def since(self) -> datetime:
        return datetime(2023, 1, 1, tzinfo=UTC)


class SimBackend:
    """The same scenarios produced by driving the simulator as a payer would."""

    def __init__(self, sim: Any, connector: StripeConnector) -> None:
        self.sim = sim
        self.connector = connector
        self.started: datetime = sim.clock.now()

    def request_count(self) -> int:
        return int(self.sim.request_count())

    def succeeded_card_payment(self) -> str:
        session = self.connector.create_checkout_session(_checkout(), idempotency_key="shared:1")
        self.sim.pay_checkout(session.id, "card_success")
        intent_id = self.connector.get_checkout_session(session.id).payment_intent_id
        assert intent_id is not None
        return intent_id

    def off_session_method(self, outcome: str) -> tuple[str, str]:
        customer = self.connector.ensure_customer(
            company="9341452", qbo_customer_id="77", name="Shared", email=None, idempotency_key="shared:c77"
        )
        return customer, "pm_card_authenticationRequired" if outcome == "auth" else "pm_card_chargeDeclined"

    def throttle_next_events_read(self, n: int) -> None:
        self.succeeded_card_payment()
        self.sim.faults.throttle_next(n)

    def since(self) -> datetime:
        return self.started - timedelta(seconds=1)

    def delivery(self) -> bytes:
        self.succeeded_card_payment()
        return json.dumps(self.sim.objects("event")[-1]).encode()

    def now(self) -> datetime:
        return self.sim.clock.now()  # type: ignore[no-any-return]


class FakeBackend:
    """The same scenarios played on the in-memory fake's payer hooks."""

    def __init__(self) -> None:
        self.fake = FakeStripe(webhook_secret=SECRET)
        self.connector: Stripe = self.fake

    def succeeded_card_payment(self) -> str:
        session = self.connector.create_checkout_session(_checkout(), idempotency_key="shared:1")
        return self.fake.pay_checkout(session.id).id

    def off_session_method(self, outcome: str) -> tuple[str, str]:
        customer = self.connector.ensure_customer(
            company="9341452", qbo_customer_id="77", name="Shared", email=None, idempotency_key="shared:c77"
        )
        return customer, NEEDS_AUTHENTICATION if outcome == "auth" else DECLINED

    def delivery(self) -> bytes:
        self.succeeded_card_payment()
        return self.fake.body(self.fake.events[-1])

    def now(self) -> datetime:
        return self.fake.clock()


Backend = StubBackend | SimBackend | FakeBackend


@pytest.fixture(params=["stub", "sim", "fake"])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    if request.param == "stub":
        yield StubBackend(request.getfixturevalue("stub"), request.getfixturevalue("stubbed"))
    elif request.param == "sim":
        yield SimBackend(request.getfixturevalue("sim"), request.getfixturevalue("connector"))
    else:
        yield FakeBackend()


def test_succeeded_card_payment_with_fees(backend: Backend) -> None:
    intent = backend.connector.get_payment_intent(backend.succeeded_card_payment())
    assert intent.status is PaymentIntentStatus.SUCCEEDED
    assert (intent.amount, intent.amount_received, intent.currency) == (Decimal("123.45"),) * 2 + ("USD",)
    assert intent.payment_method_type == "card" and intent.latest_charge_id
    assert intent.metadata["invoice_ids"] == "130,131"
    txn = intent.balance_txn
    assert txn is not None and txn.source_id == intent.latest_charge_id
    assert (txn.amount, txn.fee, txn.net) == (Decimal("123.45"), Decimal("3.88"), Decimal("119.57"))


@pytest.mark.parametrize(
    ("outcome", "error"), [("declined", DeclinedError), ("auth", AuthenticationRequiredError)]
)
def test_off_session_failures_raise_once(backend: Backend, outcome: str, error: type[DeclinedError]) -> None:
    customer, method = backend.off_session_method(outcome)
    # Over HTTP: one request after the replay lookup by key (no retry of a decline).
    before = 0 if isinstance(backend, FakeBackend) else backend.request_count() + 1
    with pytest.raises(error) as raised:
        backend.connector.charge_off_session(
            customer_id=customer,
            payment_method_id=method,
            amount=Decimal("42.00"),
            currency="USD",
            metadata={"company": "9341452", "invoice_ids": "140"},
            idempotency_key=f"shared:autopay:{outcome}",
        )
    assert type(raised.value) is error and raised.value.customer_message
    if not isinstance(backend, FakeBackend):
        assert backend.request_count() - before == 1


@OVER_HTTP
def test_throttled_reads_are_retried(backend: Any) -> None:
    backend.throttle_next_events_read(3)
    before = backend.request_count()
    found = backend.connector.events_after(None, since=backend.since())
    assert found and all(isinstance(event, StripeEvent) for event in found)
    assert [event.created for event in found] == sorted(event.created for event in found)
    assert backend.request_count() - before >= 4


@STATEFUL
def test_a_checkout_key_answers_one_session_until_it_expires(backend: Backend) -> None:
    stripe = backend.connector
    first = stripe.create_checkout_session(_checkout("pay:shared:2"), idempotency_key="shared:2")
    assert (
        stripe.create_checkout_session(_checkout("pay:shared:2"), idempotency_key="shared:2").id == first.id
    )
    assert first.status is CheckoutStatus.OPEN and first.url and first.payment_intent_id is None
    assert (first.amount, first.currency) == (Decimal("123.45"), "USD")
    assert first.metadata["payment_key"] == "pay:shared:2"
    assert first.metadata["invoice_ids"] == "130,131"
    assert stripe.get_checkout_session(first.id).id == first.id
    assert stripe.expire_checkout_session(first.id).status is CheckoutStatus.EXPIRED
    assert stripe.expire_checkout_session(first.id).status is CheckoutStatus.EXPIRED  # a no-op now


@STATEFUL
def test_one_customer_per_qbo_customer(backend: Backend) -> None:
    def ensure(key: str) -> str:
        return backend.connector.ensure_customer(
            company="9341452",
            qbo_customer_id="88",
            name="Once",
            email="once@example.com",
            idempotency_key=key,
        )

    assert ensure("customer:88") == ensure("customer:88:again")
    assert backend.connector.saved_methods(ensure("customer:88")) == []


@STATEFUL
def test_a_refund_key_refunds_once(backend: Backend) -> None:
    intent = backend.connector.get_payment_intent(backend.succeeded_card_payment())
    refund = backend.connector.refund(
        payment_intent_id=intent.id, amount=Decimal("23.45"), metadata={"qbo": "r1"}, idempotency_key="r:1"
    )
    again = backend.connector.refund(
        payment_intent_id=intent.id, amount=Decimal("23.45"), metadata={"qbo": "r1"}, idempotency_key="r:1"
    )
    assert again.id == refund.id
    assert (refund.amount, refund.currency, refund.payment_intent_id) == (Decimal("23.45"), "USD", intent.id)
    assert refund.charge_id == intent.latest_charge_id
    assert backend.connector.get_refund(refund.id).amount == Decimal("23.45")
    with pytest.raises(ValidationError):
        backend.connector.refund(
            payment_intent_id=intent.id, amount=Decimal("500.00"), metadata={}, idempotency_key="r:2"
        )


@STATEFUL
def test_a_webhook_is_read_only_when_signed_with_the_secret_in_time(backend: Any) -> None:
    body = backend.delivery()
    at = int(backend.now().timestamp())
    event = backend.connector.parse_webhook(body, sign(body, SECRET, at))
    assert event == backend.connector.parse_event(body)
    assert event.metadata["payment_key"] == "pay:shared:1"  # the payment the delivery is about
    for forged in (sign(body, "whsec_other", at), sign(body, SECRET, at - 3600), None):
        with pytest.raises(SignatureError):
            backend.connector.parse_webhook(body, forged)


@STATEFUL
def test_a_hold_is_captured_once_up_to_what_it_holds(backend: Backend) -> None:
    stripe = backend.connector
    customer = stripe.ensure_customer(
        company="9341452", qbo_customer_id="78", name="Hold", email=None, idempotency_key="shared:c78"
    )

    def hold(key: str) -> Any:
        return stripe.authorize_card(
            customer_id=customer,
            payment_method_id="pm_card_visa",
            amount=Decimal("150.00"),
            currency="USD",
            metadata={"company": "9341452"},
            idempotency_key=key,
        )

    held = hold("shared:hold:1")
    assert held.held and held.amount_capturable == Decimal("150.00") and held.capture_before is not None
    assert hold("shared:hold:1").id == held.id
    with pytest.raises(ValidationError):
        stripe.capture_authorization(held.id, amount=Decimal("150.01"), metadata={}, idempotency_key="c:0")
    taken = stripe.capture_authorization(
        held.id, amount=Decimal("90.00"), metadata={"payment_key": "p1"}, idempotency_key="c:1"
    )
    assert (
        taken.captured and taken.amount_received == Decimal("90.00") and taken.metadata["payment_key"] == "p1"
    )
    again = stripe.capture_authorization(held.id, amount=Decimal("90.00"), metadata={}, idempotency_key="c:2")
    assert again.amount_received == Decimal("90.00")
    assert stripe.get_payment_intent(held.id).amount_received == Decimal("90.00")
    assert stripe.cancel_authorization(held.id, idempotency_key="r:1").captured
    other = hold("shared:hold:2")
    gone = stripe.cancel_authorization(other.id, idempotency_key="r:2")
    assert gone.canceled and stripe.cancel_authorization(other.id, idempotency_key="r:3").canceled
