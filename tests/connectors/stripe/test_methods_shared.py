"""Saved payment methods, one suite on two backends: `responses` stubs serving the published
PaymentMethod / SetupIntent / Checkout Session samples, and the simulator driven as a customer
would drive Stripe's page. The same connector calls must give the same syncd types on both."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC
from typing import TYPE_CHECKING, Any

import pytest

from connectors.stripe.client import StripeConnector
from connectors.stripe.events import stripe_event
from syncd.domain import CheckoutStatus, MethodKind, SavedMethod, SetupRequest, StripeEventKind

if TYPE_CHECKING:
    from conftest import StripeStub

CARD = "payment_method_card.json"
BANK = "payment_method_us_bank_account.json"


def _request(customer: str) -> SetupRequest:
    return SetupRequest(
        company="9341452",
        qbo_customer_id="58",
        customer_id=customer,
        request_key="card-request:9341452:58:1",
        success_url="https://pay.example.com/card/saved",
        cancel_url="https://pay.example.com/card",
        payment_methods=("card", "us_bank_account"),
    )


class StubBackend:
    def __init__(self, stub: StripeStub, connector: StripeConnector) -> None:
        self.stub = stub
        self.connector = connector
        self.customer = str(stub.sample("customer.json")["id"])

    def sent_setup_form(self) -> dict[str, str]:
        return self.stub.form(self.stub.calls("POST", "/v1/checkout/sessions")[-1].body)

    def stage_setup_session(self) -> None:
        session = self.stub.sample("checkout_session.json") | {
            "mode": "setup",
            "payment_status": "no_payment_required",
            "amount_total": None,
            "amount_subtotal": None,
            "payment_intent": None,
            "customer": self.customer,
            "metadata": {
                "company": "9341452",
                "qbo_customer": "58",
                "request_key": "card-request:9341452:58:1",
            },
        }
        self.stub.mock.post(self.stub.url("/v1/checkout/sessions"), json=session)

    def stage_saved_card_and_bank(self) -> None:
        card = self.stub.sample(CARD) | {"customer": self.customer, "created": 1726673590}
        bank = self.stub.sample(BANK) | {"customer": self.customer}
        path = f"/v1/customers/{self.customer}/payment_methods"
        self.stub.mock.get(self.stub.url(path), json=self.stub.listing(path, [card, bank]))
        customer = self.stub.sample("customer.json")
        customer["invoice_settings"]["default_payment_method"] = card["id"]
        self.stub.mock.get(self.stub.url(f"/v1/customers/{self.customer}"), json=customer)

    def card_id(self) -> str:
        return str(self.stub.sample(CARD)["id"])

    def stage_detach_twice(self, method_id: str) -> None:
        detached = self.stub.sample(CARD) | {"customer": None}
        path = f"/v1/payment_methods/{method_id}/detach"
        self.stub.mock.post(self.stub.url(path), json=detached)
        refused = self.stub.error(
            "invalid_request_error",
            "The payment method you provided is not attached to a customer so detachment is impossible.",
        )
        self.stub.mock.post(self.stub.url(path), status=400, json=refused)
        self.stub.mock.get(self.stub.url(f"/v1/payment_methods/{method_id}"), json=detached)

    def method_events(self) -> list[dict[str, Any]]:
        """payment_method.attached / .detached envelopes around the published card sample."""
        envelope = json.loads(json.dumps(self.stub.sample("event_list_response.json")["data"][0]))
        attached = self.stub.sample(CARD) | {"customer": self.customer}
        detached = self.stub.sample(CARD) | {"customer": None}
        return [
            envelope | {"id": "evt_attach", "type": "payment_method.attached", "data": {"object": attached}},
            envelope
            | {
                "id": "evt_detach",
                "type": "payment_method.detached",
                "data": {"object": detached, "previous_attributes": {"customer": self.customer}},
            },
        ]

    def setup_events(self) -> list[dict[str, Any]]:
        """setup_intent.succeeded and a setup-mode checkout.session.completed around the samples."""
        envelope = json.loads(json.dumps(self.stub.sample("event_list_response.json")["data"][0]))
        tags = {"company": "9341452", "qbo_customer": "58", "request_key": "card-request:9341452:58:1"}
        seti = self.stub.sample("setup_intent.json") | {
            "status": "succeeded",
            "customer": self.customer,
            "payment_method": self.card_id(),
            "metadata": tags,
        }
        session = self.stub.sample("checkout_session.json") | {
            "mode": "setup",
            "status": "complete",
            "payment_status": "no_payment_required",
            "payment_intent": None,
            "customer": self.customer,
            "setup_intent": seti["id"],
            "metadata": tags,
        }
        return [
            envelope | {"id": "evt_seti", "type": "setup_intent.succeeded", "data": {"object": seti}},
            envelope | {"id": "evt_cs", "type": "checkout.session.completed", "data": {"object": session}},
        ]


class SimBackend:
    def __init__(self, sim: Any, connector: StripeConnector) -> None:
        self.sim = sim
        self.connector = connector
        self.customer = connector.ensure_customer(
            company="9341452", qbo_customer_id="58", name="Amy", email="amy@example.com", idempotency_key="c"
        )

    def sent_setup_form(self) -> dict[str, str]:
        session = self.sim.objects("checkout.session")[-1]
        return {
            "mode": session["mode"],
            "customer": session["customer"],
            "metadata[request_key]": session["metadata"]["request_key"],
            "allowed_payment_method_types[1]": session["allowed_payment_method_types"][1],
        }

    def stage_setup_session(self) -> None:
        return None

    def stage_saved_card_and_bank(self) -> None:
        first = self.connector.start_setup_checkout(_request(self.customer), idempotency_key="setup:1")
        self.sim.pay_checkout(first.id, "ach_success")
        second = self.connector.start_setup_checkout(_request(self.customer), idempotency_key="setup:2")
        self.sim.pay_checkout(second.id, "card_success", (8, 2030))
        card = next(m for m in self.connector.saved_methods(self.customer) if m.kind is MethodKind.CARD)
        self.connector.set_default_method(self.customer, card.id, idempotency_key="default:1")

    def card_id(self) -> str:
        methods = self.connector.saved_methods(self.customer)
        return next(m.id for m in methods if m.kind is MethodKind.CARD)

    def stage_detach_twice(self, method_id: str) -> None:
        return None

    def method_events(self) -> list[dict[str, Any]]:
        self.stage_saved_card_and_bank()
        self.connector.detach_method(self.card_id(), idempotency_key="detach:1")
        wanted = ("payment_method.attached", "payment_method.detached")
        found = [e for e in self.sim.objects("event") if e["type"] in wanted]
        card_events = [e for e in found if e["data"]["object"]["type"] == "card"]
        return sorted(card_events, key=lambda e: wanted.index(e["type"]))

    def setup_events(self) -> list[dict[str, Any]]:
        session = self.connector.start_setup_checkout(_request(self.customer), idempotency_key="setup:e")
        self.sim.pay_checkout(session.id, "card_success", (8, 2030))
        wanted = ("setup_intent.succeeded", "checkout.session.completed")
        found = [e for e in self.sim.objects("event") if e["type"] in wanted]
        return sorted(found, key=lambda e: wanted.index(e["type"]))


Backend = StubBackend | SimBackend


@pytest.fixture(params=["stub", "sim"])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    if request.param == "stub":
        yield StubBackend(request.getfixturevalue("stub"), request.getfixturevalue("stubbed"))
    else:
        yield SimBackend(request.getfixturevalue("sim"), request.getfixturevalue("connector"))


def test_setup_checkout_is_setup_mode_for_the_customer(backend: Backend) -> None:
    backend.stage_setup_session()
    session = backend.connector.start_setup_checkout(_request(backend.customer), idempotency_key="setup:1")
    assert session.status is CheckoutStatus.OPEN and session.url
    assert session.payment_status == "no_payment_required" and session.payment_intent_id is None
    assert session.metadata["request_key"] == "card-request:9341452:58:1"
    sent = backend.sent_setup_form()
    assert (sent["mode"], sent["customer"]) == ("setup", backend.customer)
    assert sent["metadata[request_key]"] == "card-request:9341452:58:1"
    assert sent["allowed_payment_method_types[1]"] == "us_bank_account"


def _shape(method: SavedMethod) -> tuple[object, ...]:
    return (
        method.kind,
        method.brand,
        method.last4,
        method.exp_month,
        method.exp_year,
        method.bank_name,
        method.is_default,
        method.customer_id is not None,
    )


def test_saved_methods_are_syncd_types_with_the_default_marked(backend: Backend) -> None:
    backend.stage_saved_card_and_bank()
    found = backend.connector.saved_methods(backend.customer)
    assert sorted(map(_shape, found), key=repr) == sorted(
        [
            (MethodKind.CARD, "visa", "4242", 8, 2030, None, True, True),
            (MethodKind.US_BANK_ACCOUNT, None, "6789", None, None, "STRIPE TEST BANK", False, True),
        ],
        key=repr,
    )
    card = next(m for m in found if m.kind is MethodKind.CARD)
    assert card.expires_on is not None and card.expires_on.isoformat() == "2030-08-31"
    assert all(m.created.tzinfo is UTC for m in found)


def test_detach_twice_is_one_detach(backend: Backend) -> None:
    backend.stage_saved_card_and_bank()
    method_id = backend.card_id()
    backend.stage_detach_twice(method_id)
    backend.connector.detach_method(method_id, idempotency_key="detach:a")
    backend.connector.detach_method(method_id, idempotency_key="detach:b")


def test_method_events_say_whose_method_changed(backend: Backend) -> None:
    attached, detached = (stripe_event(e) for e in backend.method_events())
    kinds = (attached.kind, detached.kind)
    assert kinds == (StripeEventKind.METHOD_ATTACHED, StripeEventKind.METHOD_DETACHED)
    for event in (attached, detached):
        change = event.method_change
        assert change is not None and change.method is not None
        assert change.customer_id == backend.customer
        method = change.method
        found = (method.kind, method.last4, method.brand, method.exp_year)
        assert found == (MethodKind.CARD, "4242", "visa", 2030)
    assert detached.method_change is not None and detached.method_change.method is not None
    assert detached.method_change.method.customer_id == backend.customer


def test_setup_events_name_the_request_and_the_saved_method(backend: Backend) -> None:
    seti_event, session_event = (stripe_event(e) for e in backend.setup_events())
    assert seti_event.kind is StripeEventKind.SETUP_SUCCEEDED
    assert session_event.kind is StripeEventKind.CHECKOUT_COMPLETED
    seti, session = seti_event.method_change, session_event.method_change
    assert seti is not None and session is not None
    assert seti.customer_id == session.customer_id == backend.customer
    assert seti.metadata["request_key"] == session.metadata["request_key"] == "card-request:9341452:58:1"
    assert seti.method_id == backend.card_id() and seti.setup_intent_id == session.setup_intent_id
    assert (session.mode, seti.mode) == ("setup", None)
    assert session_event.payment_intent_id is None and session_event.paid is False
