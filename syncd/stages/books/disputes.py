"""Disputes: the withdrawal (amount plus dispute fee) leaves clearing as a Purchase; a won dispute's
reversal comes back as a Deposit; a lost one stays and staff are told. An ACH return arrives as a
dispute on a bank debit and is handed to ``returns``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from syncd.catalog.payloads import DisputePlan, QboDispute, QboVoid
from syncd.catalog.payloads_email import PaymentFailedEmail
from syncd.context import Context
from syncd.domain import (
    Dispute,
    DisputeStatus,
    PaymentIntent,
)
from syncd.domain.payments import PaymentStatus
from syncd.errors import PermanentError
from syncd.stages import payment_status
from syncd.stages.accounts import books_accounts
from syncd.stages.books.drafts import clearing_deposit, fee_purchase
from syncd.stages.books.movements import EntryLink, link, record
from syncd.stages.books.payers import payer_of
from syncd.stages.notify import queue_staff_alert
from syncd.stages.standing import count_against, strikes
from syncd.store import effects, payments
from syncd.store.effects import Claimed
from syncd.store.models import PaymentRow
from syncd.worker import Done

BANK_DEBIT = "us_bank_account"
_OPEN = (DisputeStatus.NEEDS_RESPONSE, DisputeStatus.WARNING_NEEDS_RESPONSE)


def is_ach_return(dispute: Dispute, intent: PaymentIntent) -> bool:
    """A bank debit taken back after it succeeded; with the whole payment withdrawn, syncd voids the
    QBO Payment instead of booking a withdrawal (a partly refunded one is booked as a withdrawal)."""
    return intent.payment_method_type == BANK_DEBIT and dispute.amount == intent.amount_received


def plan_dispute(ctx: Context, effect: Claimed) -> Done:
    """Key ``stripe:dispute:<dp_…>:<event type>`` (reads only): one ``qbo:dispute:<dp>:<txn>`` per
    balance transaction of the dispute, plus the notices its state calls for."""
    realm = effect.company_id
    dispute = ctx.stripe.get_dispute(DisputePlan.of(effect).dispute_id)
    if dispute.payment_intent_id is None:
        raise PermanentError(f"dispute {dispute.id} is not on a payment syncd took")
    intent = ctx.stripe.get_payment_intent(dispute.payment_intent_id)
    payer = payer_of(ctx, intent.id)
    if payer is None:
        return Done(remote_id="skipped:not-a-syncd-payment")
    ach_return = is_ach_return(dispute, intent)

    def apply(session: Session) -> None:
        now = ctx.clock()
        for txn in dispute.balance_txns:
            void = ach_return and txn.amount < 0
            if void:
                voided = QboVoid(intent.id, dispute.id, txn.id, customer_id=payer.customer_id)
                effects.enqueue(session, voided, company_id=realm, now=now)
            booked = QboDispute(dispute.id, txn.id, fee_only=void)
            effects.enqueue(session, booked, company_id=realm, now=now)
        if ach_return:
            _returned(ctx, session, realm, intent, payer.payment_key, now)
        else:
            _tell_staff(ctx, session, realm, dispute, now)

    return Done(remote_id=f"{len(dispute.balance_txns)} balance transactions", apply=apply)


def _returned(
    ctx: Context, session: Session, realm: str, intent: PaymentIntent, payment_key: str, now: datetime
) -> None:
    row = session.get(PaymentRow, payment_key)
    if row is None:
        return
    if row.status != PaymentStatus.SUCCEEDED.value:
        # The return overtook the news of the debit's success: record that success first (its QBO
        # Payment is what the return voids).
        payment_status.observe_in(ctx, session, None, row.key, PaymentStatus.SUCCEEDED, intent.id)
    row.failure = "Your bank returned the payment."
    if payments.advance(row, PaymentStatus.RETURNED, now=now):
        count_against(ctx, session, realm, row.customer_id, now)
    notice = PaymentFailedEmail(payment_key=row.key, ref=intent.id, returned=True)
    effects.enqueue(session, notice, company_id=realm, now=now)
    queue_staff_alert(
        ctx,
        session,
        realm,
        f"ach-return:{intent.id}",
        "Bank payment returned",
        f"The bank debit {intent.id} of {intent.amount_received} {intent.currency} was returned after it "
        f"had succeeded. syncd voided the QuickBooks Payment, so invoice(s) {', '.join(row.invoice_ids)} "
        "are open again, and told the customer. This customer now has "
        f"{strikes(session, realm, row.customer_id)} failed or returned payment(s).",
        now,
    )


def _tell_staff(ctx: Context, session: Session, realm: str, dispute: Dispute, now: datetime) -> None:
    what = f"{dispute.amount} {dispute.currency} on payment {dispute.payment_intent_id} ({dispute.id})"
    if dispute.status in _OPEN:
        title, body = "Payment disputed", f"A customer disputed {what}. Respond in the Stripe dashboard."
    elif dispute.status is DisputeStatus.LOST:
        title, body = "Dispute lost", f"The dispute of {what} was lost; the withdrawal stays in the books."
    elif dispute.status is DisputeStatus.WON:
        title, body = "Dispute won", f"The dispute of {what} was won; the funds came back to clearing."
    else:
        return
    queue_staff_alert(ctx, session, realm, f"dispute:{dispute.id}:{dispute.status.value}", title, body, now)


def record_dispute_txn(ctx: Context, effect: Claimed) -> Done:
    """Key ``qbo:dispute:<dp_…>:<txn>``: one balance transaction of a dispute into the books."""
    realm = effect.company_id
    booking = QboDispute.of(effect)
    dispute = ctx.stripe.get_dispute(booking.dispute_id)
    txn_id = booking.balance_txn_id
    txn = next((t for t in dispute.balance_txns if t.id == txn_id), None)
    if txn is None:
        raise PermanentError(f"balance transaction {txn_id} is not on dispute {dispute.id}")
    accounts = books_accounts(ctx, realm, txn.currency)
    qbo = ctx.qbo(realm)
    about = f"{dispute.charge_id} ({dispute.id})"
    entries: list[EntryLink] = []
    if booking.fee_only:
        if txn.fee != 0:
            entry = qbo.create_purchase(
                fee_purchase(accounts, txn, txn.fee, f"Return fee for {about}"),
                request_id=effect.key,
            )
            entries.append(link("dispute_fee", entry, -txn.fee))
    elif txn.net < 0:
        memo = f"Chargeback withdrawal {-txn.amount} and dispute fee {txn.fee} for {about}"
        entry = qbo.create_purchase(fee_purchase(accounts, txn, -txn.net, memo), request_id=effect.key)
        entries.append(link("withdrawal", entry, txn.net))
    elif txn.net > 0:
        entry = qbo.create_deposit(
            clearing_deposit(
                accounts,
                accounts.fee_expense.qbo_id,
                txn,
                f"Chargeback reversal {txn.amount} and dispute fee refund {-txn.fee} for {about}",
            ),
            request_id=effect.key,
        )
        entries.append(link("reversal", entry, txn.net))

    def apply(session: Session) -> None:
        record(session, realm, txn, *entries)

    return Done(remote_id=entries[0].qbo_id if entries else "no-entry", apply=apply)
