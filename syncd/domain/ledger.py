"""Entries syncd asks QuickBooks to write, and the references it gets back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class AccountRef:
    """A QBO account (or vendor, or payment method) by Id, with its name for humans."""

    qbo_id: str
    name: str


@dataclass(frozen=True, slots=True)
class BooksAccounts:
    """What the books need per currency, found or created once by account setup."""

    currency: str
    clearing: AccountRef
    fee_expense: AccountRef
    bank: AccountRef | None
    stripe_vendor: AccountRef
    payment_method: AccountRef | None = None
    refund_income: AccountRef | None = None
    rounding: AccountRef | None = None  # three-decimal currencies only


@dataclass(frozen=True, slots=True)
class QboPaymentLine:
    """Apply ``amount`` of a payment to one invoice (a LinkedTxn line)."""

    invoice_id: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class QboPaymentDraft:
    """A received payment. ``total`` may exceed the lines: the rest is unapplied customer credit."""

    customer_id: str
    total: Decimal
    currency: str
    txn_date: date
    deposit_account_id: str | None  # None: Undeposited Funds (a check or cash deposited later)
    lines: tuple[QboPaymentLine, ...]
    reference: str
    memo: str
    exchange_rate: Decimal | None = None
    payment_method_id: str | None = None


@dataclass(frozen=True, slots=True)
class QboPaymentBooked:
    """A Payment as QBO answered its write: what it applied to which invoice, and what it left
    unapplied (customer credit). A replayed write answers the Payment first created."""

    entry: QboEntryRef
    lines: tuple[QboPaymentLine, ...]
    unapplied: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class QboEntryDraft:
    """What every entry syncd writes carries: its total, currency and date, a memo for the
    bookkeeper, and the Stripe reference that makes it findable (DocNumber). Keyword-only, so a
    draft's own fields come first and no positional call can shift into these."""

    amount: Decimal
    currency: str
    txn_date: date
    memo: str
    reference: str


@dataclass(frozen=True, slots=True)
class QboPurchaseDraft(QboEntryDraft):
    """An expense paid out of ``from_account_id`` (processor fee, dispute withdrawal and fee)."""

    vendor_id: str
    from_account_id: str
    expense_account_id: str
    exchange_rate: Decimal | None = None


@dataclass(frozen=True, slots=True)
class QboTransferDraft(QboEntryDraft):
    """Money moved between two of the company's accounts (payout: clearing -> bank)."""

    from_account_id: str
    to_account_id: str


@dataclass(frozen=True, slots=True)
class QboRefundDraft(QboEntryDraft):
    """Money returned to a customer out of ``from_account_id``."""

    customer_id: str
    from_account_id: str
    income_account_id: str
    exchange_rate: Decimal | None = None


@dataclass(frozen=True, slots=True)
class QboPaymentReduction:
    """Take ``amount`` (in the Payment's currency) off a Payment syncd wrote, so the invoices it
    paid reopen by that much: unapplied credit goes first, then the invoice links from the last.

    ``marker`` is written into the Payment's note in the same update; a Payment that already
    carries it was reduced before and is left as it is, which makes the reduction idempotent
    whatever order refunds arrive in. ``home_amount`` is set when Stripe converted the charge:
    the Payment's exchange rate is recomputed so its home amount drops by exactly that much.
    """

    payment_id: str
    marker: str
    amount: Decimal
    home_amount: Decimal | None = None


@dataclass(frozen=True, slots=True)
class QboPaymentRestore:
    """Put ``amount`` back on a Payment a reduction lowered (the refund came back): applied to
    ``lines`` (invoices still owing), the rest left as unapplied credit. ``marker`` and
    ``home_amount`` work as in QboPaymentReduction."""

    payment_id: str
    marker: str
    amount: Decimal
    lines: tuple[QboPaymentLine, ...] = ()
    home_amount: Decimal | None = None


@dataclass(frozen=True, slots=True)
class QboDepositDraft(QboEntryDraft):
    """Money into ``to_account_id`` from ``from_account_id`` (a won dispute's reversal, a payout
    that needs rounding). ``rounding`` of the ``amount`` comes from ``rounding_account_id``
    instead, on a line of its own (negative: the rounding account takes it)."""

    to_account_id: str
    from_account_id: str
    exchange_rate: Decimal | None = None
    rounding_account_id: str | None = None
    rounding: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class QboEntry:
    """An entry as QBO holds it now, for the audit: total, date, the account it moves, voided."""

    entity: str
    qbo_id: str
    amount: Decimal
    txn_date: date | None
    account_id: str | None
    voided: bool = False
    currency: str | None = None
    exchange_rate: Decimal | None = None


@dataclass(frozen=True, slots=True)
class QboPosting:
    """What one QBO transaction moves in one account, as QBO holds it now, for the audit.

    ``amount`` is signed (positive: into the account) in the entry's own currency; ``exchange_rate``
    (home units per unit) is set when that currency is not the home one. ``invoice_ids`` are the
    invoices a Payment is applied to.
    """

    entity: str
    qbo_id: str
    account_id: str | None
    amount: Decimal
    txn_date: date | None
    currency: str | None
    exchange_rate: Decimal | None
    voided: bool
    memo: str
    invoice_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class QboEntryRef:
    """What QBO returned for a write: entity type, Id and SyncToken."""

    entity: str
    qbo_id: str
    sync_token: str
