from __future__ import annotations

from typing import Any

import pytest
import stripe

from connectors.stripe.simulator import StripeSimulator


def _event_types(client: Any) -> list[str]:
    return [e.type for e in reversed(client.v1.events.list(params={"limit": 100}).data)]


def test_card_success_settles_pi_charge_fee_and_session(
    sim: StripeSimulator, client: Any, new_session: Any
) -> None:
    session = new_session(amount=10000)
    sim.pay_checkout(session.id, "card_success")
    session = client.v1.checkout.sessions.retrieve(session.id)
    assert (session.status, session.payment_status) == ("complete", "paid")
    pi = client.v1.payment_intents.retrieve(
        session.payment_intent, params={"expand": ["latest_charge.balance_transaction"]}
    )
    assert pi.status == "succeeded"
    assert pi.amount_received == 10000
    assert pi.metadata.to_dict() == {"company": "c1", "invoice_ids": "1001"}
    charge = pi.latest_charge
    assert charge.status == "succeeded" and charge.paid and charge.payment_intent == pi.id
    txn = charge.balance_transaction
    # 2.9 % of 100.00 = 2.90, plus 0.30
    assert (txn.amount, txn.fee, txn.net, txn.type, txn.status) == (10000, 320, 9680, "charge", "pending")
    assert txn.fee_details[0].type == "stripe_fee"
    assert txn.source == charge.id
    types = _event_types(client)
    for expected in ("checkout.session.completed", "payment_intent.succeeded", "charge.succeeded"):
        assert expected in types


def test_fee_rounds_half_up(sim: StripeSimulator, client: Any, new_session: Any) -> None:
    # 2.9 % of 1050 = 30.45 -> 30; of 1550 = 44.95 -> 45
    for amount, fee in ((1050, 30 + 30), (1550, 45 + 30)):
        session = new_session(amount=amount)
        sim.pay_checkout(session.id, "card_success")
        pi = client.v1.payment_intents.retrieve(
            client.v1.checkout.sessions.retrieve(session.id).payment_intent,
            params={"expand": ["latest_charge.balance_transaction"]},
        )
        assert pi.latest_charge.balance_transaction.fee == fee


@pytest.mark.parametrize(
    ("outcome", "decline_code"),
    [("card_declined", "generic_decline"), ("insufficient_funds", "insufficient_funds")],
)
def test_checkout_decline_leaves_session_open(
    sim: StripeSimulator, client: Any, new_session: Any, outcome: str, decline_code: str
) -> None:
    session = new_session()
    sim.pay_checkout(session.id, outcome)
    session = client.v1.checkout.sessions.retrieve(session.id)
    assert session.status == "open"
    pi = client.v1.payment_intents.retrieve(session.payment_intent)
    assert pi.status == "requires_payment_method"
    assert pi.last_payment_error.decline_code == decline_code
    charge = client.v1.charges.retrieve(pi.latest_charge)
    assert charge.status == "failed" and charge.failure_code == "card_declined"
    assert {"charge.failed", "payment_intent.payment_failed"} <= set(_event_types(client))


def test_saved_method_then_off_session_charges(sim: StripeSimulator, client: Any, new_session: Any) -> None:
    customer = client.v1.customers.create(params={"email": "ap@acme.test"})
    session = new_session(
        customer=customer.id,
        payment_intent_data={"setup_future_usage": "off_session", "metadata": {"k": "v"}},
    )
    sim.pay_checkout(session.id, "card_success")
    methods = client.v1.payment_methods.list(params={"customer": customer.id, "type": "card"})
    assert len(methods.data) == 1
    pm = methods.data[0]
    assert pm.card.last4 == "4242"
    assert client.v1.customers.payment_methods.list(customer.id).data[0].id == pm.id

    pi = client.v1.payment_intents.create(
        params={
            "amount": 2500,
            "currency": "usd",
            "customer": customer.id,
            "payment_method": pm.id,
            "confirm": True,
            "off_session": True,
            "metadata": {"invoice_ids": "1002"},
        }
    )
    assert pi.status == "succeeded"
    assert pi.amount_received == 2500

    sim.set_payment_method_behaviour(pm.id, "card_declined")
    with pytest.raises(stripe.CardError) as caught:
        client.v1.payment_intents.create(
            params={
                "amount": 2500,
                "currency": "usd",
                "customer": customer.id,
                "payment_method": pm.id,
                "confirm": True,
                "off_session": True,
            }
        )
    assert caught.value.code == "card_declined"


def test_checkout_without_customer_creates_one_to_save_the_method(
    sim: StripeSimulator, client: Any, new_session: Any
) -> None:
    session = new_session(
        customer_email="new@acme.test", payment_intent_data={"setup_future_usage": "off_session"}
    )
    sim.pay_checkout(session.id, "card_success")
    session = client.v1.checkout.sessions.retrieve(session.id)
    assert session.customer is not None
    assert client.v1.customers.retrieve(session.customer).email == "new@acme.test"
    assert len(client.v1.payment_methods.list(params={"customer": session.customer}).data) == 1


def test_off_session_test_tokens(client: Any) -> None:
    customer = client.v1.customers.create(params={"name": "Autopay"})
    base = {"amount": 1999, "currency": "usd", "customer": customer.id, "confirm": True, "off_session": True}
    ok = client.v1.payment_intents.create(params={**base, "payment_method": "pm_card_visa"})
    assert ok.status == "succeeded"
    assert ok.payment_method.startswith("pm_") and ok.payment_method != "pm_card_visa"

    with pytest.raises(stripe.CardError) as auth:
        client.v1.payment_intents.create(params={**base, "payment_method": "pm_card_authenticationRequired"})
    assert auth.value.http_status == 402
    assert auth.value.code == "authentication_required"
    error = _body(auth.value)["error"]
    assert error["type"] == "card_error"
    assert error["payment_intent"]["status"] == "requires_action"
    pi = client.v1.payment_intents.retrieve(error["payment_intent"]["id"])
    assert pi.status == "requires_action"

    with pytest.raises(stripe.CardError) as declined:
        client.v1.payment_intents.create(params={**base, "payment_method": "pm_card_chargeDeclined"})
    assert declined.value.code == "card_declined"
    assert _body(declined.value)["error"]["decline_code"] == "generic_decline"
    assert _body(declined.value)["error"]["charge"].startswith("ch_")


def test_create_then_confirm_and_cancel(client: Any) -> None:
    pi = client.v1.payment_intents.create(params={"amount": 800, "currency": "eur", "metadata": {"a": "b"}})
    assert pi.status == "requires_payment_method"
    assert pi.client_secret.startswith(pi.id + "_secret_")
    confirmed = client.v1.payment_intents.confirm(pi.id, params={"payment_method": "pm_card_visa"})
    assert confirmed.status == "succeeded"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.payment_intents.confirm(pi.id, params={"payment_method": "pm_card_visa"})
    assert caught.value.code == "payment_intent_unexpected_state"
    other = client.v1.payment_intents.create(params={"amount": 800, "currency": "eur"})
    assert client.v1.payment_intents.cancel(other.id).status == "canceled"


def test_payment_intent_search_and_update(client: Any) -> None:
    pi = client.v1.payment_intents.create(
        params={"amount": 800, "currency": "usd", "metadata": {"payment_key": "k1"}}
    )
    client.v1.payment_intents.create(
        params={"amount": 900, "currency": "usd", "metadata": {"payment_key": "k2"}}
    )
    found = client.v1.payment_intents.search(params={"query": "metadata['payment_key']:'k1'"})
    assert [p.id for p in found.data] == [pi.id]
    updated = client.v1.payment_intents.update(pi.id, params={"metadata": {"note": "x"}})
    assert updated.metadata.to_dict() == {"payment_key": "k1", "note": "x"}


def test_setup_intent_saves_a_method(client: Any) -> None:
    customer = client.v1.customers.create(params={"name": "Saver"})
    seti = client.v1.setup_intents.create(
        params={
            "customer": customer.id,
            "payment_method": "pm_card_visa",
            "confirm": True,
            "usage": "off_session",
        }
    )
    assert seti.status == "succeeded"
    assert client.v1.payment_methods.retrieve(seti.payment_method).customer == customer.id
    pending = client.v1.setup_intents.create(params={"customer": customer.id})
    assert pending.status == "requires_payment_method"
    confirmed = client.v1.setup_intents.confirm(
        pending.id, params={"payment_method": "pm_card_authenticationRequired"}
    )
    assert confirmed.status == "requires_action"


def test_attach_and_detach_payment_method(client: Any) -> None:
    customer = client.v1.customers.create(params={"name": "Attach"})
    pm = client.v1.payment_methods.attach("pm_card_visa", params={"customer": customer.id})
    assert pm.customer == customer.id
    assert [m.id for m in client.v1.payment_methods.list(params={"customer": customer.id}).data] == [pm.id]
    assert client.v1.payment_methods.detach(pm.id).customer is None
    assert client.v1.payment_methods.list(params={"customer": customer.id}).data == []


def test_charge_list_by_payment_intent(sim: StripeSimulator, client: Any, new_session: Any) -> None:
    session = new_session()
    sim.pay_checkout(session.id, "card_declined")
    sim.pay_checkout(session.id, "card_success")
    pi_id = client.v1.checkout.sessions.retrieve(session.id).payment_intent
    charges = client.v1.charges.list(params={"payment_intent": pi_id})
    assert [c.status for c in charges.data] == ["succeeded", "failed"]


def _body(error: stripe.StripeError) -> Any:
    """The decoded JSON error body Stripe sent."""
    return error.json_body
