from __future__ import annotations

from typing import Any

import pytest
import requests
import stripe

from connectors.stripe.simulator import StripeSimulator


def test_missing_and_wrong_keys_are_401_without_echoing_the_key(sim: StripeSimulator) -> None:
    missing = requests.get(f"{sim.url}/v1/customers", timeout=5)
    assert missing.status_code == 401
    assert missing.json()["error"]["type"] == "invalid_request_error"
    wrong = requests.get(
        f"{sim.url}/v1/customers", headers={"Authorization": "Bearer sk_test_wrongwrongwrong1234"}, timeout=5
    )
    assert wrong.status_code == 401
    assert "sk_test_wrongwrong" not in wrong.text
    with pytest.raises(stripe.AuthenticationError):
        stripe.StripeClient("sk_test_other", base_addresses={"api": sim.url}).v1.customers.list()


def test_unknown_route_is_404(sim: StripeSimulator, api: requests.Session) -> None:
    response = api.get(f"{sim.url}/v1/nothing_here")
    assert response.status_code == 404
    assert "Unrecognized request URL" in response.json()["error"]["message"]


def test_responses_carry_request_id_and_version(sim: StripeSimulator, api: requests.Session) -> None:
    response = api.get(f"{sim.url}/v1/balance", headers={"Stripe-Version": "2026-10-28.endive"})
    assert response.status_code == 200
    assert response.headers["Request-Id"].startswith("req_")
    assert response.headers["Stripe-Version"].startswith("2026-10-28")


def test_throttle_next_answers_429_rate_limit(sim: StripeSimulator, client: Any) -> None:
    sim.faults.throttle_next(2)
    for _ in range(2):
        with pytest.raises(stripe.RateLimitError) as caught:
            client.v1.customers.list()
        assert caught.value.http_status == 429
        assert _body(caught.value)["error"]["code"] == "rate_limit"
    assert client.v1.customers.list().data == []


def test_error_rate_gives_500s_before_anything_executes(sim: StripeSimulator, client: Any) -> None:
    sim.faults.error_rate = 1.0
    with pytest.raises(stripe.APIError) as caught:
        client.v1.customers.create(params={"name": "never"})
    assert caught.value.http_status == 500
    sim.faults.reset()
    assert sim.objects("customer") == []
    client.v1.customers.create(params={"name": "now"})
    assert len(sim.objects("customer")) == 1


def test_sdk_retries_through_injected_500s(sim: StripeSimulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stripe._http_client.HTTPClient, "INITIAL_DELAY", 0.001)
    monkeypatch.setattr(stripe._http_client.HTTPClient, "MAX_DELAY", 0.01)
    sim.faults.error_rate = 0.5
    retrying: Any = stripe.StripeClient(sim.api_key, base_addresses={"api": sim.url}, max_network_retries=10)
    for _ in range(5):
        retrying.v1.customers.create(params={"name": "retry me"})
    assert len(sim.objects("customer")) == 5
    assert sim.request_count() > 5


def test_request_count_counts_api_calls(sim: StripeSimulator, client: Any) -> None:
    before = sim.request_count()
    client.v1.customers.list()
    client.v1.balance.retrieve()
    assert sim.request_count() == before + 2


def test_healthz(sim: StripeSimulator) -> None:
    assert requests.get(f"{sim.url}/healthz", timeout=5).json() == {"status": "ok"}


def _body(error: stripe.StripeError) -> Any:
    """The decoded JSON error body Stripe sent."""
    return error.json_body
