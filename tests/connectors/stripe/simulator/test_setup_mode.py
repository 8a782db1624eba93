"""Saved payment methods on the simulator: setup-mode Checkout and its hosted page, SetupIntents,
attach/detach/list, the customer's default method, and the events each of them sends."""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests
import stripe

from connectors.stripe.simulator import StripeSimulator
from connectors.stripe.simulator.errors import ApiError


def _setup_session(client: Any, customer: str, types: list[str] | None = None) -> Any:
    return client.v1.checkout.sessions.create(
        params={
            "mode": "setup",
            "customer": customer,
            "currency": "usd",
            "allowed_payment_method_types": types or ["card"],
            "success_url": "https://shop.example/saved?session={CHECKOUT_SESSION_ID}",
            "cancel_url": "https://shop.example/cancel",
            "setup_intent_data": {"metadata": {"company": "9341452", "request_key": "card:1"}},
            "metadata": {"company": "9341452", "request_key": "card:1"},
        }
    )


def _customer(client: Any) -> str:
    return str(client.v1.customers.create(params={"email": "ap@acme.test"}).id)


def test_setup_session_has_no_amount_and_no_intent_until_used(client: Any) -> None:
    session = _setup_session(client, _customer(client))
    assert (session.mode, session.status, session.payment_status) == ("setup", "open", "no_payment_required")
    assert session.amount_total is None and session.setup_intent is None and session.payment_intent is None


def test_setup_mode_refuses_line_items(client: Any) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.checkout.sessions.create(
            params={
                "mode": "setup",
                "currency": "usd",
                "line_items": [{"quantity": 1, "price_data": {"currency": "usd", "unit_amount": 100}}],
                "success_url": "https://shop.example/ok",
            }
        )
    assert raised.value.param == "line_items"


def test_hosted_page_saves_a_card_with_the_typed_expiry(client: Any, sink: Any, sim: StripeSimulator) -> None:
    customer = _customer(client)
    session = _setup_session(client, customer)
    page = requests.get(session.url, timeout=5)
    assert "Save test card 4242" in page.text and "<script" not in page.text
    token = re.search(r"name=token value='([^']+)'", page.text)
    assert token is not None
    form = {"token": token.group(1), "outcome": "card_mastercard", "exp_month": "3", "exp_year": "2027"}
    response = requests.post(session.url, data=form, allow_redirects=False, timeout=5)
    assert response.status_code == 303
    assert response.headers["location"] == f"https://shop.example/saved?session={session.id}"

    done = client.v1.checkout.sessions.retrieve(session.id)
    assert (done.status, done.payment_status) == ("complete", "no_payment_required")
    seti = client.v1.setup_intents.retrieve(done.setup_intent)
    assert seti.status == "succeeded" and seti.customer == customer
    assert seti.metadata["request_key"] == "card:1"
    methods = client.v1.payment_methods.list(params={"customer": customer, "type": "card"}).data
    assert [m.id for m in methods] == [seti.payment_method]
    card = methods[0].card
    assert (card.brand, card.last4, card.exp_month, card.exp_year) == ("mastercard", "4444", 3, 2027)

    sim.webhooks.flush()
    types = sink.types()
    assert types.index("payment_method.attached") < types.index("setup_intent.succeeded")
    assert types.index("setup_intent.succeeded") < types.index("checkout.session.completed")
    completed = next(b for b in sink.bodies() if b["type"] == "checkout.session.completed")
    assert completed["data"]["object"]["mode"] == "setup"
    assert completed["data"]["object"]["setup_intent"] == seti.id


def test_declined_card_is_not_saved_and_session_stays_open(client: Any, sim: StripeSimulator) -> None:
    customer = _customer(client)
    session = _setup_session(client, customer)
    sim.pay_checkout(session.id, "card_declined")
    assert client.v1.checkout.sessions.retrieve(session.id).status == "open"
    assert client.v1.payment_methods.list(params={"customer": customer}).data == []
    sim.pay_checkout(session.id, "card_success")
    assert len(client.v1.payment_methods.list(params={"customer": customer}).data) == 1


def test_bank_account_saved_with_bank_name_and_listed_by_type(client: Any, sim: StripeSimulator) -> None:
    customer = _customer(client)
    sim.pay_checkout(_setup_session(client, customer, ["card", "us_bank_account"]).id, "ach_success")
    sim.pay_checkout(_setup_session(client, customer).id, "card_success")
    banks = client.v1.payment_methods.list(params={"customer": customer, "type": "us_bank_account"}).data
    found = [(b.us_bank_account.bank_name, b.us_bank_account.last4) for b in banks]
    assert found == [("STRIPE TEST BANK", "6789")]
    assert len(client.v1.customers.payment_methods.list(customer).data) == 2


def test_setup_mode_offers_only_allowed_types(client: Any, sim: StripeSimulator) -> None:
    session = _setup_session(client, _customer(client))
    with pytest.raises(ApiError, match="us_bank_account"):
        sim.pay_checkout(session.id, "ach_success")


def test_detach_clears_default_and_says_whose_it_was(client: Any, sink: Any, sim: StripeSimulator) -> None:
    customer = _customer(client)
    sim.pay_checkout(_setup_session(client, customer).id, "card_success")
    pm = client.v1.payment_methods.list(params={"customer": customer}).data[0].id
    client.v1.customers.update(customer, params={"invoice_settings": {"default_payment_method": pm}})
    assert client.v1.customers.retrieve(customer).invoice_settings.default_payment_method == pm

    detached = client.v1.payment_methods.detach(pm)
    assert detached.customer is None
    assert client.v1.customers.retrieve(customer).invoice_settings.default_payment_method is None
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_methods.detach(pm)
    sim.webhooks.flush()
    event = next(b for b in sink.bodies() if b["type"] == "payment_method.detached")
    assert event["data"]["previous_attributes"] == {"customer": customer}


def test_payment_mode_keeps_the_card_when_asked(client: Any, sim: StripeSimulator, new_session: Any) -> None:
    customer = _customer(client)
    kept = new_session(customer=customer, payment_intent_data={"setup_future_usage": "off_session"})
    sim.pay_checkout(kept.id, "card_success")
    not_kept = new_session(customer=customer)
    sim.pay_checkout(not_kept.id, "card_success")
    methods = client.v1.payment_methods.list(params={"customer": customer}).data
    intent = client.v1.payment_intents.retrieve(client.v1.checkout.sessions.retrieve(kept.id).payment_intent)
    assert [m.id for m in methods] == [intent.payment_method]
