"""Confirm: receipts, "processing" notes for bank payments, and failure notices to the payer."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from syncd.catalog import EffectKind
from syncd.catalog.payloads_email import PaymentEmail
from syncd.context import Context
from syncd.errors import PermanentError
from syncd.stages import methods, views
from syncd.stages.notify import send
from syncd.store import mirror
from syncd.store.effects import Claimed
from syncd.store.models import PaymentRow
from syncd.worker import Done

_TEMPLATES = {
    EffectKind.EMAIL_RECEIPT: "receipt",
    EffectKind.EMAIL_PROCESSING: "payment_processing",
    EffectKind.EMAIL_PAYMENT_FAILED: "payment_failed",
}


def send_payment_email(ctx: Context, effect: Claimed) -> Done:
    """The receipt, processing note or failure notice of one payment."""
    payload = PaymentEmail.of(effect)
    key = payload.payment_key
    with ctx.db.transaction() as session:
        payment = session.get(PaymentRow, key)
        if payment is None:
            raise PermanentError(f"payment {key} vanished")
        invoice = mirror.get_invoice(session, effect.company_id, payment.invoice_ids[0])
        if invoice is None:
            raise PermanentError(f"invoice {payment.invoice_ids[0]} of payment {key} is not mirrored")
        to, context = views.invoice_email_context(ctx, session, invoice)
        extra: dict[str, Any] = {
            "amount": payment.amount,
            "amount_paid": payment.amount,
            "paid_at": payment.updated_at,
            "amount_due": max(Decimal(0), invoice.balance - views.in_flight(session, invoice)[0]),
        }
        if payment.failure:
            extra["reason"] = payment.failure
        if payload.KIND is EffectKind.EMAIL_PAYMENT_FAILED:
            takes = ctx.settings.company(effect.company_id).payment_methods
            offered = methods.offered(ctx, session, effect.company_id, payment.customer_id)
            # On credit hold (this failure may be what put them there): card from now on.
            extra["card_only"] = offered != takes and "card" in offered
    context.update(extra)
    return send(ctx, effect, _TEMPLATES[payload.KIND], to, context)
