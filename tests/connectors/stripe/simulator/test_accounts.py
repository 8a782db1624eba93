"""Several Stripe accounts in one simulator, as Stripe Connect and separate accounts behave.

Contract (docs.stripe.com/connect/authentication, /connect/webhooks, changelog 2017-05-25):
the platform's key plus ``Stripe-Account: acct_…`` acts on that connected account; a key that may
not act on the named account is refused with 403 ``account_invalid``; an event that happened on a
connected account carries the top-level ``account`` field and goes to the platform's *Connect*
endpoints (``connect=true``), never to its account endpoints; an account's own events carry no
``account`` and go to that account's endpoints only. Idempotency keys are per account.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import requests
import stripe

from connectors.stripe.client import StripeConnector
from connectors.stripe.simulator import StripeSimulator
from syncd.domain import CheckoutRequest
from syncd.ports.stripe import StripeSettings

CONNECT_WHSEC = "whsec_connect_secret"
OWN_KEY = "sk_test_other_account"


def _post(sim: StripeSimulator, key: str, path: str, account: str | None = None, **data: str) -> Any:
    headers = {"Authorization": f"Bearer {key}"}
    if account is not None:
        headers["Stripe-Account"] = account
    return requests.post(f"{sim.url}{path}", data=data, headers=headers, timeout=5)


def test_the_stripe_account_header_acts_on_the_connected_account_only(sim: StripeSimulator) -> None:
    connected = sim.add_account(connected=True)
    made = _post(sim, sim.api_key, "/v1/customers", connected, name="Connected customer")
    assert made.status_code == 200
    customer_id = made.json()["id"]
    assert [c["id"] for c in sim.objects("customer", connected)] == [customer_id]
    assert sim.objects("customer") == []
    # Without the header the platform's key does not see the connected account's objects.
    mine = requests.get(
        f"{sim.url}/v1/customers/{customer_id}", headers={"Authorization": f"Bearer {sim.api_key}"}, timeout=5
    )
    assert mine.status_code == 404


def test_a_key_may_not_name_an_account_it_does_not_reach(sim: StripeSimulator) -> None:
    connected = sim.add_account(connected=True)
    sim.add_account(OWN_KEY)
    unknown = _post(sim, sim.api_key, "/v1/customers", "acct_1NotConnected000", name="x")
    foreign = _post(sim, OWN_KEY, "/v1/customers", connected, name="x")
    for refused in (unknown, foreign):
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "account_invalid"
        assert OWN_KEY not in refused.text and sim.api_key not in refused.text
    assert sim.objects("customer", connected) == []


def test_an_account_of_its_own_is_opened_by_its_key_alone(sim: StripeSimulator) -> None:
    other = sim.add_account(OWN_KEY)
    _post(sim, OWN_KEY, "/v1/customers", name="Other's customer")
    _post(sim, sim.api_key, "/v1/customers", name="First's customer")
    assert [c["name"] for c in sim.objects("customer", other)] == ["Other's customer"]
    assert [c["name"] for c in sim.objects("customer")] == ["First's customer"]


def test_idempotency_keys_are_per_account(sim: StripeSimulator) -> None:
    connected = sim.add_account(connected=True)
    headers = {"Idempotency-Key": "same-key"}
    first = requests.post(
        f"{sim.url}/v1/customers",
        data={"name": "a"},
        headers={"Authorization": f"Bearer {sim.api_key}", **headers},
        timeout=5,
    )
    second = requests.post(
        f"{sim.url}/v1/customers",
        data={"name": "a"},
        headers={"Authorization": f"Bearer {sim.api_key}", "Stripe-Account": connected, **headers},
        timeout=5,
    )
    assert first.json()["id"] != second.json()["id"]
    assert "idempotent-replayed" not in {k.lower() for k in second.headers}


def test_connected_events_carry_account_and_reach_connect_endpoints_only(
    sim: StripeSimulator, sink: Any
) -> None:
    connected = sim.add_account(connected=True)
    connect_sink_url = sink.url  # the same receiver, told apart by the secret each endpoint signs with
    sim.add_webhook_endpoint(connect_sink_url, CONNECT_WHSEC, connect=True)
    _post(sim, sim.api_key, "/v1/customers", connected, name="On the connected account")
    _post(sim, sim.api_key, "/v1/customers", name="On the platform")
    sim.webhooks.flush()
    by_name: dict[str, list[tuple[dict[str, Any], str]]] = {}
    for body, headers in sink.received:
        event = json.loads(body)
        secret = CONNECT_WHSEC
        try:
            stripe.Webhook.construct_event(body.decode(), headers["stripe-signature"], secret)
        except stripe.SignatureVerificationError:
            secret = "account endpoint"
        by_name.setdefault(event["data"]["object"]["name"], []).append((event, secret))
    [(connected_event, connected_secret)] = by_name["On the connected account"]
    [(platform_event, platform_secret)] = by_name["On the platform"]
    assert connected_event["account"] == connected and connected_secret == CONNECT_WHSEC
    assert "account" not in platform_event and platform_secret == "account endpoint"
    listed = requests.get(
        f"{sim.url}/v1/events",
        headers={"Authorization": f"Bearer {sim.api_key}", "Stripe-Account": connected},
        timeout=5,
    ).json()["data"]
    assert [e["account"] for e in listed] == [connected]


def test_the_connector_sends_stripe_account_and_reads_the_event_field(
    sim: StripeSimulator, sink: Any
) -> None:
    connected = sim.add_account(connected=True)
    sim.add_webhook_endpoint(sink.url, CONNECT_WHSEC, connect=True)
    settings = StripeSettings(
        api_key=sim.api_key, webhook_secret=CONNECT_WHSEC, api_base=sim.url, stripe_account=connected
    )
    with StripeConnector(settings, sleep=lambda s: None) as stripe_connected:
        checkout = stripe_connected.create_checkout_session(
            CheckoutRequest(
                company="c1",
                invoice_ids=("1001",),
                amount=Decimal("50.00"),
                currency="USD",
                description="Invoice 1001",
                customer_id=None,
                customer_email=None,
                success_url="https://syncd.example/paid",
                cancel_url="https://syncd.example/cancel",
                payment_methods=("card",),
                payment_key="pay:c1:1001:1",
            ),
            idempotency_key="pay:c1:1001:1",
        )
        assert [s["id"] for s in sim.objects("checkout.session", connected)] == [checkout.id]
        assert sim.objects("checkout.session") == []
        sim.pay_checkout(checkout.id, "card_success")  # found in whichever account holds it
        sim.webhooks.flush()
        completed = next(b for b, _ in sink.received if json.loads(b)["type"] == "checkout.session.completed")
        headers = next(h for b, h in sink.received if b == completed)
        event = stripe_connected.parse_webhook(completed, headers["stripe-signature"])
        assert event.account == connected
        assert stripe_connected.get_checkout_session(checkout.id).id == checkout.id
