"""Refunds, full or partial: a RefundReceipt to the customer out of clearing."""

from __future__ import annotations

from sqlalchemy.orm import Session

from syncd.context import Context
from syncd.domain import BooksAccounts, QboRefundDraft, Refund
from syncd.errors import PermanentError
from syncd.stages.accounts import books_accounts
from syncd.stages.books.movements import link, record
from syncd.stages.books.payers import payer_of
from syncd.stages.rates import credited_rate
from syncd.store.effects import Claimed
from syncd.worker import Done, handler

_RECORDED = ("succeeded", "pending", "requires_action", "failed", "canceled")


def _refund_and_customer(ctx: Context, refund_id: str) -> tuple[Refund, str | None]:
    refund = ctx.stripe.get_refund(refund_id)
    payer = payer_of(ctx, refund.payment_intent_id) if refund.payment_intent_id else None
    return refund, payer.customer_id if payer is not None else None


def _income(accounts: BooksAccounts) -> str:
    if accounts.refund_income is None:
        raise PermanentError("company.accounts.refund_income names no income account for refunds")
    return accounts.refund_income.qbo_id


@handler("qbo.refund")
def record_refund(ctx: Context, effect: Claimed) -> Done:
    """Key ``qbo:refund:<re_…>``: the money returned, linked to the customer who paid."""
    realm = effect.company_id
    refund, customer_id = _refund_and_customer(ctx, str(effect.payload["refund_id"]))
    if customer_id is None:
        return Done(remote_id="skipped:not-a-syncd-payment")
    txn = refund.balance_txn
    if txn is None or refund.status not in _RECORDED:
        return Done(remote_id="skipped:no-balance-transaction")
    accounts = books_accounts(ctx, realm, txn.currency)
    # Converted by Stripe: the receipt is in the customer's currency at the rate Stripe applied.
    converted = txn.currency.upper() != refund.currency.upper()
    entry = ctx.qbo(realm).create_refund(
        QboRefundDraft(
            customer_id=customer_id,
            from_account_id=accounts.clearing.qbo_id,
            income_account_id=_income(accounts),
            amount=refund.amount if converted else -txn.net,
            currency=refund.currency if converted else txn.currency,
            exchange_rate=credited_rate(refund.amount, txn.amount) if converted else None,
            txn_date=txn.created.date(),
            memo=f"Stripe refund {refund.id} of payment {refund.payment_intent_id}",
            reference=refund.id,
        ),
        request_id=effect.key,
    )

    def apply(session: Session) -> None:
        record(session, realm, txn, link("refund", entry, txn.net))

    return Done(remote_id=entry.qbo_id, apply=apply)
