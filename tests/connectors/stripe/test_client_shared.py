"""One suite, two backends: the same connector assertions against `responses` stubs serving the
published samples and against the simulator, so the simulator cannot drift from the samples
without a test noticing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from connectors.stripe.client import StripeConnector
from syncd.domain import CheckoutRequest, PaymentIntentStatus, StripeEvent
from syncd.errors import AuthenticationRequiredError, DeclinedError

if TYPE_CHECKING:
    from conftest import StripeStub


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
        request = CheckoutRequest(
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
            payment_key="pay:shared:1",
        )
        session = self.connector.create_checkout_session(request, idempotency_key="shared:1")
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


Backend = StubBackend | SimBackend


@pytest.fixture(params=["stub", "sim"])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    if request.param == "stub":
        yield StubBackend(request.getfixturevalue("stub"), request.getfixturevalue("stubbed"))
    else:
        yield SimBackend(request.getfixturevalue("sim"), request.getfixturevalue("connector"))


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
    before = backend.request_count() + 1  # the replay lookup by key
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
    assert backend.request_count() - before == 1


def test_throttled_reads_are_retried(backend: Backend) -> None:
    backend.throttle_next_events_read(3)
    before = backend.request_count()
    found = backend.connector.events_after(None, since=backend.since())
    assert found and all(isinstance(event, StripeEvent) for event in found)
    assert [event.created for event in found] == sorted(event.created for event in found)
    assert backend.request_count() - before >= 4
