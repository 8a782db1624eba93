"""Stripe-Signature verification against a real Stripe-signed body, and forged or stale ones."""

from __future__ import annotations

import json
import time

import pytest
import stripe
from hypothesis import given, settings
from hypothesis import strategies as st
from samples import STRIPE_SAMPLES

from connectors.stripe import webhooks
from syncd.domain import StripeEventKind
from syncd.errors import PermanentError, SignatureError

CONTRACTS = STRIPE_SAMPLES
SIGNED = json.loads((CONTRACTS / "event_checkout_session_completed.signature.json").read_text())
RAW = (CONTRACTS / SIGNED["raw_body_file"]).read_bytes()
HEADER: str = SIGNED["stripe_signature_header"]
SECRET: str = SIGNED["webhook_secret_used_by_odoo_tests"]
SIGNED_AT = 1591264652
FOREVER = 10**10  # the capture is from 2020: only an override lets its timestamp pass


def test_real_stripe_signed_body_verifies() -> None:
    event = webhooks.parse(RAW, HEADER, SECRET, tolerance=FOREVER)
    assert event.id == "evt_1GqFpHAlCFm536g8NYSLoccF"
    assert event.kind is StripeEventKind.CHECKOUT_COMPLETED


def test_real_body_within_default_tolerance_at_its_own_time() -> None:
    event = webhooks.parse(RAW, HEADER, SECRET, tolerance=300, now=SIGNED_AT + 10)
    assert event.checkout_session_id is not None


def test_stale_signature_refused_with_default_tolerance() -> None:
    with pytest.raises(SignatureError, match="older"):
        webhooks.parse(RAW, HEADER, SECRET, tolerance=300)


@pytest.mark.parametrize("index", [0, 100, len(RAW) // 2, len(RAW) - 2])
def test_a_flipped_byte_fails(index: int) -> None:
    tampered = bytearray(RAW)
    tampered[index] ^= 0x01
    with pytest.raises(SignatureError):
        webhooks.parse(bytes(tampered), HEADER, SECRET, tolerance=FOREVER)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "t=1591264652",
        "v1=1f0d3e035d8de956396b1d91727267fbbf483253e7702e46357b4d2bfa078ba4",
        "t=abc,v1=00",
        "t=1591264652,v1=" + "0" * 64,
        "t=1591264653," + HEADER.split(",", 1)[1],
        "t=1591264652,v0=20d76342f4704d49f8f89db03acff7cf04afa48ca70a22d608b4649b332c1f51",
    ],
)
def test_unsigned_or_forged_headers(header: str | None) -> None:
    with pytest.raises(SignatureError):
        webhooks.parse(RAW, header, SECRET, tolerance=FOREVER)


def test_wrong_secret_fails() -> None:
    with pytest.raises(SignatureError):
        webhooks.parse(RAW, HEADER, "whsec_not_the_one", tolerance=FOREVER)


def test_any_of_several_v1_signatures_may_match() -> None:
    """Stripe sends two v1 signatures while a secret is being rolled."""
    header = f"t={SIGNED_AT},v1={'a' * 64},{HEADER.split(',')[1]}"
    assert webhooks.parse(RAW, header, SECRET, tolerance=FOREVER).id.startswith("evt_")


def test_our_signing_matches_the_sdk() -> None:
    body = b'{"id":"evt_1","object":"event","type":"payout.paid","created":1,"data":{"object":{"id":"po_1"}}}'
    now = int(time.time())
    ours = webhooks.sign(body, "whsec_test", now)
    assert ours == stripe.WebhookSignature.generate_signature_header(body.decode(), "whsec_test", now)
    stripe.WebhookSignature.verify_header(body, ours, "whsec_test", 300)
    assert webhooks.parse(body, ours, "whsec_test", tolerance=300).kind is StripeEventKind.PAYOUT_PAID


def test_signed_garbage_is_permanent_not_signature() -> None:
    now = int(time.time())
    for body in (b"not json", b"[1, 2]", b'{"object": "event", "id": "evt_1"}', b"\xff\xfe"):
        with pytest.raises(PermanentError) as raised:
            webhooks.parse(body, webhooks.sign(body, "whsec_test", now), "whsec_test", tolerance=300)
        assert not isinstance(raised.value, SignatureError)


def test_future_timestamps_pass_like_stripes_sdk() -> None:
    body = RAW
    header = webhooks.sign(body, SECRET, int(time.time()) + 3600)
    assert webhooks.parse(body, header, SECRET, tolerance=300).id == "evt_1GqFpHAlCFm536g8NYSLoccF"


def test_parse_verified_replays_an_inbox_body_without_the_header() -> None:
    event = webhooks.parse_verified(RAW)
    assert event.id == "evt_1GqFpHAlCFm536g8NYSLoccF"
    with pytest.raises(PermanentError):
        webhooks.parse_verified(b"{not json")


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
_OBJECT = (
    st.fixed_dictionaries(
        {},
        optional={
            "id": st.text(max_size=6) | _JSON,
            "object": st.sampled_from(["checkout.session", "payment_intent", "charge", "refund", "dispute"])
            | _JSON,
            "metadata": st.dictionaries(st.text(max_size=6), st.text(max_size=6), max_size=2) | _JSON,
            "currency": st.sampled_from(["usd", "jpy", "kwd", "x"]) | _JSON,
            "amount": _JSON,
            "amount_total": _JSON,
            "payment_intent": _JSON,
            "charge": _JSON,
            "status": _JSON,
            "payment_status": _JSON,
        },
    )
    | _JSON
)
_EVENT = st.fixed_dictionaries(
    {"object": st.just("event") | _JSON},
    optional={
        "id": st.text(min_size=1, max_size=6) | _JSON,
        "type": st.sampled_from(["checkout.session.completed", "charge.refunded", "x"]) | _JSON,
        "created": st.integers(min_value=0, max_value=2**32) | _JSON,
        "data": st.fixed_dictionaries({}, optional={"object": _OBJECT}) | _JSON,
        "livemode": _JSON,
    },
)


@settings(max_examples=400, deadline=None)
@given(doc=_EVENT | _JSON)
def test_any_json_is_an_event_or_a_permanent_error(doc: object) -> None:
    """A verified body of any shape maps to an event or PermanentError (a 400), never a crash."""
    try:
        event = webhooks.parse_verified(json.dumps(doc).encode())
    except PermanentError:
        return
    # Accepted only as Stripe sends it: the id and type the inbox keys on, metadata as strings.
    assert isinstance(doc, dict)
    assert event.id == doc["id"] and event.type == doc["type"]
    assert event.metadata == (doc["data"]["object"].get("metadata") or {})
