"""Stripe's published rate limits, as the simulator enforces them once turned on: 25 requests a
second per endpoint, 20 for Search, 100 in all; a throttled request does nothing and answers 429
``rate_limit``; each window is per account and slides by the second."""

from __future__ import annotations

import requests

from connectors.stripe.simulator import StripeSimulator
from connectors.stripe.simulator.limits import RateLimits


class Ticks:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_off_unless_turned_on(sim: StripeSimulator, api: requests.Session) -> None:
    for _ in range(30):
        assert api.post(f"{sim.url}/v1/customers", data={"name": "A"}, timeout=10).status_code == 200
    assert sim.limits.throttled == 0


def test_the_endpoint_limit_answers_429_and_creates_nothing(
    sim: StripeSimulator, api: requests.Session
) -> None:
    ticks = Ticks()
    sim.limits.clock = ticks
    sim.limits.enabled = True
    answers = [api.post(f"{sim.url}/v1/customers", data={"name": "A"}, timeout=10) for _ in range(26)]
    assert [a.status_code for a in answers].count(200) == 25
    assert answers[-1].status_code == 429
    assert answers[-1].json()["error"]["code"] == "rate_limit"
    assert len(sim.objects("customer")) == 25
    # Another endpoint has its own window; the global one still counts it.
    assert api.get(f"{sim.url}/v1/customers", timeout=10).status_code == 200
    ticks.now += 1.0
    assert api.post(f"{sim.url}/v1/customers", data={"name": "B"}, timeout=10).status_code == 200
    assert sim.limits.throttled == 1


def test_search_global_and_accounts() -> None:
    ticks = Ticks()
    limits = RateLimits(enabled=True, clock=ticks)
    search = "GET /v1/payment_intents/search"
    assert all(limits.admit("acct_1", search) for _ in range(20))
    assert not limits.admit("acct_1", search)
    assert limits.admit("acct_2", search)  # per account
    endpoints = [f"GET /v1/thing_{n}" for n in range(5)]
    admitted = sum(limits.admit("acct_3", e) for e in endpoints for _ in range(25))
    assert admitted == 100  # 125 asked, the global limit is 100 a second
    ticks.now += 1.01
    assert limits.admit("acct_3", endpoints[0]) and limits.admit("acct_1", search)
