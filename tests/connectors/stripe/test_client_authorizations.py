"""StripeConnector's card authorisations over HTTP against the Stripe simulator: authorise off
session with manual capture, capture part (never twice), cancel, and a replay after Stripe forgot
the key."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from connectors.stripe.client import StripeConnector
from syncd.domain.authorizations import CardAuthorization
from syncd.errors import DeclinedError, PermanentError

pytest.importorskip("connectors.stripe.simulator")

COMPANY = "9341452"


def _authorize(connector: StripeConnector, key: str, method: str = "pm_card_visa") -> CardAuthorization:
    customer = connector.ensure_customer(
        company=COMPANY, qbo_customer_id="70", name="H", email=None, idempotency_key="c70"
    )
    return connector.authorize_card(
        customer_id=customer,
        payment_method_id=method,
        amount=Decimal("150.00"),
        currency="USD",
        metadata={"company": COMPANY, "authorization": key},
        idempotency_key=key,
    )


def test_authorise_then_capture_part_once(sim: Any, connector: StripeConnector) -> None:
    held = _authorize(connector, "auth:1")
    assert held.held and held.amount_capturable == Decimal("150.00") and held.amount_received == 0
    assert held.capture_before == sim.clock.now().replace(microsecond=0) + timedelta(days=7)
    assert _authorize(connector, "auth:1").id == held.id  # a replay under the same key
    taken = connector.capture_authorization(
        held.id, amount=Decimal("90.00"), metadata={"payment_key": "pay:1"}, idempotency_key="cap:1"
    )
    assert taken.captured and taken.amount_received == Decimal("90.00")
    assert taken.metadata["payment_key"] == "pay:1"
    # Replayed, even under another key: the intent answers as it is, nothing captured again.
    again = connector.capture_authorization(
        held.id, amount=Decimal("90.00"), metadata={"payment_key": "pay:1"}, idempotency_key="cap:2"
    )
    assert again.amount_received == Decimal("90.00")
    charges = sim.objects("charge")
    assert [(c["amount_captured"], c["amount_refunded"]) for c in charges] == [(9000, 6000)]
    assert connector.cancel_authorization(held.id, idempotency_key="rel:1").captured


def test_capture_more_than_held_is_refused(connector: StripeConnector) -> None:
    held = _authorize(connector, "auth:2")
    with pytest.raises(PermanentError):
        connector.capture_authorization(
            held.id, amount=Decimal("150.01"), metadata={}, idempotency_key="cap:3"
        )
    assert connector.get_authorization(held.id).held


def test_cancel_releases_and_replays(sim: Any, connector: StripeConnector) -> None:
    held = _authorize(connector, "auth:3")
    gone = connector.cancel_authorization(held.id, idempotency_key="rel:3")
    assert gone.canceled and gone.cancellation_reason == "abandoned"
    assert connector.cancel_authorization(held.id, idempotency_key="rel:3").canceled
    with pytest.raises(PermanentError):
        connector.capture_authorization(held.id, amount=Decimal(1), metadata={}, idempotency_key="cap:4")


def test_expired_hold_reads_as_cancelled(sim: Any, connector: StripeConnector) -> None:
    held = _authorize(connector, "auth:4")
    sim.clock.advance(timedelta(days=7, minutes=1))
    found = connector.get_authorization(held.id)
    assert found.canceled and found.cancellation_reason == "automatic"
    assert connector.cancel_authorization(held.id, idempotency_key="rel:4").canceled


def test_declined_authorisation_replays_its_decline(sim: Any, connector: StripeConnector) -> None:
    with pytest.raises(DeclinedError):
        _authorize(connector, "auth:5", "pm_card_chargeDeclinedInsufficientFunds")
    sim.clock.advance(timedelta(hours=25))
    with pytest.raises(DeclinedError):
        _authorize(connector, "auth:5", "pm_card_chargeDeclinedInsufficientFunds")
    assert len(sim.objects("payment_intent")) == 1
