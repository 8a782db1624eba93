"""Books: Stripe money movements other than the payment itself — processor fees first."""

from __future__ import annotations

import structlog
from sqlalchemy.orm import Session

from syncd.context import Context
from syncd.domain import QboPurchaseDraft, StripeEvent
from syncd.errors import PermanentError
from syncd.stages.accounts import books_accounts
from syncd.store.effects import Claimed
from syncd.worker import Done, handler

log = structlog.get_logger("syncd.books")


def apply_event(ctx: Context, session: Session, event: StripeEvent) -> None:
    """Refunds, disputes and payouts (DESIGN §4)."""
    log.info("stripe.event_ignored", event_id=event.id, type=event.type)


@handler("qbo.fee")
def record_fee(ctx: Context, effect: Claimed) -> Done:
    """The processor fee of one charge: a Purchase from clearing to the fee account, vendor Stripe."""
    intent = ctx.stripe.get_payment_intent(str(effect.payload["payment_intent_id"]))
    txn = intent.balance_txn
    if txn is None or txn.id != effect.payload["balance_txn_id"]:
        raise PermanentError(
            f"balance transaction {effect.payload['balance_txn_id']} not found on {intent.id}"
        )
    if txn.fee == 0:
        return Done(remote_id="no-fee")
    accounts = books_accounts(ctx, effect.company_id, txn.currency)
    entry = ctx.qbo(effect.company_id).create_purchase(
        QboPurchaseDraft(
            vendor_id=accounts.stripe_vendor.qbo_id,
            from_account_id=accounts.clearing.qbo_id,
            expense_account_id=accounts.fee_expense.qbo_id,
            amount=txn.fee,
            currency=txn.currency,
            txn_date=txn.created.date(),
            memo=f"Stripe fee for {intent.id} ({txn.id})",
            reference=txn.id,
        ),
        request_id=effect.key,
    )
    return Done(remote_id=entry.qbo_id)
