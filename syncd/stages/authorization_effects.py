"""The capture and release effects of a card authorisation.

Capture: the invoice is re-read from QBO just before, and never more than its balance (or the
held amount) is captured; the amount is committed before Stripe is called, so a replay after a
crash sends the same one, and the connector answers with the intent as it is once it was
captured (never captured twice). The capture is a syncd payment on the invoice: the
PaymentIntent's metadata names it, so ``payment_intent.succeeded`` and this effect meet on one
payment row and one ``qbo:payment`` effect, booked (with the fee) by the existing books path.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from syncd.catalog.payloads_authorizations import AuthorizationCapture, AuthorizationRelease
from syncd.context import Context
from syncd.domain.authorizations import AuthorizationStatus, CardAuthorization
from syncd.domain.autopay import SavedCharge
from syncd.domain.payments import PaymentStatus
from syncd.errors import PermanentError, TransientError
from syncd.stages import autocharge
from syncd.stages.authorizations import tell
from syncd.stages.payment_status import observe_in
from syncd.store import authorizations as store
from syncd.store.effects import Claimed
from syncd.store.models import CardAuthorizationRow
from syncd.worker import Done


def capture(ctx: Context, effect: Claimed) -> Done:
    payload = AuthorizationCapture.of(effect)
    authorization_id = payload.authorization_id
    realm = effect.company_id
    with ctx.db.transaction() as session:
        row = session.get(CardAuthorizationRow, authorization_id)
        if row is None or row.status != AuthorizationStatus.CAPTURING.value:
            return Done(remote_id=f"skipped:{row.status if row else 'gone'}")
        if row.invoice_id != payload.invoice_id:
            return Done(remote_id="skipped:other-invoice")
        invoice_id, held, sent = row.invoice_id, row.amount, row.captured_amount
        intent_id, key = row.payment_intent_id, row.payment_key
        customer_id, currency = row.customer_id, row.currency
        stripe_customer, method_id = row.stripe_customer_id, row.payment_method_id
    if invoice_id is None or intent_id is None or key is None:
        raise PermanentError(f"authorisation {authorization_id} has no invoice or intent to capture")
    amount = sent
    if amount is None:
        # Re-read just before capturing: paid offline, voided or lowered is never over-captured.
        fresh = ctx.qbo(realm).get_invoice(invoice_id)
        if fresh is None or not fresh.status.payable or fresh.balance <= 0:
            return Done(remote_id="skipped:not-payable", apply=lambda s: _unmatch(ctx, s, authorization_id))
        amount = min(fresh.balance, held)
    request = SavedCharge(
        company=realm,
        customer_id=customer_id,
        invoice_ids=(invoice_id,),
        stripe_customer_id=stripe_customer,
        payment_method_id=method_id,
        amount=amount,
        currency=currency,
        payment_key=key,
        idempotency_key=effect.key,
    )
    with ctx.db.transaction() as session:
        # Committed before Stripe is called: a replay captures this amount, and the webhook of
        # the payment finds its row.
        row = session.get(CardAuthorizationRow, authorization_id)
        if row is None or row.status != AuthorizationStatus.CAPTURING.value:
            return Done(remote_id=f"skipped:{row.status if row else 'gone'}")
        row.captured_amount = amount
        autocharge.open_payment(session, request, method_kind="card", now=ctx.clock())
    try:
        taken = ctx.stripe.capture_authorization(
            intent_id, amount=amount, metadata=autocharge.metadata(request), idempotency_key=effect.key
        )
    except TransientError:
        raise
    except PermanentError as exc:
        # No longer capturable (expired or released at Stripe): the invoice goes by autopay or link.
        reason = str(exc)
        return Done(remote_id="lost", apply=lambda s: _lost(ctx, s, authorization_id, request, reason))
    return Done(remote_id=taken.id, apply=lambda s: _captured(ctx, s, authorization_id, request, taken))


def _captured(
    ctx: Context, session: Session, authorization_id: str, request: SavedCharge, taken: CardAuthorization
) -> None:
    row = session.get(CardAuthorizationRow, authorization_id)
    assert row is not None
    now = ctx.clock()
    if not taken.captured:
        _lost(ctx, session, authorization_id, request, f"authorisation is {taken.status}")
        return
    row.captured_amount = taken.amount_received
    store.move(row, AuthorizationStatus.CAPTURED, now=now)
    observe_in(ctx, session, None, request.payment_key, PaymentStatus.SUCCEEDED, taken.id)
    tell(session, row, "captured", now)


def _lost(ctx: Context, session: Session, authorization_id: str, request: SavedCharge, reason: str) -> None:
    row = session.get(CardAuthorizationRow, authorization_id)
    assert row is not None
    now = ctx.clock()
    row.captured_amount = None
    store.move(row, AuthorizationStatus.EXPIRED, now=now)
    autocharge.failed(session, request, reason, now=now)
    tell(session, row, "released", now)


def _unmatch(ctx: Context, session: Session, authorization_id: str) -> None:
    """The invoice was paid, voided or lowered to nothing meanwhile: hold on for the next one."""
    row = session.get(CardAuthorizationRow, authorization_id)
    if row is None or row.status != AuthorizationStatus.CAPTURING.value:
        return
    if row.invoice_id is not None:
        row.known_invoice_ids = sorted({*row.known_invoice_ids, row.invoice_id})
    row.invoice_id = None
    row.payment_key = None
    store.move(row, AuthorizationStatus.HELD, now=ctx.clock())


def release(ctx: Context, effect: Claimed) -> Done:
    authorization_id = AuthorizationRelease.of(effect).authorization_id
    with ctx.db.transaction() as session:
        row = session.get(CardAuthorizationRow, authorization_id)
        if row is None or row.status != AuthorizationStatus.RELEASING.value:
            return Done(remote_id=f"skipped:{row.status if row else 'gone'}")
        intent_id = row.payment_intent_id
    if intent_id is None:
        return Done(remote_id="nothing-held", apply=lambda s: _released(ctx, s, authorization_id, None))
    gone = ctx.stripe.cancel_authorization(intent_id, idempotency_key=effect.key)
    return Done(remote_id=gone.id, apply=lambda s: _released(ctx, s, authorization_id, gone))


def _released(ctx: Context, session: Session, authorization_id: str, gone: CardAuthorization | None) -> None:
    row = session.get(CardAuthorizationRow, authorization_id)
    assert row is not None
    now: datetime = ctx.clock()
    expired = gone is not None and gone.cancellation_reason == "automatic"
    store.move(row, AuthorizationStatus.EXPIRED if expired else AuthorizationStatus.RELEASED, now=now)
    tell(session, row, "released", now)
