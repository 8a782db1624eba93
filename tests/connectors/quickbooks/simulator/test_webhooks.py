"""Webhooks: signed, coalesced notifications in legacy and CloudEvents formats, retried on failure."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.quickbooks.simulator import QboSimulator
from connectors.quickbooks.webhooks import verify_webhook_signature
from connectors.serving import ThreadedServer


class Receiver:
    def __init__(self, fail_first: int = 0) -> None:
        self.posts: list[tuple[bytes, dict[str, str]]] = []
        self.fail_first = fail_first
        self.lock = threading.Lock()

        async def hook(request: Request) -> Response:
            body = await request.body()
            with self.lock:
                if self.fail_first > 0:
                    self.fail_first -= 1
                    return Response(status_code=503)
                self.posts.append((body, dict(request.headers)))
            return Response(status_code=200)

        self.server = ThreadedServer(Starlette(routes=[Route("/hook", hook, methods=["POST"])]))

    @property
    def url(self) -> str:
        return self.server.url + "/hook"

    def wait_for(
        self, check: Callable[[list[tuple[bytes, dict[str, str]]]], bool], seconds: float = 10
    ) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with self.lock:
                if check(list(self.posts)):
                    return
            time.sleep(0.02)
        raise AssertionError(f"webhook condition not met; got {self.posts!r}")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rx = Receiver()
    with rx.server:
        yield rx


def _entities(posts: list[tuple[bytes, dict[str, str]]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for body, _ in posts:
        for note in json.loads(body)["eventNotifications"]:
            out.extend(note["dataChangeEvent"]["entities"])
    return out


def test_changes_are_signed_and_coalesced(sim: QboSimulator, api: Any, receiver: Receiver) -> None:
    sim.set_webhook_url(receiver.url)
    invoice_id = sim.add_invoice(amount=Decimal("20.00"))
    payment_id = sim.record_offline_payment(invoice_id, Decimal("20.00"))
    vendor = api.json(api.post("vendor", {"DisplayName": "Hooked Vendor"}))["Vendor"]
    wanted = {
        ("Invoice", invoice_id, "Create"),
        ("Payment", payment_id, "Create"),
        ("Invoice", invoice_id, "Update"),
        ("Vendor", vendor["Id"], "Create"),
    }
    receiver.wait_for(
        lambda posts: wanted <= {(e["name"], e["id"], e["operation"]) for e in _entities(posts)}
    )
    assert len(receiver.posts) < len(_entities(receiver.posts))  # several changes per POST
    for body, headers in receiver.posts:
        assert verify_webhook_signature(body, headers["intuit-signature"], "sim-verifier")
        note = json.loads(body)["eventNotifications"][0]
        assert note["realmId"] == sim.realm_id
        assert note["dataChangeEvent"]["entities"][0]["lastUpdated"].endswith("Z")


def test_void_and_delete_operations(sim: QboSimulator, receiver: Receiver) -> None:
    sim.set_webhook_url(receiver.url)
    first = sim.add_invoice()
    second = sim.add_invoice()
    sim.void_invoice(first)
    sim.delete_invoice(second)
    receiver.wait_for(
        lambda posts: (
            {("Void", first), ("Delete", second)} <= {(e["operation"], e["id"]) for e in _entities(posts)}
        )
    )


def test_cloudevents_format(clock: Any, receiver: Receiver) -> None:
    with QboSimulator(invoices=10, now=clock, webhook_url=receiver.url, webhook_format="cloudevents") as sim:
        invoice_id = sim.add_invoice()
        receiver.wait_for(lambda posts: bool(posts))
        body, headers = receiver.posts[0]
        assert verify_webhook_signature(body, headers["intuit-signature"], "sim-verifier")
        events = json.loads(body)
        assert isinstance(events, list)
        event = events[0]
        assert event["specversion"] == "1.0" and event["type"] == "qbo.invoice.created.v1"
        assert event["intuitentityid"] == invoice_id and event["intuitaccountid"] == sim.realm_id


def test_failed_deliveries_are_retried(clock: Any) -> None:
    rx = Receiver(fail_first=2)
    with rx.server, QboSimulator(invoices=10, now=clock, webhook_url=rx.url) as sim:
        invoice_id = sim.add_invoice()
        rx.wait_for(lambda posts: any(e["id"] == invoice_id for e in _entities(posts)))
        assert rx.fail_first == 0


def test_no_url_means_no_delivery_and_no_blocking(sim: QboSimulator, api: Any) -> None:
    assert api.post("vendor", {"DisplayName": "Quiet Vendor"}).status_code == 200
    assert sim.webhooks.delivered == 0
