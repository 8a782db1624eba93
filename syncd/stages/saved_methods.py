"""Keeps the saved-methods table in step with Stripe's payment-method and setup events.

``payment_method.attached`` / ``.detached`` record or retire a method of the QBO customer whose
Stripe Customer it is (others are not ours and are ignored); ``setup_intent.succeeded`` and a
setup-mode ``checkout.session.completed`` close the card request named in their metadata and tie
its recorded consent to the method; a payment that saved its method (``setup_future_usage``) ties
the consent recorded under its payment key (``payment_saved``). Each is idempotent, so replays
and reordering change nothing.
"""

from __future__ import annotations

import structlog
from sqlalchemy.orm import Session

from syncd.context import Context
from syncd.domain import StripeEvent, StripeEventKind
from syncd.store import saved_methods as store
from syncd.store.models import MethodConsent

log = structlog.get_logger("syncd.saved_methods")

_METHOD_KINDS = (StripeEventKind.METHOD_ATTACHED, StripeEventKind.METHOD_DETACHED)


def handles(event: StripeEvent) -> bool:
    """Events this stage owns (a setup-mode Checkout completion is not a payment)."""
    if event.kind in (*_METHOD_KINDS, StripeEventKind.SETUP_SUCCEEDED):
        return True
    change = event.method_change
    return event.kind is StripeEventKind.CHECKOUT_COMPLETED and change is not None and change.mode == "setup"


def apply_event(ctx: Context, session: Session, event: StripeEvent) -> None:
    change = event.method_change
    if change is None:
        return
    now = ctx.clock()
    if event.kind in _METHOD_KINDS:
        if change.method is None or change.customer_id is None:
            log.info("stripe.method_not_saved", event_id=event.id, method=change.method_id)
            return
        owner = store.customer_of(session, change.customer_id)
        if owner is None:
            log.info("stripe.method_not_ours", event_id=event.id, customer=change.customer_id)
            return
        if event.kind is StripeEventKind.METHOD_ATTACHED:
            store.attached(session, owner.company_id, owner.qbo_id, change.method, now=now)
        else:
            store.detached(session, change.method, owner.company_id, owner.qbo_id, now=now)
        return
    key = change.metadata.get("request_key")
    request = store.request_by_key(session, key) if key else None
    if request is None:
        return
    if request.completed_at is None:
        request.completed_at = now
    if change.method_id and request.payment_method_id is None:
        request.payment_method_id = change.method_id
    consent = session.get(MethodConsent, request.request_key)
    if consent is not None and consent.payment_method_id is None and change.method_id:
        consent.payment_method_id = change.method_id


def payment_saved(session: Session, event: StripeEvent) -> None:
    """A payment that kept its method: tie the consent recorded under its payment key to it."""
    change = event.method_change
    key = event.metadata.get("payment_key")
    if change is None or change.mode != "payment" or not change.method_id or not key:
        return
    consent = session.get(MethodConsent, key)
    if consent is not None and consent.payment_method_id is None:
        consent.payment_method_id = change.method_id
