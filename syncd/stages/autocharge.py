"""The charge primitive: charge a customer's saved method off-session for one amount, as one
syncd payment the existing books path books exactly once.

The caller opens the payment (``open_payment``) in the transaction that decides to charge, then
calls ``charge`` from an effect handler whose key is the attempt's ``idempotency_key`` and commits
``settled`` or ``failed`` with the effect. The PaymentIntent's metadata names the company, the
invoices and the payment key exactly as Checkout payments do, so ``payment_intent.succeeded`` and
the handler's own ``settled`` meet on one payment row and one ``qbo:payment`` effect. Autopay uses
it today; installment plans and holds can call it with their own keys.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from sqlalchemy.orm import Session

from syncd.context import Context
from syncd.domain.autopay import SavedCharge
from syncd.domain.payments import PaymentStatus
from syncd.domain.stripe import PaymentIntent, PaymentIntentStatus
from syncd.errors import DeclinedError
from syncd.stages.notify import local_now
from syncd.stages.payment_status import observe_in
from syncd.store import payments
from syncd.store.models import PaymentRow
from syncd.worker import Done


def open_payment(session: Session, charge: SavedCharge, *, method_kind: str, now: datetime) -> None:
    """The payment row the charge will be booked against (made once per payment key)."""
    if session.get(PaymentRow, charge.payment_key) is not None:
        return
    session.add(
        PaymentRow(
            key=charge.payment_key,
            company_id=charge.company,
            customer_id=charge.customer_id,
            invoice_ids=list(charge.invoice_ids),
            amount=charge.amount,
            currency=charge.currency,
            status=PaymentStatus.CREATING.value,
            method=method_kind,
            created_at=now,
            updated_at=now,
        )
    )


def metadata(charge: SavedCharge) -> dict[str, str]:
    """What links the money back to QBO, as on a Checkout payment: by id, never by name."""
    return {
        "company": charge.company,
        "invoice_ids": ",".join(charge.invoice_ids),
        "payment_key": charge.payment_key,
    }


def charge(ctx: Context, request: SavedCharge) -> PaymentIntent:
    """Create and confirm the off-session PaymentIntent under the attempt's key; a replay (even
    past Stripe's 24 h key window) answers with the first attempt's intent or decline. Raises
    DeclinedError (``kind`` says soft or hard), AuthenticationRequiredError, TransientError."""
    return ctx.stripe.charge_off_session(
        customer_id=request.stripe_customer_id,
        payment_method_id=request.payment_method_id,
        amount=request.amount,
        currency=request.currency,
        metadata=metadata(request),
        idempotency_key=request.idempotency_key,
        mandate=request.mandate,
        first_send=request.first_send,
    )


def attempt(
    ctx: Context,
    request: SavedCharge,
    *,
    method_kind: str,
    record: Callable[[Session], None],
    declined: Callable[[Session, DeclinedError, date], None],
    charged: Callable[[Session, PaymentIntent], None],
) -> Done:
    """One charge attempt from an effect handler: ``record`` (the caller's row takes the amount) and
    the payment row are committed before Stripe is called, so a replay sends this amount and the
    payment's webhook finds its row; then the charge, whose outcome ``declined`` (with the
    company's local day) or ``charged`` applies in the worker's transaction."""
    with ctx.db.transaction() as session:
        record(session)
        open_payment(session, request, method_kind=method_kind, now=ctx.clock())
    # Read now: the outcome applies inside the worker's transaction and must not open another.
    today = local_now(ctx, request.company).date()
    try:
        intent = charge(ctx, request)
    except DeclinedError as exc:
        refused = exc
        return Done(remote_id=f"declined:{exc.code}", apply=lambda s: declined(s, refused, today))
    return Done(remote_id=intent.id, apply=lambda s: charged(s, intent))


def settled(ctx: Context, session: Session, request: SavedCharge, intent: PaymentIntent) -> None:
    """Record what Stripe answered: paid (the books follow), processing (a bank debit) or not."""
    status = {
        PaymentIntentStatus.SUCCEEDED: PaymentStatus.SUCCEEDED,
        PaymentIntentStatus.PROCESSING: PaymentStatus.PROCESSING,
    }.get(intent.status)
    if status is None:
        failed(session, request, intent.failure_message or intent.status.value, now=ctx.clock())
        return
    observe_in(ctx, session, None, request.payment_key, status, intent.id)


def failed(session: Session, request: SavedCharge, reason: str, *, now: datetime) -> None:
    """A declined charge: the payment fails (no bank-debit strike: a card decline is not a return)."""
    row = session.get(PaymentRow, request.payment_key)
    if row is not None and payments.advance(row, PaymentStatus.FAILED, now=now):
        row.failure = reason[:500]
