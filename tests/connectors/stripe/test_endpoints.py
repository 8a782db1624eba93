"""``connectors.stripe.endpoints`` on Stripe's published WebhookEndpoints examples (``responses``
stubs serving tests/connectors/stripe/samples/webhook_endpoints/): what goes on the wire, what
comes back, and errors in syncd's tree."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import stripe

from connectors.stripe.endpoints import DESCRIPTION, WebhookEndpoints
from syncd.errors import AuthError, TransientError, ValidationError
from syncd.ports.stripe import StripeSettings

SAMPLES = Path(__file__).resolve().parent / "samples" / "webhook_endpoints"


def sample(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SAMPLES / name).read_text(encoding="utf-8"))
    return loaded


@pytest.fixture
def endpoints(stub: Any) -> Iterator[WebhookEndpoints]:
    session = requests.Session()
    http = stripe.RequestsClient(timeout=10, session=session)
    settings = StripeSettings(
        api_key="sk_test_stub", webhook_secret="", api_base=stub.url(""), max_network_retries=0
    )
    with WebhookEndpoints(settings, http_client=http, sleep=lambda _: None) as made:
        yield made
    session.close()


def _error(kind: str, message: str, code: str | None = None) -> dict[str, Any]:
    return {"error": {"type": kind, "message": message, "code": code}}


def test_create_sends_url_events_and_syncds_mark_and_keeps_the_secret(
    stub: Any, endpoints: WebhookEndpoints
) -> None:
    stub.mock.post(stub.url("/v1/webhook_endpoints"), json=sample("create_response.json"))
    made = endpoints.create("https://pay.example.com/webhooks/stripe", ["charge.succeeded", "charge.failed"])
    assert made.id == "we_1Mr5jULkdIwHu7ix1ibLTM0x"
    assert made.secret == "whsec_wRNftLajMZNeslQOP6vEPm4iVx5NlZ6z"
    assert made.enabled and not made.managed  # the docs example carries no metadata
    assert made.enabled_events == ("charge.succeeded", "charge.failed")
    assert "whsec_" not in repr(made)
    [request] = stub.calls("POST", "/v1/webhook_endpoints")
    sent = stub.form(request.body)
    assert sent["url"] == "https://pay.example.com/webhooks/stripe"
    assert (sent["enabled_events[0]"], sent["enabled_events[1]"]) == ("charge.succeeded", "charge.failed")
    assert sent["metadata[managed_by]"] == "syncd"
    assert sent["description"] == DESCRIPTION
    assert request.headers["Idempotency-Key"].startswith("syncd-webhook-endpoint-")


def test_list_reads_every_page_and_never_a_secret(stub: Any, endpoints: WebhookEndpoints) -> None:
    first = sample("list_response.json")
    first["has_more"] = True
    second = sample("list_response.json")
    second["data"] = [{**sample("fixture.json"), "metadata": {"managed_by": "syncd"}}]
    stub.mock.get(stub.url("/v1/webhook_endpoints"), json=first)
    stub.mock.get(stub.url("/v1/webhook_endpoints"), json=second)
    found = endpoints.list()
    assert [e.id for e in found] == ["we_1Mr5jULkdIwHu7ix1ibLTM0x", "we_1MoqxQLgUG5tbmjchR3ZKaPc"]
    assert [e.managed for e in found] == [False, True]
    assert all(e.secret is None for e in found)
    pages = stub.calls("GET", "/v1/webhook_endpoints")
    assert stub.query(pages[1].url)["starting_after"] == "we_1Mr5jULkdIwHu7ix1ibLTM0x"


def test_update_enables_and_delete_answers_the_documented_body(
    stub: Any, endpoints: WebhookEndpoints
) -> None:
    path = "/v1/webhook_endpoints/we_1Mr5jULkdIwHu7ix1ibLTM0x"
    stub.mock.post(stub.url(path), json=sample("update_response.json"))
    stub.mock.delete(stub.url(path), json=sample("delete_response.json"))
    updated = endpoints.update("we_1Mr5jULkdIwHu7ix1ibLTM0x", "https://example.com/new_endpoint", ["*"])
    assert updated.url == "https://example.com/new_endpoint" and not updated.enabled
    sent = stub.form(stub.calls("POST", path)[0].body)
    assert (sent["disabled"], sent["enabled_events[0]"]) == ("false", "*")
    endpoints.delete("we_1Mr5jULkdIwHu7ix1ibLTM0x")
    assert len(stub.calls("DELETE", path)) == 1


def _error(kind: str, message: str, code: str | None = None) -> dict[str, Any]:
    return {"error": {"type": kind, "message": message, "code": code}}


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (401, _error("invalid_request_error", "Invalid API Key provided: sk_test_****"), AuthError),
        (400, _error("invalid_request_error", "Invalid URL: x", "url_invalid"), ValidationError),
        (503, _error("api_error", "Stripe is having trouble"), TransientError),
    ],
)
def test_errors_come_out_in_syncds_tree(
    stub: Any, endpoints: WebhookEndpoints, status: int, body: dict[str, Any], error: type[Exception]
) -> None:
    stub.mock.get(stub.url("/v1/webhook_endpoints"), json=body, status=status)
    with pytest.raises(error):
        endpoints.list()
