"""A payment's status moves forward only, and each move queues its follow-up effects under
deterministic keys — so duplicated, reordered or racing observations change nothing."""

from __future__ import annotations

import structlog
from sqlalchemy.orm import Session

from syncd.catalog.payloads import Payload, QboPayment
from syncd.catalog.payloads_email import PaymentFailedEmail, ProcessingEmail, ReceiptEmail
from syncd.context import Context
from syncd.domain.payments import PaymentStatus
from syncd.stages.standing import count_against
from syncd.store import effects, payments
from syncd.store.models import PaymentRow

log = structlog.get_logger("syncd.events")


def find_payment(
    session: Session, checkout_id: str | None, payment_key: str | None, intent_id: str | None
) -> PaymentRow | None:
    """The payment an observation is about: by its key, else its Checkout Session, else its intent."""
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
    """``observe_in`` in a transaction of its own (a redirect back from Checkout)."""
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
    """Move the payment to ``status`` if that is forward, and queue what the move calls for."""
    row = find_payment(session, checkout_id, payment_key, intent_id)
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
        count_against(ctx, session, row.company_id, row.customer_id, now)
    for payload in follow_ups:
        effects.enqueue(session, payload, company_id=row.company_id, now=now)
    if after is PaymentStatus.EXPIRED:
        row.checkout_url = None
