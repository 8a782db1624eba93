"""Keeps the saved-methods table in step with Stripe's payment-method and setup events.

``payment_method.attached`` / ``.detached`` record or retire a method of the QBO customer whose
Stripe Customer it is (others are not ours and are ignored); ``setup_intent.succeeded`` and a
setup-mode ``checkout.session.completed`` close the card request named in their metadata and tie
its recorded consent to the method; a payment that saved its method (``setup_future_usage``) ties
the consent recorded under its payment key (``payment_saved``). Each is idempotent, so replays
and reordering change nothing.

``queue_default`` / ``queue_detach`` are what the account pages call: effects under
deterministic keys whose handlers ask Stripe, then record the result at once.
"""

from __future__ import annotations

import structlog
from sqlalchemy.orm import Session

from syncd.catalog.payloads import DefaultMethod, DetachMethod
from syncd.context import Context
from syncd.domain import StripeEvent, StripeEventKind
from syncd.errors import PermanentError
from syncd.store import effects
from syncd.store import saved_methods as store
from syncd.store.effects import Claimed
from syncd.store.models import MethodConsent, SavedMethodRow
from syncd.worker import Done

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


def _owned(session: Session, realm_id: str, qbo_customer_id: str, method_id: str) -> SavedMethodRow:
    row = session.get(SavedMethodRow, method_id)
    if row is None or (row.company_id, row.qbo_customer_id) != (realm_id, qbo_customer_id):
        raise PermanentError("That payment method is not on file for this customer.")
    if row.detached_at is not None:
        raise PermanentError("That payment method has been removed.")
    return row


def queue_default(
    ctx: Context, session: Session, realm_id: str, qbo_customer_id: str, method_id: str, request_id: str
) -> str:
    """Make one of the customer's methods their default at Stripe (an effect; ``request_id``
    names this one request, e.g. the form submission, so a replay is the same effect)."""
    row = _owned(session, realm_id, qbo_customer_id, method_id)
    change = DefaultMethod(
        method_id=method_id,
        stripe_customer_id=row.stripe_customer_id,
        qbo_customer_id=qbo_customer_id,
        request_id=request_id,
    )
    effects.enqueue(session, change, company_id=realm_id, now=ctx.clock())
    return change.key(realm_id)


def queue_detach(ctx: Context, session: Session, realm_id: str, qbo_customer_id: str, method_id: str) -> str:
    """Remove one of the customer's methods at Stripe (an effect; a method is removed once)."""
    _owned(session, realm_id, qbo_customer_id, method_id)
    change = DetachMethod(method_id=method_id, qbo_customer_id=qbo_customer_id)
    effects.enqueue(session, change, company_id=realm_id, now=ctx.clock())
    return change.key(realm_id)


def set_default(ctx: Context, effect: Claimed) -> Done:
    change = DefaultMethod.of(effect)
    method_id = change.method_id
    ctx.stripe.set_default_method(change.stripe_customer_id, method_id, idempotency_key=effect.key)

    def apply(session: Session) -> None:
        row = session.get(SavedMethodRow, method_id)
        if row is not None and row.detached_at is None:
            store.mark_default(session, row.company_id, row.qbo_customer_id, method_id, now=ctx.clock())

    return Done(remote_id=method_id, apply=apply)


def detach(ctx: Context, effect: Claimed) -> Done:
    method_id = DetachMethod.of(effect).method_id
    ctx.stripe.detach_method(method_id, idempotency_key=effect.key)

    def apply(session: Session) -> None:
        row = session.get(SavedMethodRow, method_id)
        if row is not None and row.detached_at is None:
            row.detached_at = ctx.clock()
            row.is_default = False

    return Done(remote_id=method_id, apply=apply)
