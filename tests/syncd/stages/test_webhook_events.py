"""syncd's webhook endpoint subscribes to exactly the Stripe event types the stages act on."""

from __future__ import annotations

from connectors.stripe.simulator.webhook_endpoints import KNOWN_EVENTS
from syncd.domain import StripeEventKind
from syncd.stages.books.dispatch import DISPUTE_PREFIX, REFUND_EVENTS
from syncd.stages.events import _OBSERVED
from syncd.stages.webhook_events import STRIPE_WEBHOOK_EVENTS

# Parsed into a kind, but no stage acts on it: refunds are booked from refund.* events.
UNUSED_KINDS = {StripeEventKind.OTHER, StripeEventKind.CHARGE_REFUNDED}


def test_every_type_a_stage_acts_on_is_subscribed_and_nothing_else() -> None:
    payments = {k.value for k in StripeEventKind if k not in UNUSED_KINDS}
    assert {k.value for k in _OBSERVED} <= payments
    books = {*REFUND_EVENTS, "refund.failed", "payout.paid", "payout.failed"}
    disputes = {t for t in KNOWN_EVENTS if t.startswith(DISPUTE_PREFIX)}
    assert set(STRIPE_WEBHOOK_EVENTS) == payments | books | disputes
    assert len(STRIPE_WEBHOOK_EVENTS) == len(set(STRIPE_WEBHOOK_EVENTS))


def test_stripe_knows_every_subscribed_type() -> None:
    assert set(STRIPE_WEBHOOK_EVENTS) <= KNOWN_EVENTS
