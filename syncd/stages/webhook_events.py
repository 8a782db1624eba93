"""The Stripe event types the stages act on: exactly what syncd's webhook endpoint subscribes to.

``stages.events`` moves payments on the checkout and payment-intent types (and hands setup-mode
sessions and payment-method types to ``stages.saved_methods``); ``stages.books``
books refunds, disputes and payouts. Every other type is ignored there, so subscribing to it
would only cost deliveries. ``tests/syncd/stages/test_webhook_events.py`` holds the two in step.
"""

from __future__ import annotations

STRIPE_WEBHOOK_EVENTS: tuple[str, ...] = (
    # payments (stages.events)
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.async_payment_failed",
    "checkout.session.expired",
    "payment_intent.succeeded",
    "payment_intent.processing",
    "payment_intent.payment_failed",
    # saved payment methods (stages.saved_methods)
    "setup_intent.succeeded",
    "payment_method.attached",
    "payment_method.detached",
    # refunds (stages.books.dispatch)
    "refund.created",
    "refund.updated",
    "refund.failed",
    "charge.refund.updated",
    # disputes and ACH returns: each reads the dispute's balance transactions again
    "charge.dispute.created",
    "charge.dispute.updated",
    "charge.dispute.funds_withdrawn",
    "charge.dispute.funds_reinstated",
    "charge.dispute.closed",
    # payouts
    "payout.paid",
    "payout.failed",
)
