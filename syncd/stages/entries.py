"""Payments syncd wrote that someone deleted, voided or re-applied in QBO: spotted at a pull,
held for staff (the invoices are not offered for payment again on their own), rebooked or
released through ``syncd entries``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from syncd.catalog.payloads import QboPayment
from syncd.context import Context
from syncd.domain import QboPaymentState
from syncd.domain.payments import PaymentStatus
from syncd.domain.reviews import EntryChange, ReviewStatus
from syncd.errors import PermanentError
from syncd.stages.books.movements import reductions_by_payment
from syncd.stages.notify import queue_staff_alert
from syncd.store import effects, reviews
from syncd.store.effects import EffectStatus
from syncd.store.models import Effect, EntryReview, InvoiceRow, PaymentRow

# Effects that change a Payment syncd wrote: while one is under way, a lower total is syncd's own.
_PAYMENT_CHANGERS = ("qbo.refund", "qbo.refund_failed", "qbo.void")


def detect(ctx: Context, session: Session, realm_id: str, seen: Sequence[QboPaymentState]) -> int:
    """Flag every syncd Payment among ``seen`` that QBO no longer holds as syncd wrote it and tell
    staff once per entry; returns how many were newly flagged."""
    flagged = 0
    ours = _ours(session, realm_id, [p.qbo_id for p in seen])
    if not ours:
        return 0
    reduced = reductions_by_payment(session, realm_id)
    now = ctx.clock()
    for state in seen:
        row = ours.get(state.qbo_id)
        if row is None:
            continue
        found = _change(session, row, state, reduced.get(state.qbo_id, Decimal(0)))
        if found is None:
            continue
        change, detail = found
        review = reviews.flag(session, row, state.qbo_id, change, detail, now)
        if review is not None:
            _tell_staff(ctx, session, review, now)
            flagged += 1
    return flagged


def _ours(session: Session, realm_id: str, ids: list[str]) -> dict[str, PaymentRow]:
    if not ids:
        return {}
    rows = session.scalars(
        select(PaymentRow).where(PaymentRow.company_id == realm_id, PaymentRow.qbo_payment_id.in_(ids))
    )
    return {str(r.qbo_payment_id): r for r in rows}


def _change(
    session: Session, row: PaymentRow, state: QboPaymentState, moved: Decimal
) -> tuple[EntryChange, str] | None:
    """``moved``: what syncd's own refund adjustments did to the Payment (negative: taken off)."""
    if state.deleted:
        return EntryChange.DELETED, "deleted in QuickBooks"
    if state.voided:
        if row.status == PaymentStatus.RETURNED.value:
            return None  # syncd voided it itself: the bank debit came back
        return EntryChange.VOIDED, "voided in QuickBooks"
    foreign = [i for i in state.invoice_ids if i not in row.invoice_ids]
    if foreign:
        return EntryChange.CHANGED, f"now applied to invoice id(s) {', '.join(foreign)}"
    if state.total > row.amount or (state.total < row.amount + moved and not _changing(session, row)):
        return EntryChange.CHANGED, f"its amount is now {state.total} {row.currency}"
    return None


def _changing(session: Session, row: PaymentRow) -> bool:
    pending = session.scalars(
        select(Effect.kind).where(
            Effect.company_id == row.company_id,
            Effect.status == EffectStatus.PENDING.value,
            Effect.kind.in_(_PAYMENT_CHANGERS),
        )
    )
    return any(True for _ in pending)


def _doc_numbers(session: Session, realm_id: str, invoice_ids: list[str]) -> str:
    names = []
    for invoice_id in invoice_ids:
        inv = session.get(InvoiceRow, (realm_id, invoice_id))
        names.append(inv.doc_number if inv is not None and inv.doc_number else f"id {invoice_id}")
    return ", ".join(names)


def _tell_staff(ctx: Context, session: Session, review: EntryReview, now: datetime) -> None:
    realm, entry = review.company_id, review.qbo_payment_id
    invoices = _doc_numbers(session, realm, list(review.invoice_ids))
    charge = review.payment_intent_id or review.payment_key
    queue_staff_alert(
        ctx,
        session,
        realm,
        f"entry:{realm}:{entry}",
        f"QuickBooks Payment {entry} was {review.change}: invoice(s) {invoices} held for review",
        f"The QuickBooks Payment {entry} that syncd recorded for Stripe payment {charge} "
        f"({review.amount} {review.currency}, invoice(s) {invoices}) was {review.detail}. Stripe "
        "holds the customer's money, so the invoice(s) are not offered for payment again until you "
        "decide:\n"
        f"  syncd entries --company {realm} --rebook {entry}    writes the Payment again\n"
        f"  syncd entries --company {realm} --release {entry}   lets the invoice(s) be paid again "
        "(after you refund the customer in Stripe, for example)",
        now,
    )


def rebook(ctx: Context, realm_id: str, qbo_payment_id: str) -> EntryReview:
    """Queue the Payment to be written again under a key of its own (one rebook per flagged entry);
    the invoices stay held until it is in QBO, where it applies what is open then."""
    now = ctx.clock()
    with ctx.db.transaction() as session:
        review = _open(session, realm_id, qbo_payment_id)
        row = session.get(PaymentRow, review.payment_key)
        if row is None or row.status != PaymentStatus.SUCCEEDED.value:
            raise PermanentError(
                f"entry {qbo_payment_id}: its Stripe payment is no longer succeeded; use --release"
            )
        if row.qbo_payment_id == qbo_payment_id:
            row.qbo_payment_id = None
        rebooked = QboPayment(
            payment_key=row.key,
            ref=row.payment_intent_id or row.key,
            customer_id=row.customer_id,
            rebook_of=qbo_payment_id,
        )
        effects.enqueue(session, rebooked, company_id=realm_id, now=now)
        reviews.resolve(review, ReviewStatus.REBOOKED, now)
        session.flush()
        session.expunge(review)
    ctx.wake("worker", realm_id)
    return review


def release(ctx: Context, realm_id: str, qbo_payment_id: str) -> EntryReview:
    """Let the invoices be paid again; QBO stays as someone left it."""
    now = ctx.clock()
    with ctx.db.transaction() as session:
        review = _open(session, realm_id, qbo_payment_id)
        reviews.resolve(review, ReviewStatus.RELEASED, now)
        session.flush()
        session.expunge(review)
    return review


def _open(session: Session, realm_id: str, qbo_payment_id: str) -> EntryReview:
    review = reviews.get(session, realm_id, qbo_payment_id)
    if review is None or review.status != ReviewStatus.OPEN.value:
        raise PermanentError(
            f"QuickBooks Payment {qbo_payment_id} is not under review in company {realm_id}; "
            f"see syncd entries --company {realm_id}"
        )
    return review
