"""The typed contract between syncd and a QuickBooks Online company."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from syncd.domain import CompanyInfo, Invoice, QboChanges, ledger
from syncd.domain.collections import QboWriteOffBooked, QboWriteOffDraft
from syncd.domain.recurring import RecurringChange, RecurringTemplate
from syncd.errors import SyncdError

# The batch-call budget every QuickBooks implementation keeps per company (QBO allows 40 a minute)
# and the share of it bulk work (link write-backs) leaves to money effects; stages pace to it.
BATCHES_PER_MINUTE = 40
WINDOW_SECONDS = 60.0
BULK_RESERVE_BATCHES = 8
BATCH_ITEMS = 30  # QBO's most items in one batch call

# Set while a money effect (a Payment a payer waits on, a void) talks to QBO: an implementation
# gives its requests the company's budget first (see ``money_first``).
MONEY_FIRST: ContextVar[bool] = ContextVar("qbo_money_first", default=False)


@contextmanager
def money_first(money: bool = True) -> Iterator[None]:
    """QBO requests made inside (in this thread) take the company's budget before other work."""
    token = MONEY_FIRST.set(money)
    try:
        yield
    finally:
        MONEY_FIRST.reset(token)


@dataclass(frozen=True, slots=True)
class QboSettings:
    """Where QBO lives and who syncd is to it.

    ``environment`` is ``"production"``, ``"sandbox"`` or a discovery-document URL (a simulator);
    ``api_base_url`` is the ``.../v3`` base. The code path is the same for all three.
    """

    client_id: str
    client_secret: str
    redirect_uri: str
    environment: str
    api_base_url: str
    webhook_verifier_token: str
    minorversion: int = 75
    timeout_seconds: float = 30.0


@dataclass(frozen=True, slots=True)
class QboTokens:
    """An OAuth token pair. The refresh token rotates: always persist the newest first."""

    access_token: str
    refresh_token: str
    access_expires_at: datetime
    refresh_expires_at: datetime | None


class TokenStore(Protocol):
    """Durable, encrypted home of each company's tokens; implemented by syncd's state store."""

    def load(self, realm_id: str) -> QboTokens | None:
        """The newest tokens for the company, or None if it was never connected."""

    def save(self, realm_id: str, tokens: QboTokens) -> None:
        """Persist ``tokens`` durably (committed) before returning."""

    def refresh_lock(self, realm_id: str) -> AbstractContextManager[None]:
        """Hold the company's refresh lock: one process refreshes a company at a time,
        across processes and hosts sharing the store. Raises TransientError if busy."""


@dataclass(frozen=True, slots=True)
class RequestCounts:
    """Requests made to QBO for one company since the connector was built."""

    reads: int
    writes: int
    batches: int
    throttled: int


@dataclass(frozen=True, slots=True)
class WriteItem:
    """One queued write for :meth:`QuickBooks.write_batch`; ``request_id`` is the idempotency key."""

    request_id: str
    draft: ledger.QboPaymentDraft | ledger.QboPurchaseDraft | ledger.QboTransferDraft | ledger.QboRefundDraft


@dataclass(frozen=True, slots=True)
class AccountNames:
    """Configured names of what the books need; account setup finds or creates each once."""

    clearing: str = "Stripe Clearing"
    fee_expense: str = "Stripe Fees"
    bank: str | None = None
    stripe_vendor: str = "Stripe"
    refund_income: str = "Sales"
    # Takes the sub-cent remainders of three-decimal currencies (KWD, BHD…), which QBO cannot hold.
    rounding: str = "Stripe Rounding"
    # Payout bank account per currency (ISO code, name); ``bank`` serves the home currency.
    banks: tuple[tuple[str, str], ...] = ()

    def bank_for(self, currency: str, home_currency: str) -> str | None:
        """The bank account a payout in ``currency`` goes to; None: none configured, so the payout
        is held rather than written into an account of another currency."""
        code = currency.upper()
        named = dict(self.banks).get(code)
        if named is not None:
            return named
        return self.bank if code == home_currency.upper() else None


class QuickBooks(Protocol):
    """One QBO company (realm). Every method raises only the syncd error tree:
    TransientError (incl. ThrottledError, StaleObjectError after its own retries), PermanentError,
    AuthError / ReconnectNeededError. Vendor JSON and SDK objects never come out.

    Writes take a ``request_id`` (QBO ``requestid``): repeating a call with the same id returns
    the entity first created and never creates a second one.
    """

    realm_id: str

    def company_info(self) -> CompanyInfo:
        """Name, home currency and timezone (one read)."""

    def initial_pull(self) -> Iterator[QboChanges]:
        """Every customer and every invoice, open or not, in pages of up to 1000 rows
        (batched queries where that saves requests). The last page's ``as_of`` is the time
        to start incremental pulls from."""

    def changes_since(self, since: datetime, until: datetime) -> QboChanges:
        """CDC for Invoice, Customer, Payment, CreditMemo changed in [since, until];
        deleted entities come back in ``deleted_*_ids``. ``since`` must be within 30 days."""

    def get_invoice(self, invoice_id: str) -> Invoice | None:
        """One invoice, or None if it does not exist (deleted)."""

    def get_invoices(self, invoice_ids: Sequence[str]) -> list[Invoice]:
        """The invoices among ``invoice_ids`` as QBO has them now, in one read; deleted or
        unknown ones are absent."""

    def invoice_pdf(self, invoice_id: str) -> bytes:
        """The invoice as QBO renders it."""

    def create_payment(self, draft: ledger.QboPaymentDraft, *, request_id: str) -> ledger.QboEntryRef: ...

    def book_payment(self, draft: ledger.QboPaymentDraft, *, request_id: str) -> ledger.QboPaymentBooked:
        """Create the Payment (or answer the one ``request_id`` created) with what it applied
        and left unapplied. OpenBalanceError when QBO refused a line because of its invoice (less
        open than the line, gone, another customer's): nothing was created for ``request_id``."""

    def create_purchase(self, draft: ledger.QboPurchaseDraft, *, request_id: str) -> ledger.QboEntryRef: ...

    def create_transfer(self, draft: ledger.QboTransferDraft, *, request_id: str) -> ledger.QboEntryRef: ...

    def create_refund(self, draft: ledger.QboRefundDraft, *, request_id: str) -> ledger.QboEntryRef: ...

    def create_deposit(self, draft: ledger.QboDepositDraft, *, request_id: str) -> ledger.QboEntryRef: ...

    def get_entry(self, entity: str, entry_id: str) -> ledger.QboEntry | None:
        """One entry syncd wrote (Payment, Purchase, Transfer, RefundReceipt, Deposit) as QBO has
        it now, or None when it no longer exists (one read)."""

    def clearing_postings(
        self,
        account_ids: Collection[str],
        start: date,
        end: date,
        known: Mapping[str, Collection[str]],
    ) -> list[ledger.QboPosting]:
        """Every posting to ``account_ids`` by a Payment, SalesReceipt, Deposit, Purchase,
        RefundReceipt or Transfer dated in [start, end], and the postings of the ``known`` entries
        (entity -> Ids) whatever their date; a known entry that moves none of the accounts comes
        back once with its main account, one that no longer exists not at all. Batched queries:
        one request per 30 queries (a page is 1000 rows)."""

    def void_payment(self, payment_id: str, *, request_id: str) -> ledger.QboEntryRef:
        """Void a Payment (reading its SyncToken first); the invoices it paid reopen."""

    def reduce_payment(self, reduction: ledger.QboPaymentReduction, *, request_id: str) -> ledger.QboEntryRef:
        """Take an amount off a Payment so its invoices reopen (see ledger.QboPaymentReduction); a
        Payment already carrying the reduction's marker is left as it is. NotReducibleError when
        it is voided, deleted or holds less."""

    def restore_payment(self, restore: ledger.QboPaymentRestore, *, request_id: str) -> ledger.QboEntryRef:
        """Put a failed refund back on the Payment it was taken off (see ledger.QboPaymentRestore); a
        Payment already carrying the marker is left as it is."""

    def write_batch(
        self, items: Sequence[WriteItem], *, request_id: str | None = None
    ) -> list[ledger.QboEntryRef | SyncdError]:
        """Up to 30 creates in one batch call under ``request_id`` (by default derived from the item
        keys; PermanentError for more than 30); one result per item, in order. QBO has no
        per-item requestid: replaying the same batch answers the same entries, but an item re-sent
        in a differently composed batch is created again, so the daemon's batches
        (``syncd.stages.batching``) fix their composition in the ledger first."""

    def set_invoice_link(self, invoice_id: str, url: str, *, request_id: str) -> ledger.QboEntryRef:
        """Write the portal link on the invoice (configured custom field, else the memo)."""

    def set_invoice_links(
        self, items: Sequence[LinkWrite], *, request_id: str
    ) -> list[ledger.QboEntryRef | SyncdError]:
        """Up to 30 link write-backs as sparse updates in one batch call under ``request_id``, from
        the SyncTokens and memos the pull stored (no read); a stale one is re-read and written
        alone. One result per item, in order."""

    def update_customer_contact(
        self, customer_id: str, *, email: str | None, phone: str | None, request_id: str
    ) -> ledger.QboEntryRef:
        """Sparse update of the customer's PrimaryEmailAddr / PrimaryPhone (None: unchanged);
        nothing is written when both already hold these values. Idempotent under ``request_id``."""

    def set_hold_note(self, customer_id: str, line: str | None, *, request_id: str) -> ledger.QboEntryRef:
        """Sparse update of the customer's Notes: syncd's credit-hold line set to ``line`` (None:
        removed), the rest kept; nothing is written when Notes already read so. Idempotent under
        ``request_id``; QboNotFoundError when the customer is gone."""

    def write_off(self, draft: QboWriteOffDraft, *, request_id: str) -> QboWriteOffBooked:
        """Write a small debt off: a CreditMemo for ``draft.amount`` (one line of its item), then a
        zero-total Payment applying the memo to each invoice for its amount, unless QBO applied
        the memo on its own. Each write carries a requestid derived from ``request_id``, so a
        replay answers the entries first created and writes nothing twice. OpenBalanceError when
        an invoice no longer owes its amount (the memo stays, unapplied, as customer credit)."""

    def ensure_accounts(self, currency: str, names: AccountNames) -> ledger.BooksAccounts:
        """Find by name, or create once, the clearing, fee, vendor (and bank) the books need."""

    def recurring_templates(self) -> list[RecurringTemplate]:
        """Every recurring Invoice template (RecurringTransaction) of the company, active or not, in
        reads of up to 1000 rows; templates of other types (bills, journal entries…) are left out."""

    def update_recurring(self, change: RecurringChange, *, request_id: str) -> RecurringTemplate:
        """Make a template inactive and/or end it on ``change.end_date`` (an earlier end it already
        has is kept), as a sparse update of its RecurringInfo read with its SyncToken; the template
        as it is now. Nothing is written when it already is as asked, so a replay under
        ``request_id`` changes nothing twice. PermanentError when QBO no longer has it."""

    def keep_alive(self) -> None:
        """Refresh the access token if it is about to expire, with no metered read: keeps the
        rotating refresh-token chain alive for a quiet company. ReconnectNeededError when it was
        never connected or Intuit refuses the refresh token."""

    def counts(self) -> RequestCounts:
        """Requests made so far (no request); the metrics read it."""


@dataclass(frozen=True, slots=True)
class QboWebhookNotice:
    """One company named by a QBO webhook, with the entity changes it announced."""

    realm_id: str
    entities: tuple[tuple[str, str, str], ...]  # (entity name, id, operation)


@dataclass(frozen=True, slots=True)
class LinkWrite:
    """One invoice's link write-back, as the mirror knows the invoice (SyncToken and memo)."""

    invoice_id: str
    sync_token: str
    memo: str | None
    url: str


class QboApp(Protocol):
    """QBO as syncd's app rather than one company: webhook deliveries (one verifier token serves
    every company) and the OAuth sign-in that connects a company."""

    def parse_webhook(self, body: bytes, signature: str | None) -> list[QboWebhookNotice]:
        """The notices of a delivery whose ``intuit-signature`` matches, in either format (legacy
        eventNotifications or CloudEvents). SignatureError when the signature does not match,
        PermanentError on a signed body that is unparseable."""

    def exchange_code(self, code: str, realm_id: str) -> QboTokens:
        """Trade the code of an OAuth redirect for the company's first token pair (one request).
        AuthError / PermanentError when Intuit refuses the code, TransientError when unreachable."""
