"""Stripe events into payment state: from the inbox (webhooks), the backfill, or a redirect.

Every path ends in ``observe_in``, which moves a payment forward only and enqueues the follow-up
effects under deterministic keys — so duplicated, reordered or racing observations change nothing.
"""

from __future__ import annotations

from datetime import timedelta

import structlog
from sqlalchemy.orm import Session

from syncd.catalog.payloads import Payload, PaymentFailedEmail, ProcessingEmail, QboPayment, ReceiptEmail
from syncd.context import Context
from syncd.domain import StripeEvent, StripeEventKind
from syncd.domain.payments import PaymentStatus
from syncd.errors import SyncdError
from syncd.stages import saved_methods
from syncd.store import cursors, effects, inbox, payments
from syncd.store.models import PaymentRow

log = structlog.get_logger("syncd.events")

ACCOUNT = "*"
BACKFILL_CURSOR = "stripe.last_event"
BACKFILL_WINDOW = timedelta(days=3)

_OBSERVED = {
    StripeEventKind.CHECKOUT_ASYNC_SUCCEEDED: PaymentStatus.SUCCEEDED,
    StripeEventKind.CHECKOUT_ASYNC_FAILED: PaymentStatus.FAILED,
    StripeEventKind.CHECKOUT_EXPIRED: PaymentStatus.EXPIRED,
    StripeEventKind.PAYMENT_SUCCEEDED: PaymentStatus.SUCCEEDED,
    StripeEventKind.PAYMENT_PROCESSING: PaymentStatus.PROCESSING,
}


def ingest(ctx: Context) -> int:
    """Process stored webhook events in arrival order; returns how many were processed."""
    done = 0
    for item in inbox.pending(ctx.db, source="stripe"):
        try:
            event = ctx.stripe.parse_event(item.payload)
            with ctx.db.transaction() as session:
                apply_event(ctx, session, event)
                inbox.mark_processed(session, item.id, now=ctx.clock())
            done += 1
        except SyncdError as exc:
            inbox.mark_failed(ctx.db, item.id, error=str(exc))
            log.warning("stripe.event_failed", event_id=item.event_id, error=str(exc))
        except Exception as exc:  # one bad event never stops the others
            inbox.mark_failed(ctx.db, item.id, error=f"{type(exc).__name__}: {exc}")
            log.exception("stripe.event_crashed", event_id=item.event_id)
    if done:
        ctx.wake("worker", None)  # the effects these events queued are due now
    return done


def backfill(ctx: Context) -> int:
    """Recover events a webhook never delivered: list those after the last one seen."""
    with ctx.db.transaction() as session:
        last = cursors.get(session, ACCOUNT, BACKFILL_CURSOR)
    found = ctx.stripe.events_after(last, since=ctx.clock() - BACKFILL_WINDOW)
    recovered = 0
    for event in found:
        with ctx.db.transaction() as session:
            now = ctx.clock()
            if inbox.store(
                session, source="stripe", event_id=event.id, event_type=event.type, payload=b"", now=now
            ):
                apply_event(ctx, session, event)
                recovered += 1
                # Kept for dedupe only: the event was applied from the listing itself.
                inbox.mark_event_processed(session, "stripe", event.id, now=now)
            cursors.put(session, ACCOUNT, BACKFILL_CURSOR, event.id, now=now)
    if recovered:
        ctx.wake("worker", None)
    return recovered


def apply_event(ctx: Context, session: Session, event: StripeEvent) -> None:
    kind = event.kind
    if saved_methods.handles(event):
        saved_methods.apply_event(ctx, session, event)
    elif kind is StripeEventKind.CHECKOUT_COMPLETED:
        status = PaymentStatus.SUCCEEDED if event.paid else PaymentStatus.PROCESSING
        observe_in(
            ctx,
            session,
            event.checkout_session_id or event.object_id,
            event.metadata.get("payment_key"),
            status,
            event.payment_intent_id,
        )
    elif kind in _OBSERVED:
        saved_methods.payment_saved(session, event)
        observe_in(
            ctx,
            session,
            event.checkout_session_id,
            event.metadata.get("payment_key"),
            _OBSERVED[kind],
            event.payment_intent_id,
        )
    elif kind is StripeEventKind.PAYMENT_FAILED:
        # A declined card leaves the Checkout Session open for another try: only a payment that
        # was processing (ACH) has failed for good.
        row = _find(session, None, event.metadata.get("payment_key"), event.payment_intent_id)
        if row is not None and row.status == PaymentStatus.PROCESSING.value:
            observe_in(ctx, session, None, row.key, PaymentStatus.FAILED, event.payment_intent_id)
    else:
        from syncd.stages import books

        books.apply_event(ctx, session, event)


def _find(
    session: Session, checkout_id: str | None, payment_key: str | None, intent_id: str | None
) -> PaymentRow | None:
    row = None
    if payment_key:
        row = session.get(PaymentRow, payment_key)
    if row is None and checkout_id:
        row = payments.by_session(session, checkout_id)
    if row is None and intent_id:
        row = payments.by_intent(session, intent_id)
    return row


def observe(
    ctx: Context,
    checkout_id: str | None,
    payment_key: str | None,
    status: PaymentStatus,
    intent_id: str | None,
) -> None:
    with ctx.db.transaction() as session:
        observe_in(ctx, session, checkout_id, payment_key, status, intent_id)


def observe_in(
    ctx: Context,
    session: Session,
    checkout_id: str | None,
    payment_key: str | None,
    status: PaymentStatus,
    intent_id: str | None,
) -> None:
    row = _find(session, checkout_id, payment_key, intent_id)
    if row is None:
        log.info("stripe.unknown_payment", checkout=checkout_id, intent=intent_id)
        return
    now = ctx.clock()
    if intent_id and not row.payment_intent_id:
        row.payment_intent_id = intent_id
    before = PaymentStatus(row.status)
    if not payments.advance(row, status, now=now):
        return
    after = PaymentStatus(row.status)
    ref = row.payment_intent_id or row.key
    # Keys like qbo:payment:<intent> and email:receipt:<intent>: one per payment, ever.
    key, customer = row.key, row.customer_id
    follow_ups: tuple[Payload, ...] = ()
    if after is PaymentStatus.SUCCEEDED:
        follow_ups = (
            QboPayment(payment_key=key, ref=ref, customer_id=customer),
            ReceiptEmail(payment_key=key, ref=ref),
        )
    elif after is PaymentStatus.PROCESSING:
        follow_ups = (ProcessingEmail(payment_key=key, ref=ref),)
    elif after is PaymentStatus.FAILED and before is PaymentStatus.PROCESSING:
        follow_ups = (PaymentFailedEmail(payment_key=key, ref=ref),)
    if after is PaymentStatus.FAILED:
        from syncd.stages.books.standing import count_against  # books imports this module

        count_against(ctx, session, row.company_id, row.customer_id, now)
    for payload in follow_ups:
        effects.enqueue(session, payload, company_id=row.company_id, now=now)
    if after is PaymentStatus.EXPIRED:
        row.checkout_url = None
