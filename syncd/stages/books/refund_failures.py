"""Refunds the customer's bank sent back: the money is in the Stripe balance again, so the entry
that took it out of clearing is undone by a new one (a Deposit, or the Payment restored)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from syncd.catalog.payloads import QboRefundFailed
from syncd.context import Context
from syncd.domain import (
    BalanceTxn,
    QboEntryRef,
    QboPaymentLine,
    QboPaymentRestore,
    Refund,
)
from syncd.errors import PermanentError, TransientError
from syncd.stages.accounts import books_accounts
from syncd.stages.books.drafts import clearing_deposit
from syncd.stages.books.movements import entries_of, link, record
from syncd.stages.books.payers import Payer, payer_of
from syncd.store.effects import Claimed
from syncd.store.models import MoneyMovement
from syncd.worker import Done


def record_refund_failure(ctx: Context, effect: Claimed) -> Done:
    """Key ``qbo:refund_failed:<re_…>``; waits until the refund itself is booked."""
    realm = effect.company_id
    refund = ctx.stripe.get_refund(QboRefundFailed.of(effect).refund_id)
    back = refund.failure_balance_txn
    if back is None or refund.balance_txn is None:
        raise PermanentError(f"refund {refund.id} has no failure balance transaction")
    payer = payer_of(ctx, refund.payment_intent_id) if refund.payment_intent_id else None
    if payer is None:
        return Done(remote_id="skipped:not-a-syncd-payment")
    with ctx.db.transaction() as session:
        row = session.get(MoneyMovement, refund.balance_txn.id)
        booked = {e.role: e for e in entries_of(row)} if row is not None else {}
    if "reopen" in booked:
        entry = _restore_payment(ctx, effect, refund, back, payer, booked["reopen"].qbo_id)
        role = "restore"
    elif "refund" in booked:
        entry = _deposit_back(ctx, effect, refund, back)
        role = "refund_failed"
    else:
        # The refund's own entry is still on its way (its own effect): undo it once it is there.
        raise TransientError(f"refund {refund.id} is not booked yet")

    def apply(session: Session) -> None:
        record(session, realm, back, link(role, entry, back.net))
        if role == "restore":
            ctx.wake("pull", realm)

    return Done(remote_id=entry.qbo_id, apply=apply)


def _restore_payment(
    ctx: Context, effect: Claimed, refund: Refund, back: BalanceTxn, payer: Payer, payment_id: str
) -> QboEntryRef:
    qbo = ctx.qbo(effect.company_id)
    converted = back.currency.upper() != refund.currency.upper()
    amount = refund.amount if converted else back.net
    # The money pays again what it paid before, last invoice first (as the refund reopened
    # them), as far as each still owes; anything more is the customer's credit.
    lines: list[QboPaymentLine] = []
    left = amount
    for invoice_id in reversed(payer.invoice_ids):
        invoice = qbo.get_invoice(invoice_id)
        if invoice is None or left <= 0:
            continue
        take = min(invoice.balance, left)
        if take > 0:
            lines.append(QboPaymentLine(invoice_id, take))
            left -= take
    restore = QboPaymentRestore(
        payment_id=payment_id,
        marker=f"{refund.id}:failed",
        amount=amount,
        lines=tuple(lines),
        home_amount=back.net if converted else None,
    )
    return qbo.restore_payment(restore, request_id=effect.key)


def _deposit_back(ctx: Context, effect: Claimed, refund: Refund, back: BalanceTxn) -> QboEntryRef:
    accounts = books_accounts(ctx, effect.company_id, back.currency)
    if accounts.refund_income is None:
        raise PermanentError("company.accounts.refund_income names no income account for refunds")
    return ctx.qbo(effect.company_id).create_deposit(
        clearing_deposit(
            accounts,
            accounts.refund_income.qbo_id,
            back,
            f"Stripe refund {refund.id} failed ({refund.failure_reason or 'unknown'}): money back",
        ),
        request_id=effect.key,
    )
