from __future__ import annotations

import json
import socket
from typing import Any

import stripe
from samples import STRIPE_SAMPLES

from connectors.stripe.simulator import StripeSimulator
from connectors.stripe.simulator.webhooks import sign

WHSEC = "whsec_test_secret"


def test_signature_matches_the_published_sample() -> None:
    body = (STRIPE_SAMPLES / "event_checkout_session_completed.raw.json").read_bytes()
    meta = json.loads((STRIPE_SAMPLES / "event_checkout_session_completed.signature.json").read_text())
    header = meta["stripe_signature_header"]
    timestamp = int(header.split(",")[0][2:])
    ours = sign(body, meta["webhook_secret_used_by_odoo_tests"], timestamp)
    assert header.startswith(ours + ",")


def test_delivered_events_verify_with_the_sdk(sim: StripeSimulator, sink: Any, new_session: Any) -> None:
    session = new_session()
    sim.pay_checkout(session.id, "card_success")
    sim.webhooks.flush()
    assert "checkout.session.completed" in sink.types()
    for body, headers in sink.received:
        event = stripe.Webhook.construct_event(body.decode(), headers["stripe-signature"], WHSEC)
        assert event.id.startswith("evt_")
        assert headers["content-type"].startswith("application/json")
    completed = next(b for b in sink.bodies() if b["type"] == "checkout.session.completed")
    assert completed["data"]["object"]["id"] == session.id
    assert completed["pending_webhooks"] == 1


def test_forged_signature_does_not_verify(sim: StripeSimulator, sink: Any, client: Any) -> None:
    client.v1.customers.create(params={"name": "x"})
    sim.webhooks.flush()
    body, headers = sink.received[0]
    try:
        stripe.Webhook.construct_event(body.decode(), headers["stripe-signature"], "whsec_other")
    except stripe.SignatureVerificationError:
        pass
    else:
        raise AssertionError("a wrong secret verified")


def test_retries_until_the_endpoint_answers_2xx(sim: StripeSimulator, sink: Any, client: Any) -> None:
    sink.fail_next = 2
    customer = client.v1.customers.create(params={"name": "retry"})
    sim.webhooks.flush()
    assert sink.types() == ["customer.created"]
    attempts = [(a.attempt, a.status) for a in sim.webhooks.attempts if a.event_type == "customer.created"]
    assert attempts == [(1, 500), (2, 500), (3, 200)]
    assert sink.bodies()[0]["data"]["object"]["id"] == customer.id


def test_endpoint_down_is_retried_then_given_up(sim: StripeSimulator, client: Any) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    sim.webhooks.max_attempts = 3
    sim.add_webhook_endpoint(f"http://127.0.0.1:{dead_port}/hook", WHSEC)
    client.v1.customers.create(params={"name": "nobody home"})
    sim.webhooks.flush()
    assert [(a.attempt, a.status) for a in sim.webhooks.attempts] == [(1, None), (2, None), (3, None)]


def test_duplicate_switch_sends_each_event_twice(sim: StripeSimulator, sink: Any, client: Any) -> None:
    sim.webhooks.duplicate = True
    client.v1.customers.create(params={"name": "twice"})
    sim.webhooks.flush()
    bodies = sink.bodies()
    assert len(bodies) == 2
    assert bodies[0]["id"] == bodies[1]["id"]


def test_reorder_switch_delivers_a_batch_newest_first(
    sim: StripeSimulator, sink: Any, new_session: Any
) -> None:
    session = new_session()
    sim.webhooks.reorder = True
    sim.pay_checkout(session.id, "card_success")
    sim.webhooks.flush()
    delivered = [b["id"] for b in sink.bodies()]
    emitted = [e["id"] for e in sim.objects("event")]
    assert len(emitted) > 3
    assert delivered == list(reversed(emitted))


def test_paused_holds_deliveries_until_resumed(sim: StripeSimulator, sink: Any, client: Any) -> None:
    sim.webhooks.paused = True
    client.v1.customers.create(params={"name": "later"})
    sim.webhooks.flush()
    assert sink.received == []
    sim.webhooks.paused = False
    sim.webhooks.flush()
    assert sink.types() == ["customer.created"]


def test_concurrent_workers_deliver_everything(sink: Any) -> None:
    with StripeSimulator(webhook_workers=4) as sim:
        sim.add_webhook_endpoint(sink.url, WHSEC)
        client: Any = stripe.StripeClient(sim.api_key, base_addresses={"api": sim.url})
        ids = {client.v1.customers.create(params={"name": f"c{i}"}).id for i in range(12)}
        sim.webhooks.flush()
        delivered = {b["data"]["object"]["id"] for b in sink.bodies() if b["type"] == "customer.created"}
        assert ids <= delivered
