"""Payments a collector took outside Stripe (check, cash, other): recorded with the form's
request id, then written to QBO as a Payment on the invoice, to Undeposited Funds (the bookkeeper
deposits it with the rest of the day's checks), by the effect ``qbo.offline_payment``.

The effect's key names the recorded payment and is QBO's ``requestid``, so a replay (a crash
between QBO's answer and our commit) answers the Payment first created: it appears once.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from syncd.catalog.payloads import OfflinePaymentEntry
from syncd.context import Context
from syncd.domain.collections import ActivityKind, OfflineMethod
from syncd.domain.ledger import QboPaymentDraft, QboPaymentLine
from syncd.errors import OpenBalanceError, PermanentError
from syncd.stages.notify import local_now
from syncd.store import collections, effects, mirror
from syncd.store.effects import Claimed
from syncd.store.models import OfflinePayment
from syncd.worker import Done

REFERENCE_MAX = 21  # QBO's PaymentRefNum


@dataclass(frozen=True, slots=True)
class OfflineRecorded:
    payment_id: int
    created: bool  # False: this request was recorded before (a form sent twice)


def record_offline_payment(
    ctx: Context,
    realm_id: str,
    customer_id: str,
    invoice_id: str,
    *,
    method: OfflineMethod,
    amount: Decimal,
    reference: str,
    by: str,
    request_id: str,
) -> OfflineRecorded:
    """Record the payment and queue its QBO Payment, in one transaction. Raises PermanentError
    naming what is wrong (not this customer's invoice, nothing open, more than is open)."""
    reference = " ".join(reference.split())[:REFERENCE_MAX]
    if not request_id or len(request_id) > 64:
        raise PermanentError("the form has no request id: reload the page and enter the payment again")
    if amount <= 0:
        raise PermanentError("the amount must be more than zero")
    now = ctx.clock()
    with ctx.db.transaction() as session:
        earlier = session.scalar(
            select(OfflinePayment).where(
                OfflinePayment.company_id == realm_id, OfflinePayment.request_id == request_id
            )
        )
        if earlier is not None:
            return OfflineRecorded(earlier.id, created=False)
        invoice = mirror.get_invoice(session, realm_id, invoice_id)
        if invoice is None or invoice.customer_id != customer_id:
            raise PermanentError(f"invoice {invoice_id!r} is not this customer's")
        number = invoice.doc_number or invoice_id
        if invoice.status not in collections.PAYABLE:
            raise PermanentError(f"invoice {number} has nothing open to pay")
        # Payments taken since the invoice was last mirrored are not in its balance yet.
        taken = session.scalars(
            select(OfflinePayment.amount).where(
                OfflinePayment.company_id == realm_id,
                OfflinePayment.invoice_id == invoice_id,
                OfflinePayment.recorded_at > invoice.mirrored_at,
            )
        )
        open_now = invoice.balance - sum(taken, Decimal(0))
        if amount > open_now:
            raise PermanentError(f"{amount} is more than the {open_now} open on invoice {number}")
        row = OfflinePayment(
            company_id=realm_id,
            customer_id=customer_id,
            invoice_id=invoice_id,
            request_id=request_id,
            method=method.value,
            amount=amount,
            currency=invoice.currency,
            reference=reference,
            recorded_by=by,
            recorded_at=now,
        )
        session.add(row)
        session.flush()
        effects.enqueue(
            session, OfflinePaymentEntry(request_id, customer_id=customer_id), company_id=realm_id, now=now
        )
        collections.record(
            session,
            realm_id,
            customer_id,
            ActivityKind.PAYMENT,
            by=by,
            now=now,
            body=f"{method.value} {amount} {invoice.currency}" + (f" ref {reference}" if reference else ""),
            invoice_id=invoice_id,
        )
        return OfflineRecorded(row.id, created=True)


def _row(session: Session, realm_id: str, request_id: str) -> OfflinePayment:
    row = session.scalar(
        select(OfflinePayment).where(
            OfflinePayment.company_id == realm_id, OfflinePayment.request_id == request_id
        )
    )
    if row is None:
        raise PermanentError(f"no offline payment {request_id!r} recorded")
    return row


def book_offline_payment(ctx: Context, effect: Claimed) -> Done:
    """Write the QBO Payment (Undeposited Funds, the invoice linked)."""
    entry = OfflinePaymentEntry.of(effect)
    today = local_now(ctx, effect.company_id).date()
    with ctx.db.transaction() as session:
        row = _row(session, effect.company_id, entry.request_id)
        if row.qbo_payment_id is not None:
            return Done(remote_id=row.qbo_payment_id)
        draft = QboPaymentDraft(
            customer_id=row.customer_id,
            total=row.amount,
            currency=row.currency,
            txn_date=today,
            deposit_account_id=None,
            lines=(QboPaymentLine(row.invoice_id, row.amount),),
            reference=row.reference or f"syncd {row.id}",
            memo=f"{row.method.capitalize()} taken by {row.recorded_by} (syncd {effect.key})",
        )
    try:
        booked = ctx.qbo(effect.company_id).book_payment(draft, request_id=effect.key)
    except OpenBalanceError as exc:
        raise PermanentError(
            f"QBO refused the {draft.total} {draft.currency} payment on invoice {draft.lines[0].invoice_id}: "
            f"{exc}. It may have been paid meanwhile; record the payment by hand in QBO if it is still due."
        ) from exc
    payment_id = booked.entry.qbo_id

    def apply(session: Session) -> None:
        _row(session, effect.company_id, entry.request_id).qbo_payment_id = payment_id

    return Done(remote_id=payment_id, apply=apply)
