from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import requests
import stripe

from connectors.stripe.simulator import StripeSimulator


def test_same_key_same_params_replays_the_stored_response(
    sim: StripeSimulator, api: requests.Session
) -> None:
    headers = {"Idempotency-Key": "qbo:customer:58"}
    first = api.post(f"{sim.url}/v1/customers", data={"name": "Acme"}, headers=headers)
    second = api.post(f"{sim.url}/v1/customers", data={"name": "Acme"}, headers=headers)
    assert first.status_code == second.status_code == 200
    assert first.json()["id"] == second.json()["id"]
    assert second.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert len(sim.objects("customer")) == 1


def test_same_key_other_params_is_an_idempotency_error(sim: StripeSimulator, client: Any) -> None:
    client.v1.customers.create(params={"name": "Acme"}, options={"idempotency_key": "k1"})
    with pytest.raises(stripe.IdempotencyError) as caught:
        client.v1.customers.create(params={"name": "Other"}, options={"idempotency_key": "k1"})
    assert caught.value.http_status == 400
    assert _body(caught.value)["error"]["type"] == "idempotency_error"


def test_keys_are_forgotten_after_24_hours(sim: StripeSimulator, client: Any) -> None:
    first = client.v1.customers.create(params={"name": "Acme"}, options={"idempotency_key": "k2"})
    sim.clock.advance(timedelta(hours=23))
    assert (
        client.v1.customers.create(params={"name": "Acme"}, options={"idempotency_key": "k2"}).id == first.id
    )
    sim.clock.advance(timedelta(hours=1))
    again = client.v1.customers.create(params={"name": "Acme"}, options={"idempotency_key": "k2"})
    assert again.id != first.id


def test_card_errors_are_replayed_validation_errors_are_not(sim: StripeSimulator, client: Any) -> None:
    customer = client.v1.customers.create(params={"name": "Autopay"})
    params: Any = {
        "amount": 1000,
        "currency": "usd",
        "customer": customer.id,
        "payment_method": "pm_card_chargeDeclined",
        "confirm": True,
        "off_session": True,
    }
    for _ in range(2):
        with pytest.raises(stripe.CardError):
            client.v1.payment_intents.create(params=params, options={"idempotency_key": "autopay:1"})
    assert len(sim.objects("payment_intent")) == 1

    with pytest.raises(stripe.InvalidRequestError):
        client.v1.customers.create(params={"name": 1, "nickname": "x"}, options={"idempotency_key": "bad"})
    assert (
        client.v1.customers.create(params={"name": "fixed"}, options={"idempotency_key": "bad"}).name
        == "fixed"
    )


def test_checkout_create_replay_returns_the_same_session(client: Any, checkout_params: Any) -> None:
    first = client.v1.checkout.sessions.create(params=checkout_params(), options={"idempotency_key": "pay:1"})
    second = client.v1.checkout.sessions.create(
        params=checkout_params(), options={"idempotency_key": "pay:1"}
    )
    assert first.id == second.id


def _body(error: stripe.StripeError) -> Any:
    """The decoded JSON error body Stripe sent."""
    return error.json_body
