"""Manual capture at the simulator: authorise off-session, capture in full or in part (the rest
released), cancel, and expiry after the card network's 7 days on the simulator clock."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import stripe

from connectors.stripe.simulator import StripeSimulator


def _event_types(client: Any) -> list[str]:
    return [e.type for e in reversed(client.v1.events.list(params={"limit": 100}).data)]


def _hold(client: Any, amount: int = 5000, method: str = "pm_card_visa") -> Any:
    customer = client.v1.customers.create(params={"email": "hold@acme.test"})
    pm = client.v1.payment_methods.attach(method, params={"customer": customer.id})
    return client.v1.payment_intents.create(
        params={
            "amount": amount,
            "currency": "usd",
            "customer": customer.id,
            "payment_method": pm.id,
            "confirm": True,
            "off_session": True,
            "capture_method": "manual",
            "metadata": {"company": "c1", "authorization": "a1"},
        }
    )


def test_manual_capture_authorises_without_taking_money(sim: StripeSimulator, client: Any) -> None:
    pi = _hold(client)
    assert (pi.status, pi.capture_method, pi.amount_capturable, pi.amount_received) == (
        "requires_capture",
        "manual",
        5000,
        0,
    )
    charge = client.v1.charges.retrieve(pi.latest_charge)
    assert (charge.status, charge.paid, charge.captured, charge.amount_captured) == (
        "succeeded",
        True,
        False,
        0,
    )
    assert charge.balance_transaction is None
    before = charge.payment_method_details.card.capture_before
    assert before == int((sim.clock.now() + timedelta(days=7)).timestamp())
    types = _event_types(client)
    assert "payment_intent.amount_capturable_updated" in types and "charge.succeeded" in types
    assert "payment_intent.succeeded" not in types


def test_partial_capture_releases_the_rest(client: Any) -> None:
    pi = _hold(client, 5000)
    done = client.v1.payment_intents.capture(
        pi.id, params={"amount_to_capture": 3000, "metadata": {"payment_key": "k1"}}
    )
    assert (done.status, done.amount_received, done.amount_capturable) == ("succeeded", 3000, 0)
    assert done.metadata.to_dict() == {"company": "c1", "authorization": "a1", "payment_key": "k1"}
    charge = client.v1.charges.retrieve(done.latest_charge, params={"expand": ["balance_transaction"]})
    assert (charge.captured, charge.amount_captured, charge.amount_refunded, charge.refunded) == (
        True,
        3000,
        2000,
        False,
    )
    # The fee is on what was taken: 2.9 % of 30.00 + 0.30.
    assert (charge.balance_transaction.amount, charge.balance_transaction.fee) == (3000, 117)
    types = _event_types(client)
    assert types[-2:] == ["charge.captured", "payment_intent.succeeded"]


def test_capture_more_than_capturable_or_twice_is_refused(client: Any) -> None:
    pi = _hold(client, 5000)
    with pytest.raises(stripe.InvalidRequestError) as too_much:
        client.v1.payment_intents.capture(pi.id, params={"amount_to_capture": 5001})
    assert too_much.value.code == "amount_too_large"
    client.v1.payment_intents.capture(pi.id)
    with pytest.raises(stripe.InvalidRequestError) as twice:
        client.v1.payment_intents.capture(pi.id)
    assert twice.value.code == "payment_intent_unexpected_state"
    assert client.v1.payment_intents.retrieve(pi.id).amount_received == 5000


def test_cancel_releases_the_whole_authorisation(client: Any) -> None:
    pi = _hold(client)
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.cancel(pi.id, params={"cancellation_reason": "because"})
    gone = client.v1.payment_intents.cancel(pi.id, params={"cancellation_reason": "abandoned"})
    assert (gone.status, gone.cancellation_reason, gone.amount_capturable) == ("canceled", "abandoned", 0)
    charge = client.v1.charges.retrieve(gone.latest_charge)
    assert (charge.captured, charge.refunded, charge.amount_refunded) == (False, True, 5000)
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.capture(pi.id)
    assert "payment_intent.canceled" in _event_types(client)


def test_uncaptured_authorisation_expires_after_seven_days(sim: StripeSimulator, client: Any) -> None:
    pi = _hold(client)
    sim.clock.advance(timedelta(days=6, hours=23))
    assert client.v1.payment_intents.retrieve(pi.id).status == "requires_capture"
    sim.clock.advance(timedelta(hours=1))
    gone = client.v1.payment_intents.retrieve(pi.id)
    assert (gone.status, gone.cancellation_reason) == ("canceled", "automatic")
    charge = client.v1.charges.retrieve(gone.latest_charge)
    assert (charge.refunded, charge.amount_refunded, charge.captured) == (True, 5000, False)
    types = _event_types(client)
    assert {"charge.expired", "payment_intent.canceled"} <= set(types)


def test_captured_intent_does_not_expire(sim: StripeSimulator, client: Any) -> None:
    pi = _hold(client)
    client.v1.payment_intents.capture(pi.id)
    sim.clock.advance(timedelta(days=8))
    assert client.v1.payment_intents.retrieve(pi.id).status == "succeeded"
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.payment_intents.cancel(pi.id)
    assert "may be canceled: requires_payment_method, requires_capture" in str(refused.value)


def test_declined_card_is_not_authorised(client: Any) -> None:
    with pytest.raises(stripe.CardError) as declined:
        _hold(client, method="pm_card_chargeDeclinedInsufficientFunds")
    assert declined.value.code == "card_declined"


def test_unknown_capture_method_is_refused(client: Any) -> None:
    customer = client.v1.customers.create(params={})
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.payment_intents.create(
            params={"amount": 100, "currency": "usd", "customer": customer.id, "capture_method": "later"}
        )
    assert refused.value.param == "capture_method"
