"""Reconcile: a succeeded Stripe payment becomes one QBO Payment linked to the exact invoice(s).

Invoice ids come from the payment row syncd created (and Stripe metadata), never from names or
emails. The Payment applies what QBO has open on them now (``books.charges``); the rest is left
unapplied: QBO keeps it as customer credit.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.orm import Session

from syncd.catalog.payloads import QboFee, QboPayment
from syncd.context import Context
from syncd.domain import BalanceTxn, Invoice, QboPaymentDraft, QboPaymentLine
from syncd.domain.rates import credited_rate
from syncd.errors import PermanentError
from syncd.stages.accounts import books_accounts
from syncd.stages.books import charges, movements
from syncd.store import effects, mirror
from syncd.store.effects import Claimed
from syncd.store.models import Company, PaymentRow
from syncd.worker import Done


def exchange_rate(received: Decimal, currency: str, txn: BalanceTxn | None, home: str) -> Decimal | None:
    """QBO's rate (home units per unit of the payment's currency) for a converted charge."""
    if txn is None or currency.upper() == home.upper() or received <= 0:
        return None
    if txn.currency.upper() == home.upper():
        return credited_rate(received, txn.amount)
    return txn.exchange_rate


def record_payment(ctx: Context, effect: Claimed) -> Done:
    key = QboPayment.of(effect).payment_key
    realm = effect.company_id
    with ctx.db.transaction() as session:
        row = session.get(PaymentRow, key)
        if row is None:
            raise PermanentError(f"payment {key} vanished")
        if row.qbo_payment_id:
            return Done(remote_id=row.qbo_payment_id)
        intent_id = row.payment_intent_id
        invoice_ids = [str(x) for x in row.invoice_ids]
        expected = {
            i.qbo_id: i.balance if i.status in ("open", "partial") else Decimal(0)
            for i in (mirror.get_invoice(session, realm, x) for x in invoice_ids)
            if i is not None
        }
        customer_id, currency = row.customer_id, row.currency
        company = session.get(Company, realm)
        home = company.home_currency if company and company.home_currency else currency
    if intent_id is None:
        raise PermanentError(f"payment {key} succeeded without a payment intent")
    intent = ctx.stripe.get_payment_intent(intent_id)
    received = intent.amount_received or intent.amount
    txn = intent.balance_txn
    # Deposited to the clearing account of the currency Stripe settled in: when Stripe converted
    # the charge, the Payment stays in the invoice's currency at Stripe's rate.
    accounts = books_accounts(ctx, realm, txn.currency if txn else currency)

    def draft(lines: tuple[QboPaymentLine, ...]) -> QboPaymentDraft:
        return QboPaymentDraft(
            customer_id=customer_id,
            total=received,
            currency=currency,
            txn_date=(txn.created if txn else intent.created).date(),
            deposit_account_id=accounts.clearing.qbo_id,
            lines=lines,
            reference=intent.id,
            memo=f"Stripe payment {intent.id} (syncd {key})",
            exchange_rate=exchange_rate(received, currency, txn, home),
            payment_method_id=accounts.payment_method.qbo_id if accounts.payment_method else None,
        )

    # Applied to what QBO has open now, not to the mirror (a lost webhook leaves it stale).
    booked = charges.book_charge(ctx, effect, received, invoice_ids, draft)
    entry, lines, credit = booked.payment.entry, booked.payment.lines, booked.credit
    changed = charges.stale(expected, booked)

    def apply(session: Session) -> None:
        now = ctx.clock()
        payment = session.get(PaymentRow, key)
        if payment is not None:
            payment.qbo_payment_id = entry.qbo_id
        for line in lines:
            inv = mirror.get_invoice(session, realm, line.invoice_id)
            if inv is not None:
                inv.balance = max(inv.balance - line.amount, Decimal(0))
                inv.status = Invoice.status_for(inv.total, inv.balance).value
        if txn is not None:
            movements.repoint_payment(session, txn.id, entry.qbo_id)
            fee = QboFee(payment_intent_id=intent.id, balance_txn_id=txn.id)
            effects.enqueue(session, fee, company_id=realm, now=now)
        if credit > 0:
            charges.credit_alert(ctx, session, realm, intent.id, received, currency, booked, changed=changed)
        if changed:
            ctx.wake("pull", realm)  # the mirror missed a change in QBO: catch up now

    return Done(remote_id=entry.qbo_id, apply=apply)
