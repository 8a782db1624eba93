"""Processor fees: the fee on a charge becomes a Purchase from clearing to the fee account, vendor
Stripe; the charge's movement records both the QBO Payment and that Purchase."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

from syncd.catalog.payloads import QboFee
from syncd.context import Context
from syncd.domain import BalanceTxn, QboEntryRef, QboPurchaseDraft, to_qbo_cent
from syncd.errors import PermanentError
from syncd.stages.accounts import books_accounts
from syncd.stages.books.drafts import fee_purchase
from syncd.stages.books.movements import EntryLink, link, record
from syncd.stages.books.payouts import NO_ENTRY
from syncd.store import payments
from syncd.store.effects import Claimed
from syncd.worker import Done


@dataclass(frozen=True, slots=True)
class FeeFacts:
    """What booking a charge's fee needs: its balance transaction, the movement's entries known
    before the write, and the fee Purchase to write (None: no fee to the cent)."""

    txn: BalanceTxn
    entries: tuple[EntryLink, ...]
    fee: Decimal
    draft: QboPurchaseDraft | None


def fee_facts(ctx: Context, effect: Claimed) -> FeeFacts:
    realm = effect.company_id
    booking = QboFee.of(effect)
    intent = ctx.stripe.get_payment_intent(booking.payment_intent_id)
    txn = intent.balance_txn
    if txn is None or txn.id != booking.balance_txn_id:
        raise PermanentError(f"balance transaction {booking.balance_txn_id} not found on {intent.id}")
    with ctx.db.transaction() as session:
        row = payments.by_intent(session, intent.id)
        payment_id = row.qbo_payment_id if row is not None else None
    if payment_id is None:
        raise PermanentError(f"the QBO Payment for {intent.id} is not recorded")
    # The Payment deposits the gross into clearing (in the charge currency, which is the balance
    # currency for every account syncd supports).
    entries = [EntryLink("payment", "Payment", payment_id, txn.amount)]
    # QBO holds the fee to the cent; a three-decimal fee's remainder is carried as rounding until
    # the payout books it to the rounding account (payouts.py).
    fee = to_qbo_cent(txn.fee)
    if fee != txn.fee:
        entries.append(EntryLink("rounding", NO_ENTRY, txn.currency.upper(), fee - txn.fee))
    draft = None
    if fee != 0:
        accounts = books_accounts(ctx, realm, txn.currency)
        draft = fee_purchase(accounts, txn, fee, f"Stripe fee for {intent.id} ({txn.id})")
    return FeeFacts(txn, tuple(entries), fee, draft)


def record_fee(ctx: Context, effect: Claimed) -> Done:
    """Key ``qbo:fee:<balance txn>``; enqueued by reconcile once the QBO Payment exists."""
    facts = fee_facts(ctx, effect)
    entry = None
    if facts.draft is not None:
        entry = ctx.qbo(effect.company_id).create_purchase(facts.draft, request_id=effect.key)
    return fee_recorded(effect.company_id, facts, entry)


def fee_recorded(realm: str, facts: FeeFacts, entry: QboEntryRef | None) -> Done:
    """The movement of the charge with its Payment and the fee's Purchase (alone or batched)."""
    entries = list(facts.entries)
    if entry is not None:
        entries.append(link("fee", entry, -facts.fee))

    def apply(session: Session) -> None:
        record(session, realm, facts.txn, *entries)

    return Done(remote_id=entry.qbo_id if entry is not None else "no-fee", apply=apply)
