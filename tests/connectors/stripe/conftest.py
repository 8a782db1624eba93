"""Fixtures for the Stripe connector tests: a `responses` stub serving the published samples in
tests/contracts/stripe/, and connectors that never wait out real back-off delays."""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
import responses
import stripe
from samples import STRIPE_SAMPLES
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.types import Receive, Scope, Send

from connectors.serving import ThreadedServer
from connectors.stripe.client import StripeConnector
from syncd.domain import StripeEvent
from syncd.errors import SyncdError
from syncd.ports.stripe import StripeSettings

CONTRACTS = STRIPE_SAMPLES
STUB_API = "https://api.stripe.stub"
WEBHOOK_SECRET = "whsec_connector_tests"


class NoWaitClient(stripe.RequestsClient):
    """The SDK's requests client minus its back-off sleeps, on a session the test closes."""

    def __init__(self) -> None:
        self.session = requests.Session()
        super().__init__(timeout=10, session=self.session)

    def _sleep_time_seconds(self, num_retries: int) -> float:
        return 0.0


class StripeStub:
    """A `responses` mock of api.stripe.com plus helpers to read what the connector sent."""

    def __init__(self, mock: responses.RequestsMock) -> None:
        self.mock = mock
        self.sleeps: list[float] = []

    @staticmethod
    def sample(name: str) -> dict[str, Any]:
        return copy.deepcopy(json.loads((CONTRACTS / name).read_text(encoding="utf-8")))

    @staticmethod
    def form(body: str | bytes | None) -> dict[str, str]:
        """A form-encoded body as flat ``{"a[b][0]": "v"}`` pairs."""
        if body is None:
            return {}
        text = body.decode() if isinstance(body, bytes) else body
        return dict(parse_qsl(text, keep_blank_values=True))

    @staticmethod
    def query(url: str) -> dict[str, str]:
        return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))

    @staticmethod
    def listing(path: str, data: list[dict[str, Any]], *, has_more: bool = False) -> dict[str, Any]:
        return {"object": "list", "url": path, "has_more": has_more, "data": data}

    @staticmethod
    def error(kind: str, message: str, code: str | None = None, **extra: Any) -> dict[str, Any]:
        return {"error": {"type": kind, "message": message, "code": code, **extra}}

    def url(self, path: str) -> str:
        return STUB_API + path

    def search_result(self, path: str, data: list[dict[str, Any]]) -> dict[str, Any]:
        return {"object": "search_result", "url": path, "has_more": False, "data": data, "next_page": None}

    def nothing_created_before(self) -> None:
        """Answer the connector's replay lookups (PaymentIntent Search, a payment's refunds) with nothing."""
        path = "/v1/payment_intents/search"
        self.mock.get(self.url(path), json=self.search_result(path, []))
        self.mock.get(self.url("/v1/refunds"), json=self.listing("/v1/refunds", []))

    def calls(self, method: str, path: str) -> list[Any]:
        return [
            call.request
            for call in self.mock.calls
            if call.request.method == method and urlsplit(call.request.url).path == path
        ]


def make_connector(
    api_base: str, api_key: str, *, clock: Callable[[], datetime] | None = None, **settings: Any
) -> tuple[StripeConnector, NoWaitClient, list[float]]:
    """A connector on a no-wait HTTP client; its throttle back-off sleeps are recorded, not slept."""
    sleeps: list[float] = []
    http = NoWaitClient()
    config = StripeSettings(api_key=api_key, webhook_secret=WEBHOOK_SECRET, api_base=api_base, **settings)
    if clock is None:
        return StripeConnector(config, http_client=http, sleep=sleeps.append), http, sleeps
    return StripeConnector(config, http_client=http, sleep=sleeps.append, clock=clock), http, sleeps


@pytest.fixture
def stub() -> Iterator[StripeStub]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield StripeStub(mock)


@pytest.fixture
def stubbed(stub: StripeStub) -> Iterator[StripeConnector]:
    """A connector pointed at the stub; its throttle back-off sleeps land in ``stub.sleeps``."""
    connector, http, sleeps = make_connector(STUB_API, "sk_test_stub")
    stub.sleeps = sleeps
    yield connector
    http.session.close()


class WebhookReceiver:
    """A real HTTP endpoint that verifies each delivery with the connector, as syncd's web tier will.

    Accepted events land in ``events``; refused deliveries (answered 400) in ``refused``.
    """

    def __init__(self, connector: StripeConnector) -> None:
        self.connector = connector
        self.events: list[StripeEvent] = []
        self.refused: list[SyncdError] = []
        self._lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        body = await request.body()
        try:
            event = self.connector.parse_webhook(body, request.headers.get("stripe-signature"))
        except SyncdError as exc:
            with self._lock:
                self.refused.append(exc)
            await PlainTextResponse("refused", status_code=400)(scope, receive, send)
            return
        with self._lock:
            self.events.append(event)
        await PlainTextResponse("ok")(scope, receive, send)

    def types(self) -> list[str]:
        with self._lock:
            return [event.type for event in self.events]

    def of_type(self, event_type: str) -> list[StripeEvent]:
        with self._lock:
            return [event for event in self.events if event.type == event_type]


@pytest.fixture
def sim() -> Iterator[Any]:
    """A running Stripe simulator (imported lazily: it is built alongside the connector)."""
    simulator = pytest.importorskip("connectors.stripe.simulator")
    with simulator.StripeSimulator() as running:
        yield running


@pytest.fixture
def connector(sim: Any) -> Iterator[StripeConnector]:
    """A connector on the simulator, on its clock, with room for the fault-injection tests' retries."""
    made, http, _ = make_connector(sim.url, sim.api_key, clock=sim.clock.now, max_network_retries=6)
    yield made
    http.session.close()


@pytest.fixture
def receiver(sim: Any, connector: StripeConnector) -> Iterator[WebhookReceiver]:
    """syncd's side of webhooks, registered with the simulator under the right secret."""
    hooks = WebhookReceiver(connector)
    with ThreadedServer(hooks) as server:
        sim.add_webhook_endpoint(server.url + "/stripe/webhook", WEBHOOK_SECRET)
        yield hooks
        sim.webhooks.paused = False
        sim.webhooks.flush()
