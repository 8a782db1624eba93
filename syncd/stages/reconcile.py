"""Reconcile: a succeeded Stripe payment becomes one QBO Payment linked to the exact invoice(s).

Invoice ids come from the payment row syncd created (and Stripe metadata), never from names or
emails. The Payment applies what QBO has open on them now (``books.charges``); the rest is left
unapplied: QBO keeps it as customer credit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

from syncd.catalog.payloads import QboFee, QboPayment
from syncd.context import Context
from syncd.domain import BalanceTxn, BooksAccounts, Invoice, PaymentIntent, QboPaymentDraft, QboPaymentLine
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


@dataclass(frozen=True, slots=True)
class ChargeFacts:
    """What booking a charge's Payment needs: the payment row, the mirror, Stripe's intent."""

    key: str
    realm: str
    invoice_ids: tuple[str, ...]
    expected: dict[str, Decimal]  # what the mirror says is open on each invoice
    customer_id: str
    currency: str
    home: str
    intent: PaymentIntent
    accounts: BooksAccounts

    @property
    def received(self) -> Decimal:
        return self.intent.amount_received or self.intent.amount

    @property
    def txn(self) -> BalanceTxn | None:
        return self.intent.balance_txn

    def draft(self, lines: tuple[QboPaymentLine, ...]) -> QboPaymentDraft:
        intent, txn, received = self.intent, self.txn, self.received
        return QboPaymentDraft(
            customer_id=self.customer_id,
            total=received,
            currency=self.currency,
            txn_date=(txn.created if txn else intent.created).date(),
            deposit_account_id=self.accounts.clearing.qbo_id,
            lines=lines,
            reference=intent.id,
            memo=f"Stripe payment {intent.id} (syncd {self.key})",
            exchange_rate=exchange_rate(received, self.currency, txn, self.home),
            payment_method_id=self.accounts.payment_method.qbo_id if self.accounts.payment_method else None,
        )


def charge_facts(ctx: Context, effect: Claimed) -> ChargeFacts | str:
    """The facts of the effect's charge, or the QBO Payment id when it is booked already."""
    key = QboPayment.of(effect).payment_key
    realm = effect.company_id
    with ctx.db.transaction() as session:
        row = session.get(PaymentRow, key)
        if row is None:
            raise PermanentError(f"payment {key} vanished")
        if row.qbo_payment_id:
            return row.qbo_payment_id
        intent_id = row.payment_intent_id
        invoice_ids = tuple(str(x) for x in row.invoice_ids)
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
    txn = intent.balance_txn
    # Deposited to the clearing account of the currency Stripe settled in: when Stripe converted
    # the charge, the Payment stays in the invoice's currency at Stripe's rate.
    accounts = books_accounts(ctx, realm, txn.currency if txn else currency)
    return ChargeFacts(key, realm, invoice_ids, expected, customer_id, currency, home, intent, accounts)


def record_payment(ctx: Context, effect: Claimed) -> Done:
    facts = charge_facts(ctx, effect)
    if isinstance(facts, str):
        return Done(remote_id=facts)
    # Applied to what QBO has open now, not to the mirror (a lost webhook leaves it stale).
    booked = charges.book_charge(ctx, effect, facts.received, facts.invoice_ids, facts.draft)
    changed = charges.stale(facts.expected, booked)
    txn = facts.txn
    apply = payment_recorded(
        ctx,
        facts.realm,
        facts.key,
        booked,
        intent_id=facts.intent.id,
        txn_id=txn.id if txn else None,
        received=facts.received,
        currency=facts.currency,
        changed=changed,
    )
    return Done(remote_id=booked.payment.entry.qbo_id, apply=apply)


def payment_recorded(
    ctx: Context,
    realm: str,
    key: str,
    booked: charges.Booked,
    *,
    intent_id: str,
    txn_id: str | None,
    received: Decimal,
    currency: str,
    changed: bool,
) -> Callable[[Session], None]:
    """What a booked Payment changes here (written alone or in a batch): the payment row, the
    mirror's balances, the movement, the fee's effect, the credit alert, a catch-up pull."""
    entry, lines, credit = booked.payment.entry, booked.payment.lines, booked.credit

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
        if txn_id is not None:
            movements.repoint_payment(session, txn_id, entry.qbo_id)
            fee = QboFee(payment_intent_id=intent_id, balance_txn_id=txn_id)
            effects.enqueue(session, fee, company_id=realm, now=now)
        if credit > 0:
            charges.credit_alert(ctx, session, realm, intent_id, received, currency, booked, changed=changed)
        if changed:
            ctx.wake("pull", realm)  # the mirror missed a change in QBO: catch up now

    return apply
