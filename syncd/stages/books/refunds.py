"""Refunds, full or partial, out of clearing: a RefundReceipt to the customer, or, where the company
has invoices reopen on refund, the refunded amount taken off the QBO Payment itself."""

from __future__ import annotations

from sqlalchemy.orm import Session

from syncd.catalog.payloads import QboRefund
from syncd.context import Context
from syncd.domain import BalanceTxn, BooksAccounts, QboEntryRef, QboPaymentReduction, QboRefundDraft, Refund
from syncd.domain.rates import credited_rate
from syncd.errors import NotReducibleError, PermanentError, TransientError
from syncd.stages.accounts import books_accounts
from syncd.stages.books.movements import link, record
from syncd.stages.books.payers import Payer, payer_of
from syncd.stages.notify import queue_staff_alert
from syncd.store.effects import Claimed
from syncd.worker import Done

_RECORDED = ("succeeded", "pending", "requires_action", "failed", "canceled")


def _income(accounts: BooksAccounts) -> str:
    if accounts.refund_income is None:
        raise PermanentError("company.accounts.refund_income names no income account for refunds")
    return accounts.refund_income.qbo_id


def _converted(refund: Refund, txn: BalanceTxn) -> bool:
    return txn.currency.upper() != refund.currency.upper()


def record_refund(ctx: Context, effect: Claimed) -> Done:
    """Key ``qbo:refund:<re_…>``: the money returned, linked to the customer who paid."""
    realm = effect.company_id
    refund = ctx.stripe.get_refund(QboRefund.of(effect).refund_id)
    payer = payer_of(ctx, refund.payment_intent_id) if refund.payment_intent_id else None
    if payer is None:
        return Done(remote_id="skipped:not-a-syncd-payment")
    txn = refund.balance_txn
    if txn is None or refund.status not in _RECORDED:
        return Done(remote_id="skipped:no-balance-transaction")
    refused: str | None = None
    if ctx.settings.company(realm).refund_reopens_invoice:
        try:
            entry = _reduce_payment(ctx, effect, refund, txn, payer)
        except NotReducibleError as exc:
            refused = str(exc)
        else:

            def reopened(session: Session) -> None:
                record(session, realm, txn, link("reopen", entry, txn.net))
                ctx.wake("pull", realm)

            return Done(remote_id=entry.qbo_id, apply=reopened)
    # Its own requestid: a refused reduction may have spent the effect's key on a stale write.
    entry = _refund_receipt(
        ctx, realm, refund, txn, payer, f"{effect.key}#receipt" if refused else effect.key
    )

    def apply(session: Session) -> None:
        record(session, realm, txn, link("refund", entry, txn.net))
        if refused is not None:
            queue_staff_alert(
                ctx,
                session,
                realm,
                f"refund-not-reopened:{refund.id}",
                "Refund recorded without reopening the invoice",
                f"Refund {refund.id} of {refund.amount} {refund.currency} could not be taken off the "
                f"QuickBooks Payment ({refused}). syncd recorded it as a Refund Receipt instead, so "
                f"invoice(s) {', '.join(payer.invoice_ids)} stay paid. Adjust them by hand if the "
                "customer should owe the money again.",
                ctx.clock(),
            )

    return Done(remote_id=entry.qbo_id, apply=apply)


def _reduce_payment(
    ctx: Context, effect: Claimed, refund: Refund, txn: BalanceTxn, payer: Payer
) -> QboEntryRef:
    if payer.qbo_payment_id is None:
        # The Payment is still on its way into QBO (its own effect): reduce it once it is there.
        raise TransientError(f"the QBO Payment for {refund.payment_intent_id} is not recorded yet")
    converted = _converted(refund, txn)
    reduction = QboPaymentReduction(
        payment_id=payer.qbo_payment_id,
        marker=refund.id,
        # Same currency: exactly what left the balance (Stripe keeps its fee on refunds).
        amount=refund.amount if converted else -txn.net,
        home_amount=-txn.net if converted else None,
    )
    return ctx.qbo(effect.company_id).reduce_payment(reduction, request_id=effect.key)


def _refund_receipt(
    ctx: Context, realm: str, refund: Refund, txn: BalanceTxn, payer: Payer, request_id: str
) -> QboEntryRef:
    accounts = books_accounts(ctx, realm, txn.currency)
    # Converted by Stripe: the receipt is in the customer's currency at the rate Stripe applied.
    converted = _converted(refund, txn)
    return ctx.qbo(realm).create_refund(
        QboRefundDraft(
            customer_id=payer.customer_id,
            from_account_id=accounts.clearing.qbo_id,
            income_account_id=_income(accounts),
            amount=refund.amount if converted else -txn.net,
            currency=refund.currency if converted else txn.currency,
            exchange_rate=credited_rate(refund.amount, txn.amount) if converted else None,
            txn_date=txn.created.date(),
            memo=f"Stripe refund {refund.id} of payment {refund.payment_intent_id}",
            reference=refund.id,
        ),
        request_id=request_id,
    )
