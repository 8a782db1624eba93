"""Fixtures for the Stripe simulator tests: a running simulator, an SDK client, a webhook sink."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
import stripe
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.serving import ThreadedServer
from connectors.stripe.simulator import StripeSimulator

# A Monday, so business-day arithmetic is easy to read in tests.
START = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
WHSEC = "whsec_test_secret"


@pytest.fixture
def sim() -> Iterator[StripeSimulator]:
    with StripeSimulator(now=START, fault_seed=7) as running:
        yield running


@pytest.fixture
def client(sim: StripeSimulator) -> Any:
    return stripe.StripeClient(sim.api_key, base_addresses={"api": sim.url}, max_network_retries=0)


@pytest.fixture
def api(sim: StripeSimulator) -> Iterator[requests.Session]:
    """Plain HTTP with the simulator's key, for raw wire-level assertions."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {sim.api_key}"
    yield session
    session.close()


@dataclass
class Sink:
    """A webhook endpoint that records what it receives and can be told to fail."""

    url: str = ""
    received: list[tuple[bytes, dict[str, str]]] = field(default_factory=list)
    fail_next: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def types(self) -> list[str]:
        with self.lock:
            return [json.loads(body)["type"] for body, _ in self.received]

    def bodies(self) -> list[dict[str, Any]]:
        with self.lock:
            return [json.loads(body) for body, _ in self.received]


@pytest.fixture
def sink(sim: StripeSimulator) -> Iterator[Sink]:
    recorder = Sink()

    async def hook(request: Request) -> Response:
        body = await request.body()
        with recorder.lock:
            if recorder.fail_next > 0:
                recorder.fail_next -= 1
                return Response(status_code=500)
            recorder.received.append((body, dict(request.headers)))
        return Response(status_code=200)

    server = ThreadedServer(Starlette(routes=[Route("/hook", hook, methods=["POST"])]))
    with server:
        recorder.url = f"{server.url}/hook"
        sim.add_webhook_endpoint(recorder.url, WHSEC)
        yield recorder
        sim.webhooks.flush()


def _checkout_params(amount: int = 10000, currency: str = "usd", **extra: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "mode": "payment",
        "line_items": [
            {
                "price_data": {
                    "currency": currency,
                    "unit_amount": amount,
                    "product_data": {"name": "Invoice 1001"},
                },
                "quantity": 1,
            }
        ],
        "success_url": "https://shop.example/paid?session={CHECKOUT_SESSION_ID}",
        "cancel_url": "https://shop.example/cancel",
        "metadata": {"company": "c1", "invoice_ids": "1001"},
        "payment_intent_data": {"metadata": {"company": "c1", "invoice_ids": "1001"}},
        "allowed_payment_method_types": ["card", "us_bank_account"],
    }
    params.update(extra)
    return params


@pytest.fixture
def checkout_params() -> Any:
    """Build Checkout Session create params (one ``price_data`` line item) with overrides."""
    return _checkout_params


@pytest.fixture
def new_session(client: Any) -> Any:
    """Create a Checkout Session through the SDK; keyword overrides go into the params."""

    def create(amount: int = 10000, currency: str = "usd", **extra: Any) -> Any:
        params: Any = _checkout_params(amount, currency, **extra)
        return client.v1.checkout.sessions.create(params=params)

    return create
