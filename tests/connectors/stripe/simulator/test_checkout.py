from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import requests
import stripe

from connectors.stripe.simulator import StripeSimulator


def test_create_session_echoes_what_syncd_sends(sim: StripeSimulator, client: Any, new_session: Any) -> None:
    customer = client.v1.customers.create(params={"email": "ap@acme.test"})
    expires_at = int((sim.clock.now() + timedelta(hours=2)).timestamp())
    session = new_session(
        amount=12345,
        customer=customer.id,
        client_reference_id="inv-1001",
        expires_at=expires_at,
        payment_intent_data={"metadata": {"invoice_ids": "1001"}, "setup_future_usage": "off_session"},
    )
    assert session.id.startswith("cs_test_")
    assert session.object == "checkout.session"
    assert session.status == "open"
    assert session.payment_status == "unpaid"
    assert session.amount_total == 12345
    assert session.currency == "usd"
    assert session.customer == customer.id
    assert session.client_reference_id == "inv-1001"
    assert session.expires_at == expires_at
    assert session.metadata.to_dict() == {"company": "c1", "invoice_ids": "1001"}
    assert session.payment_method_types == ["card", "us_bank_account"]
    assert session.allowed_payment_method_types == ["card", "us_bank_account"]
    assert session.payment_intent is None  # created when the payer confirms, as on Stripe
    assert session.url == sim.checkout_url(session.id) == f"{sim.url}/pay/{session.id}"
    assert session.success_url == "https://shop.example/paid?session={CHECKOUT_SESSION_ID}"


def test_old_payment_method_types_param_is_refused(client: Any, checkout_params: Any) -> None:
    params = checkout_params()
    del params["allowed_payment_method_types"]
    params["payment_method_types"] = ["card"]
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.checkout.sessions.create(params=params)
    assert caught.value.code == "parameter_unknown"
    assert caught.value.param == "payment_method_types"


def test_missing_line_items_and_mode(client: Any) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.checkout.sessions.create(params={"mode": "payment"})
    assert caught.value.code == "parameter_missing"
    assert caught.value.param == "line_items"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.checkout.sessions.create(params={})
    assert caught.value.param == "mode"


def test_expires_at_outside_window_is_rejected(sim: StripeSimulator, new_session: Any) -> None:
    too_soon = int((sim.clock.now() + timedelta(minutes=5)).timestamp())
    with pytest.raises(stripe.InvalidRequestError) as caught:
        new_session(expires_at=too_soon)
    assert caught.value.param == "expires_at"


def test_success_redirect_substitutes_the_session_id(sim: StripeSimulator, new_session: Any) -> None:
    session = new_session()
    assert sim.success_redirect(session.id) == f"https://shop.example/paid?session={session.id}"


def test_retrieve_list_filters_and_line_items(sim: StripeSimulator, client: Any, new_session: Any) -> None:
    customer = client.v1.customers.create(params={"email": "ap@acme.test"})
    paid = new_session(customer=customer.id)
    other = new_session(amount=500)
    sim.pay_checkout(paid.id, "card_success")
    paid = client.v1.checkout.sessions.retrieve(paid.id)
    by_pi = client.v1.checkout.sessions.list(params={"payment_intent": paid.payment_intent})
    assert [s.id for s in by_pi.data] == [paid.id]
    assert [s.id for s in client.v1.checkout.sessions.list(params={"status": "open"}).data] == [other.id]
    assert [s.id for s in client.v1.checkout.sessions.list(params={"customer": customer.id}).data] == [
        paid.id
    ]
    items = client.v1.checkout.sessions.line_items.list(paid.id)
    assert [(i.description, i.amount_total, i.quantity) for i in items.data] == [("Invoice 1001", 10000, 1)]
    expanded = client.v1.checkout.sessions.retrieve(
        paid.id, params={"expand": ["line_items", "payment_intent"]}
    )
    assert expanded.line_items.data[0].amount_total == 10000
    assert expanded.payment_intent.status == "succeeded"


def test_expire_open_session_then_refuse_second_expire(client: Any, new_session: Any) -> None:
    session = new_session()
    expired = client.v1.checkout.sessions.expire(session.id)
    assert expired.status == "expired"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.expire(session.id)


def test_session_expires_on_its_own(sim: StripeSimulator, client: Any, new_session: Any) -> None:
    session = new_session()
    sim.clock.advance(timedelta(hours=23))
    assert client.v1.checkout.sessions.retrieve(session.id).status == "open"
    sim.clock.advance(timedelta(hours=1, seconds=1))
    assert client.v1.checkout.sessions.retrieve(session.id).status == "expired"
    types = [e.type for e in client.v1.events.list().data]
    assert types[0] == "checkout.session.expired"


def test_expiring_after_a_decline_cancels_the_payment_intent(
    sim: StripeSimulator, client: Any, new_session: Any
) -> None:
    session = new_session()
    sim.pay_checkout(session.id, "card_declined")
    client.v1.checkout.sessions.expire(session.id)
    pi = client.v1.payment_intents.retrieve(client.v1.checkout.sessions.retrieve(session.id).payment_intent)
    assert pi.status == "canceled"


def test_a_paid_session_cannot_be_paid_again(sim: StripeSimulator, new_session: Any) -> None:
    session = new_session()
    sim.pay_checkout(session.id, "card_success")
    with pytest.raises(Exception, match="complete"):
        sim.pay_checkout(session.id, "card_success")


def test_raw_wire_form_encoding_is_understood(sim: StripeSimulator, api: requests.Session) -> None:
    body = (
        "mode=payment&line_items[0][price_data][currency]=usd&line_items[0][price_data][unit_amount]=700"
        "&line_items[0][price_data][product_data][name]=Fee&line_items[0][quantity]=3"
        "&metadata[invoice_ids]=1&expand[]=line_items&allowed_payment_method_types[]=card"
    )
    response = api.post(
        f"{sim.url}/v1/checkout/sessions",
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200, response.text
    session = response.json()
    assert session["amount_total"] == 2100
    assert session["line_items"]["data"][0]["quantity"] == 3


def test_redirect_urls_must_be_http(new_session: Any) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        new_session(cancel_url="javascript:alert(1)")
    assert caught.value.param == "cancel_url"


def test_customer_creation_always_makes_a_customer(
    sim: StripeSimulator, client: Any, new_session: Any
) -> None:
    session = new_session(customer_email="pay@acme.test", customer_creation="always")
    sim.pay_checkout(session.id, "card_success")
    customer_id = client.v1.checkout.sessions.retrieve(session.id).customer
    assert client.v1.customers.retrieve(customer_id).email == "pay@acme.test"
