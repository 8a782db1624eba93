"""Every object the simulator returns has the keys, nesting and JSON types of the published sample
of its type in tests/contracts/stripe/ (the samples win any disagreement).

Rules: every key of the sample must be present; where the sample holds null any type is fine;
where we return null for a non-null sample value, either Stripe's own docs example for that type
holds null there too (docs_examples/), or the path is listed in NULL_OK with the reason; nested
objects are compared recursively, except the opaque ones listed in OPAQUE.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
import requests
from samples import STRIPE_SAMPLES

from connectors.stripe.simulator import StripeSimulator

CONTRACTS = STRIPE_SAMPLES

# Paths where we deliberately return null although the fixture sample has a value. The fixture
# values are generated placeholders (openapi fixtures3.json) for features syncd does not use.
NULL_OK = {
    "customer.discount": "no coupons in syncd",
    "customer.address": "syncd never sends an address",
    "customer.shipping": "no shipping",
    "charge.source": "PaymentIntent charges have no legacy Source",
    "charge.transfer_data": "no Connect transfers",
    "charge.shipping": "no shipping",
    "charge.payment_method_details.card.installments": "no installments",
    "charge.payment_method_details.card.three_d_secure": "3DS result only on challenged charges",
    "charge.payment_method_details.card.wallet": "no wallets",
    "checkout.session.after_expiration": "no recovery links",
    "checkout.session.collected_information": "no shipping collected",
    "checkout.session.consent": "no consent collection",
    "checkout.session.consent_collection": "no consent collection",
    "checkout.session.currency_conversion": "no adaptive pricing",
    "checkout.session.customer_details": "null until the payer gives details (docs example too)",
    "checkout.session.permissions": "no shipping permissions",
    "checkout.session.saved_payment_method_options": "not configured",
    "checkout.session.shipping_address_collection": "no shipping",
    "checkout.session.shipping_cost": "no shipping",
    "checkout.session.wallet_options": "not configured",
    "checkout.session.payment_method_configuration_details": "explicit method types, no configuration",
    "checkout.session.automatic_tax.liability": "no tax",
    "checkout.session.invoice_creation.invoice_data.issuer": "no invoice creation",
    "checkout.session.custom_text.after_submit": "no custom text",
    "checkout.session.custom_text.shipping_address": "no custom text",
    "checkout.session.custom_text.submit": "no custom text",
    "checkout.session.custom_text.terms_of_service_acceptance": "no custom text",
    "payment_intent.automatic_payment_methods": "explicit method types",
    "payment_intent.canceled_at": "not canceled",
    "payment_intent.last_payment_error": "no error on a successful payment",
    "payment_intent.next_action": "no action needed",
    "payment_intent.processing": "card processing details are not modelled",
    "payment_intent.payment_method_configuration_details": "explicit method types",
    "payment_intent.shipping": "no shipping",
    "payment_intent.transfer_data": "no Connect transfers",
    "setup_intent.automatic_payment_methods": "explicit method types",
    "setup_intent.last_setup_error": "no error on success",
    "setup_intent.next_action": "no action needed",
    "setup_intent.payment_method_configuration_details": "explicit method types",
    "payment_method.card.generated_from": "not generated from a card-present charge",
    "payment_method.card.wallet": "no wallets",
    "payment_method.billing_details.address.city": "no billing address collected",
    "payment_method.billing_details.address.country": "no billing address collected",
    "payment_method.billing_details.address.line1": "no billing address collected",
    "payment_method.billing_details.address.postal_code": "no billing address collected",
    "payment_method.billing_details.address.state": "no billing address collected",
    "payment_method.billing_details.email": "filled only when the payer gave one",
    "payment_method.billing_details.phone": "no phone collected",
    "payment_method.billing_details.name": "no name collected",
    "payment_method.metadata.order_id": "sample metadata",
    "balance_transaction.description": "charges without a description",
}
# Nested objects whose inner keys are free-form or example-specific.
OPAQUE = {
    "charge.metadata",
    "charge.fraud_details",
    "customer.metadata",
    "payment_method.metadata",
    "payment_intent.metadata",
    "payment_intent.payment_method_options",
    "payment_intent.amount_details.tip",
    "setup_intent.payment_method_options",
    "checkout.session.metadata",
    "checkout.session.payment_method_options",
    "dispute.evidence.enhanced_evidence",
    "dispute.evidence_details.enhanced_eligibility",
    "payment_method.us_bank_account.status_details",
    "event.data.object",
}
# Keys of the fixture sample we do not return, with the reason.
OMITTED = {
    "payment_intent.amount_details.tip": "tips are not modelled",
}


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return type(value).__name__


def _docs_null(docs: Any, path: list[str]) -> bool:
    node = docs
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return False
        node = node[key]
    return node is None


def assert_shape(
    ours: dict[str, Any],
    sample: dict[str, Any],
    kind: str,
    docs: Any,
    path: tuple[str, ...] = (),
    null_ok: frozenset[str] = frozenset(),
) -> None:
    for key, expected in sample.items():
        here = (*path, key)
        dotted = ".".join((kind, *here))
        if dotted in OMITTED:
            continue
        assert key in ours, f"{dotted} missing"
        actual = ours[key]
        if expected is None:
            continue
        if actual is None:
            assert dotted in NULL_OK or dotted in null_ok or _docs_null(docs, list(here)), (
                f"{dotted} is null, sample has {expected!r}"
            )
            continue
        assert _json_type(actual) == _json_type(expected), f"{dotted}: {actual!r} vs sample {expected!r}"
        if isinstance(expected, dict) and dotted not in OPAQUE:
            assert_shape(actual, expected, kind, docs, here, null_ok)
        if isinstance(expected, list) and expected and actual and isinstance(expected[0], dict):
            assert_shape(actual[0], expected[0], kind, docs, (*here, "0"), null_ok)


def _sample(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((CONTRACTS / name).read_text())
    return data


def _docs(name: str) -> Any:
    path = CONTRACTS / "docs_examples" / name
    return json.loads(path.read_text()) if path.exists() else None


@pytest.fixture
def world(sim: StripeSimulator, client: Any, new_session: Any) -> dict[str, dict[str, Any]]:
    """One of every object syncd touches, fetched as raw JSON over HTTP."""
    customer = client.v1.customers.create(
        params={"name": "Acme", "email": "ap@acme.test", "metadata": {"k": "v"}}
    )
    session = new_session(customer=customer.id, payment_intent_data={"setup_future_usage": "off_session"})
    sim.pay_checkout(session.id, "card_success")
    pi_id = client.v1.checkout.sessions.retrieve(session.id).payment_intent
    charge_id = client.v1.payment_intents.retrieve(pi_id).latest_charge
    refund = client.v1.refunds.create(params={"payment_intent": pi_id, "amount": 100})
    bank_session = new_session(customer=customer.id)
    sim.pay_checkout(bank_session.id, "ach_success")
    bank_pi = client.v1.checkout.sessions.retrieve(bank_session.id).payment_intent
    bank_pm = client.v1.payment_intents.retrieve(bank_pi).payment_method
    card_pm = client.v1.payment_methods.list(params={"customer": customer.id, "type": "card"}).data[0].id
    seti = client.v1.setup_intents.create(
        params={"customer": customer.id, "payment_method": "pm_card_visa", "confirm": True}
    )
    sim.clock.advance(timedelta(days=3))
    payout_id = client.v1.payouts.list().data[0].id
    dispute_id = sim.open_dispute(charge_id)
    txn_id = client.v1.charges.retrieve(charge_id).balance_transaction
    auth = {"Authorization": f"Bearer {sim.api_key}"}

    def raw(path: str) -> dict[str, Any]:
        response = requests.get(f"{sim.url}{path}", headers=auth, timeout=5)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    return {
        "customer": raw(f"/v1/customers/{customer.id}"),
        "checkout_session": raw(f"/v1/checkout/sessions/{session.id}"),
        "payment_intent": raw(f"/v1/payment_intents/{pi_id}"),
        "charge": raw(f"/v1/charges/{charge_id}"),
        "refund": raw(f"/v1/refunds/{refund.id}"),
        "dispute": raw(f"/v1/disputes/{dispute_id}"),
        "balance_transaction": raw(f"/v1/balance_transactions/{txn_id}"),
        "payout": raw(f"/v1/payouts/{payout_id}"),
        "payment_method_card": raw(f"/v1/payment_methods/{card_pm}"),
        "payment_method_us_bank_account": raw(f"/v1/payment_methods/{bank_pm}"),
        "setup_intent": raw(f"/v1/setup_intents/{seti.id}"),
        "event": raw("/v1/events?limit=1")["data"][0],
        "event_list": raw("/v1/events?limit=2"),
    }


KINDS = {
    "customer": "customer",
    "checkout_session": "checkout.session",
    "payment_intent": "payment_intent",
    "charge": "charge",
    "refund": "refund",
    "dispute": "dispute",
    "balance_transaction": "balance_transaction",
    "payout": "payout",
    "payment_method_card": "payment_method",
    "payment_method_us_bank_account": "payment_method",
    "setup_intent": "setup_intent",
}


@pytest.mark.parametrize("name", sorted(KINDS))
def test_object_matches_published_sample(world: dict[str, dict[str, Any]], name: str) -> None:
    ours = world[name]
    sample = _sample(f"{name}.json")
    assert ours["object"] == sample["object"]
    assert_shape(ours, sample, KINDS[name], _docs(f"{name}.json"))
    docs = _docs(f"{name}.json")
    if docs is not None:
        # the docs example is the realistic one: hold us to its top-level keys as well
        missing = sorted(set(docs) - set(ours) - {"shipping_details"})
        assert missing == [], f"{name}: keys of the docs example missing: {missing}"


def test_event_envelopes_match_samples(world: dict[str, dict[str, Any]]) -> None:
    ours = world["event"]
    for name in ("event_plan_created_fixture.json", "event_checkout_session_completed.json"):
        sample = _sample(name)
        sample.pop("data")  # the old-version payloads differ; compare the envelope only
        assert_shape({k: v for k, v in ours.items() if k != "data"}, sample, "event", None)
    assert set(ours["data"]) >= {"object"}
    listing = world["event_list"]
    sample_list = _sample("event_list_response.json")
    assert set(listing) >= set(sample_list)
    assert listing["url"] == sample_list["url"]


def test_charge_of_a_bank_debit_has_bank_details(sim: StripeSimulator, client: Any, new_session: Any) -> None:
    session = new_session()
    sim.pay_checkout(session.id, "ach_success")
    pi = client.v1.payment_intents.retrieve(
        client.v1.checkout.sessions.retrieve(session.id).payment_intent, params={"expand": ["latest_charge"]}
    )
    details = pi.latest_charge.payment_method_details
    assert details.type == "us_bank_account"
    assert details.us_bank_account.last4 == "6789"


def test_every_published_sample_is_covered() -> None:
    events = {
        "event_plan_created_fixture",
        "event_checkout_session_completed",
        "event_checkout_session_completed.raw",
        "event_checkout_session_completed.signature",
        "event_list_response",
    }
    names = {p.name.removesuffix(".json") for p in CONTRACTS.glob("*.json")}
    assert names - set(KINDS) - events == set()


# A setup-mode session charges nothing: Stripe answers null amounts (and no PaymentIntent).
SETUP_NULL_OK = frozenset({"checkout.session.amount_subtotal", "checkout.session.amount_total"})


def test_setup_mode_session_and_its_setup_intent_match_samples(sim: StripeSimulator, client: Any) -> None:
    customer = client.v1.customers.create(params={"email": "ap@acme.test"}).id
    session = client.v1.checkout.sessions.create(
        params={
            "mode": "setup",
            "customer": customer,
            "currency": "usd",
            "allowed_payment_method_types": ["card", "us_bank_account"],
            "success_url": "https://shop.example/saved",
            "setup_intent_data": {"metadata": {"request_key": "k"}},
        }
    )
    sim.pay_checkout(session.id, "card_success")
    auth = {"Authorization": f"Bearer {sim.api_key}"}
    raw_session = requests.get(f"{sim.url}/v1/checkout/sessions/{session.id}", headers=auth, timeout=5).json()
    seti_id = raw_session["setup_intent"]
    raw_seti = requests.get(f"{sim.url}/v1/setup_intents/{seti_id}", headers=auth, timeout=5).json()
    assert (raw_session["mode"], raw_session["payment_status"]) == ("setup", "no_payment_required")
    assert_shape(
        raw_session,
        _sample("checkout_session.json"),
        "checkout.session",
        _docs("checkout_session.json"),
        null_ok=SETUP_NULL_OK,
    )
    assert_shape(raw_seti, _sample("setup_intent.json"), "setup_intent", _docs("setup_intent.json"))
    assert raw_seti["status"] == "succeeded" and raw_seti["metadata"] == {"request_key": "k"}
