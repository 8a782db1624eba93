"""The simulator's WebhookEndpoints API against Stripe's published examples (copied, with their
provenance, into tests/connectors/stripe/samples/webhook_endpoints/), and delivery only to
enabled endpoints whose ``enabled_events`` take the event, each signed with its own secret."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
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

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "webhook_endpoints"


def sample(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SAMPLES / name).read_text(encoding="utf-8"))
    return loaded


def assert_same_shape(ours: Any, theirs: Any, path: str = "") -> None:
    """Every key of the sample is ours, with the sample's JSON type (a null in the sample takes any)."""
    if theirs is None:
        return
    if isinstance(theirs, dict):
        assert isinstance(ours, dict), path
        missing = set(theirs) - set(ours)
        assert not missing, f"{path or 'top'} lacks {sorted(missing)}"
        for key, value in theirs.items():
            if ours[key] is None and value is not None and key == "description":
                continue  # the docs example's description is null; the fixture's is a placeholder
            assert_same_shape(ours[key], value, f"{path}.{key}")
        return
    if isinstance(theirs, list):
        assert isinstance(ours, list), path
        for item in ours:
            if theirs:
                assert_same_shape(item, theirs[0], f"{path}[]")
        return
    assert type(ours) is type(theirs), f"{path}: {type(ours).__name__} vs {type(theirs).__name__}"


@pytest.fixture
def raw(sim: StripeSimulator) -> Iterator[requests.Session]:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {sim.api_key}"
    yield session
    session.close()


class Receivers:
    """Three webhook receivers on one server: /a, /b and /c, each recording what reaches it."""

    def __init__(self) -> None:
        self.url = ""
        self.received: dict[str, list[tuple[bytes, str]]] = {"a": [], "b": [], "c": []}
        self.lock = threading.Lock()

    def types(self, name: str) -> list[str]:
        with self.lock:
            return [json.loads(body)["type"] for body, _ in self.received[name]]


@pytest.fixture
def receivers() -> Iterator[Receivers]:
    found = Receivers()

    async def hook(request: Request) -> Response:
        body = await request.body()
        with found.lock:
            found.received[request.path_params["name"]].append(
                (body, request.headers.get("stripe-signature", ""))
            )
        return Response(status_code=200)

    with ThreadedServer(Starlette(routes=[Route("/{name}", hook, methods=["POST"])])) as server:
        found.url = server.url
        yield found


def test_create_answers_the_documented_object_with_its_secret_once(client: Any, raw: Any, sim: Any) -> None:
    created = client.v1.webhook_endpoints.create(
        params={
            "url": "https://example.com/my/webhook/endpoint",
            "enabled_events": ["charge.succeeded", "charge.failed"],
        }
    ).to_dict()
    assert_same_shape(created, sample("create_response.json"))
    assert_same_shape(created, sample("fixture.json"))
    assert created["id"].startswith("we_")
    assert created["secret"].startswith("whsec_") and len(created["secret"]) > 20
    assert created["status"] == "enabled"
    assert created["enabled_events"] == ["charge.succeeded", "charge.failed"]

    got = raw.get(f"{sim.url}/v1/webhook_endpoints/{created['id']}", timeout=5).json()
    assert_same_shape(got, sample("retrieve_response.json"))
    assert "secret" not in got
    assert set(got) == set(sample("retrieve_response.json"))

    listed = raw.get(f"{sim.url}/v1/webhook_endpoints", timeout=5).json()
    assert_same_shape(listed, sample("list_response.json"))
    assert [e["id"] for e in listed["data"]] == [created["id"]]
    assert all("secret" not in e for e in listed["data"])


def test_update_and_delete_have_the_documented_shapes(client: Any, raw: Any, sim: Any) -> None:
    created = client.v1.webhook_endpoints.create(
        params={"url": "https://example.com/a", "enabled_events": ["*"], "metadata": {"owner": "x"}}
    )
    updated = client.v1.webhook_endpoints.update(
        created.id,
        params={
            "url": "https://example.com/new_endpoint",
            "enabled_events": ["charge.succeeded", "charge.failed"],
            "disabled": True,
            "metadata": {"owner": "", "syncd": "webhook"},
        },
    ).to_dict()
    assert_same_shape(updated, sample("update_response.json"))
    assert updated["url"] == "https://example.com/new_endpoint"
    assert updated["status"] == "disabled"
    assert updated["metadata"] == {"syncd": "webhook"}
    assert "secret" not in updated

    deleted = raw.delete(f"{sim.url}/v1/webhook_endpoints/{created.id}", timeout=5)
    assert deleted.status_code == 200
    assert deleted.json() == {**sample("delete_response.json"), "id": created.id}
    again = raw.get(f"{sim.url}/v1/webhook_endpoints/{created.id}", timeout=5)
    assert again.status_code == 404
    assert again.json()["error"]["code"] == "resource_missing"
    assert raw.get(f"{sim.url}/v1/webhook_endpoints", timeout=5).json()["data"] == []


def test_create_refuses_what_stripe_refuses(client: Any) -> None:
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.webhook_endpoints.create(params={"url": "https://example.com/h"})
    assert missing.value.param == "enabled_events"
    with pytest.raises(stripe.InvalidRequestError) as typo:
        client.v1.webhook_endpoints.create(
            params={"url": "https://example.com/h", "enabled_events": ["checkout.session.complete"]}
        )
    assert typo.value.param == "enabled_events[0]"
    with pytest.raises(stripe.InvalidRequestError) as no_url:
        client.v1.webhook_endpoints.create(params={"enabled_events": ["*"]})
    assert no_url.value.param == "url"


def test_list_pages_with_cursors(client: Any) -> None:
    made = [
        client.v1.webhook_endpoints.create(params={"url": f"https://e.example/{i}", "enabled_events": ["*"]})
        for i in range(3)
    ]
    page = client.v1.webhook_endpoints.list(params={"limit": 2})
    assert [e.id for e in page.data] == [made[2].id, made[1].id] and page.has_more
    everything = [e.id for e in page.auto_paging_iter()]
    assert everything == [m.id for m in reversed(made)]


def test_events_go_only_to_enabled_matching_endpoints_each_signed_with_its_own_secret(
    client: Any, sim: StripeSimulator, receivers: Receivers
) -> None:
    customers_only = client.v1.webhook_endpoints.create(
        params={"url": f"{receivers.url}/a", "enabled_events": ["customer.created"]}
    )
    everything = client.v1.webhook_endpoints.create(
        params={"url": f"{receivers.url}/b", "enabled_events": ["*"]}
    )
    disabled = client.v1.webhook_endpoints.create(
        params={"url": f"{receivers.url}/c", "enabled_events": ["*"]}
    )
    client.v1.webhook_endpoints.update(disabled.id, params={"disabled": True})

    customer = client.v1.customers.create(params={"name": "Ada"})
    client.v1.customers.update(customer.id, params={"name": "Ada L."})
    sim.webhooks.flush()

    assert receivers.types("a") == ["customer.created"]
    assert receivers.types("b") == ["customer.created", "customer.updated"]
    assert receivers.types("c") == []
    for name, secret in (("a", customers_only.secret), ("b", everything.secret)):
        for body, header in receivers.received[name]:
            event = stripe.Webhook.construct_event(body.decode(), header, secret)
            assert event.type.startswith("customer.")
        body, header = receivers.received[name][0]
        with pytest.raises(stripe.SignatureVerificationError):
            other = everything.secret if name == "a" else customers_only.secret
            stripe.Webhook.construct_event(body.decode(), header, other)
    assert json.loads(receivers.received["b"][0][0])["pending_webhooks"] == 2


def test_a_deleted_or_re_enabled_endpoint_follows_its_state(
    client: Any, sim: StripeSimulator, receivers: Receivers
) -> None:
    gone = client.v1.webhook_endpoints.create(params={"url": f"{receivers.url}/a", "enabled_events": ["*"]})
    back = client.v1.webhook_endpoints.create(params={"url": f"{receivers.url}/b", "enabled_events": ["*"]})
    client.v1.webhook_endpoints.update(back.id, params={"disabled": True})
    client.v1.webhook_endpoints.delete(gone.id)
    client.v1.customers.create(params={"name": "nobody hears"})
    client.v1.webhook_endpoints.update(back.id, params={"disabled": False})
    client.v1.customers.create(params={"name": "b hears"})
    sim.webhooks.flush()
    assert receivers.types("a") == []
    assert receivers.types("b") == ["customer.created"]
    assert json.loads(receivers.received["b"][0][0])["data"]["object"]["name"] == "b hears"


def test_the_steering_helper_registers_a_listed_endpoint(sim: StripeSimulator, client: Any) -> None:
    made = sim.add_webhook_endpoint("http://127.0.0.1:9/hook", "whsec_chosen")
    assert made["secret"] == "whsec_chosen" and made["enabled_events"] == ["*"]
    listed = client.v1.webhook_endpoints.list()
    assert [e.id for e in listed.data] == [made["id"]]
