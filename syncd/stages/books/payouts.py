"""Payouts: one Transfer from clearing to the bank per payout, for the payout's exact amount, dated
its arrival date, so it matches the bank-feed line. A failed payout moved nothing in the end."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from decimal import Decimal
from typing import NoReturn

from sqlalchemy.orm import Session

from syncd.catalog.payloads import PayoutFailed, QboPayout
from syncd.context import Context
from syncd.domain import (
    THREE_DECIMAL,
    BalanceTxn,
    BooksAccounts,
    Payout,
    PayoutStatus,
    QboDepositDraft,
    QboTransferDraft,
    to_qbo_cent,
)
from syncd.errors import PermanentError, TransientError
from syncd.stages.accounts import books_accounts
from syncd.stages.books.movements import EntryLink, entries_of, link, mark_paid_out, record
from syncd.stages.notify import queue_staff_alert
from syncd.store import effects
from syncd.store.effects import Claimed
from syncd.store.models import MoneyMovement
from syncd.worker import Done

NO_ENTRY = "-"


def payout_company(ctx: Context, session: Session, txns: list[BalanceTxn], realm: str) -> str:
    """The company a payout is booked to. A payout of a company's own (or connected) Stripe account
    is that company's, whatever it settled. A payout of an account several companies share (the
    ``[stripe]`` one) goes, whole, to the company owning most of what it settled among them: a
    payout mixing companies cannot be split into one bank line each, which is why a company
    whose payouts must never mix with another's gets an account of its own."""
    account = ctx.stripe_account(realm)
    if not account.shared:
        return realm
    owners = Counter(
        row.company_id
        for row in (session.get(MoneyMovement, t.id) for t in txns)
        if row is not None and row.company_id in account.companies
    )
    return owners.most_common(1)[0][0] if owners else realm


# A payout held for want of a bank account in its currency is tried again this often, so adding
# the setting (and restarting) books it without anyone re-queueing it.
HOLD_RETRY_SECONDS = 3600.0


def _setting(currency: str) -> str:
    return f"company.accounts.banks.{currency.upper()}"


def _bank(accounts: BooksAccounts) -> str:
    if accounts.bank is None:
        raise PermanentError(
            f"no {accounts.currency} bank account is configured for payouts: set company.accounts.bank "
            f"(home currency) or {_setting(accounts.currency)} to the QuickBooks account they arrive in"
        )
    return accounts.bank.qbo_id


def _carried(session: Session, payout: Payout, settled: list[BalanceTxn]) -> Decimal:
    """The sub-cent remainders (role ``rounding``) of the movements a payout settles, which the
    clearing account does not hold; a three-decimal payout waits until all of them are booked."""
    total = Decimal(0)
    for txn in settled:
        row = session.get(MoneyMovement, txn.id)
        if row is None:
            if payout.currency.upper() in THREE_DECIMAL:
                raise TransientError(f"{txn.id} of payout {payout.id} is not booked yet")
            continue
        total += sum((e.clearing for e in entries_of(row) if e.role == "rounding"), Decimal(0))
    return total


def _hold(ctx: Context, realm: str, payout: Payout) -> NoReturn:
    """No bank account in the payout's currency: tell staff once, and keep the payout pending;
    it is never written into an account of another currency."""
    currency = payout.currency.upper()
    with ctx.db.transaction() as session:
        queue_staff_alert(
            ctx,
            session,
            realm,
            f"payout-no-bank:{payout.id}",
            f"Stripe payout held: no {currency} bank account",
            f"The Stripe payout {payout.id} of {payout.amount} {currency} arrived, but no QuickBooks bank "
            f"account in {currency} is configured, so syncd has not booked it. Set {_setting(currency)} "
            f"(or company.accounts.bank if {currency} is the home currency) to the name of the {currency} "
            "bank account in QuickBooks and restart syncd: the payout is booked then.",
            ctx.clock(),
        )
    raise TransientError(
        f"payout {payout.id} of {payout.amount} {currency} {effects.AWAITS_SETTING}{_setting(currency)} to "
        f"the QuickBooks {currency} bank account it arrives in",
        retry_after=HOLD_RETRY_SECONDS,
    )


def _own_txn(payout: Payout, txns: list[BalanceTxn], types: tuple[str, ...]) -> BalanceTxn:
    found = next((t for t in txns if t.source_id == payout.id and t.type in types), None)
    if found is None:
        raise TransientError(f"the {'/'.join(types)} balance transaction of {payout.id} is not listed yet")
    return found


def record_payout(ctx: Context, effect: Claimed) -> Done:
    """Key ``qbo:payout:<po_…>``."""
    payout = ctx.stripe.get_payout(QboPayout.of(effect).payout_id)
    if payout.status is PayoutStatus.FAILED:
        return Done(remote_id="skipped:failed")
    if payout.status is not PayoutStatus.PAID:
        raise TransientError(f"payout {payout.id} is {payout.status.value}, not paid yet")
    txns = ctx.stripe.payout_balance_txns(payout.id)
    own = _own_txn(payout, txns, ("payout",))
    with ctx.db.transaction() as session:
        realm = payout_company(ctx, session, txns, effect.company_id)
        carried = _carried(session, payout, [t for t in txns if t.id != own.id])
    accounts = books_accounts(ctx, realm, payout.currency)
    if accounts.bank is None:
        _hold(ctx, realm, payout)
    # What the clearing account holds of this payout: Stripe's amount less the sub-cent remainders
    # QBO could not hold; the bank gets the payout to the cent, the rounding account the difference.
    out = -own.net - carried
    banked = to_qbo_cent(-own.net)
    memo = f"Stripe payout {payout.id}"
    if banked == out:
        entry = ctx.qbo(realm).create_transfer(
            QboTransferDraft(
                from_account_id=accounts.clearing.qbo_id,
                to_account_id=_bank(accounts),
                amount=out,
                currency=payout.currency,
                txn_date=payout.arrival_date.date(),
                memo=memo,
                reference=payout.id,
            ),
            request_id=effect.key,
        )
    else:
        if accounts.rounding is None:
            raise PermanentError(f"payout {payout.id} needs rounding but no rounding account is set up")
        entry = ctx.qbo(realm).create_deposit(
            QboDepositDraft(
                to_account_id=_bank(accounts),
                from_account_id=accounts.clearing.qbo_id,
                amount=banked,
                currency=payout.currency,
                txn_date=payout.arrival_date.date(),
                memo=memo,
                reference=payout.id,
                rounding_account_id=accounts.rounding.qbo_id,
                rounding=banked - out,
            ),
            request_id=effect.key,
        )
    entries = [link("transfer", entry, -out)]
    if carried:
        entries.append(EntryLink("rounding", NO_ENTRY, payout.currency.upper(), -carried))

    def apply(session: Session) -> None:
        record(session, realm, own, *entries, payout_id=payout.id)
        mark_paid_out(session, [t.id for t in txns if t.id != own.id], payout.id)

    return Done(remote_id=entry.qbo_id, apply=apply)


def record_payout_failure(ctx: Context, effect: Claimed) -> Done:
    """Key ``qbo:payout_failed:<po_…>``: Stripe took the money back into the balance. A Transfer made
    for it (the payout had been reported paid) is reversed; otherwise the two balance transactions
    cancel out and QuickBooks gets nothing."""
    payout = ctx.stripe.get_payout(PayoutFailed.of(effect).payout_id)
    if payout.status is not PayoutStatus.FAILED:
        return Done(remote_id=f"skipped:{payout.status.value}")
    txns = ctx.stripe.payout_balance_txns(payout.id)
    out = _own_txn(payout, txns, ("payout",))
    back = _own_txn(payout, txns, ("payout_failure", "payout_cancel"))
    with ctx.db.transaction() as session:
        realm = payout_company(ctx, session, [out], effect.company_id)
        existing = session.get(MoneyMovement, out.id)
        transferred = existing is not None and any(e.role == "transfer" for e in entries_of(existing))
    entries_out: list[EntryLink] = []
    entries_back: list[EntryLink]
    remote = "netted"
    if transferred:
        accounts = books_accounts(ctx, realm, payout.currency)
        entry = ctx.qbo(realm).create_transfer(
            QboTransferDraft(
                from_account_id=_bank(accounts),
                to_account_id=accounts.clearing.qbo_id,
                amount=payout.amount,
                currency=payout.currency,
                txn_date=back.created.date(),
                memo=f"Stripe payout {payout.id} failed: returned to the Stripe balance",
                reference=payout.id,
            ),
            request_id=effect.key,
        )
        entries_back = [link("transfer_back", entry, back.net)]
        remote = entry.qbo_id
    else:
        entries_out = [EntryLink("netted", NO_ENTRY, back.id, out.net)]
        entries_back = [EntryLink("netted", NO_ENTRY, out.id, back.net)]
    now: datetime = ctx.clock()

    def apply(session: Session) -> None:
        record(session, realm, out, *entries_out, payout_id=payout.id)
        record(session, realm, back, *entries_back, payout_id=payout.id)
        queue_staff_alert(
            ctx,
            session,
            realm,
            f"payout-failed:{payout.id}",
            "Stripe payout failed",
            f"The payout {payout.id} of {payout.amount} {payout.currency} failed "
            f"({payout.failure_message or 'no reason given'}); the money is back in the Stripe balance "
            "and will be paid out again. Check the bank account in the Stripe dashboard.",
            now,
        )

    return Done(remote_id=remote, apply=apply)
