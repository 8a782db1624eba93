"""The QBO entries that book a Stripe balance transaction against the clearing account, dated and
referenced by the transaction."""

from __future__ import annotations

from decimal import Decimal

from syncd.domain import BalanceTxn, BooksAccounts, QboDepositDraft, QboPurchaseDraft


def fee_purchase(accounts: BooksAccounts, txn: BalanceTxn, amount: Decimal, memo: str) -> QboPurchaseDraft:
    """``amount`` paid out of clearing to Stripe (the vendor), expensed to the fee account."""
    return QboPurchaseDraft(
        vendor_id=accounts.stripe_vendor.qbo_id,
        from_account_id=accounts.clearing.qbo_id,
        expense_account_id=accounts.fee_expense.qbo_id,
        amount=amount,
        currency=txn.currency,
        txn_date=txn.created.date(),
        memo=memo,
        reference=txn.id,
    )


def clearing_deposit(
    accounts: BooksAccounts, from_account_id: str, txn: BalanceTxn, memo: str
) -> QboDepositDraft:
    """The transaction's net deposited into clearing, taken from ``from_account_id``."""
    return QboDepositDraft(
        to_account_id=accounts.clearing.qbo_id,
        from_account_id=from_account_id,
        amount=txn.net,
        currency=txn.currency,
        txn_date=txn.created.date(),
        memo=memo,
        reference=txn.id,
    )
