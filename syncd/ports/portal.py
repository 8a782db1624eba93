"""The contract between the portal pages and the backend that knows invoices and payments."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol

from syncd.domain import InvoiceLine, InvoiceStatus


class PaymentState(enum.Enum):
    """Whether money is already on its way for this invoice (hides the Pay button)."""

    NONE = "none"
    PROCESSING = "processing"
    PAID = "paid"
    # A payment recorded for it was changed in QuickBooks: staff decide before it is paid again.
    REVIEW = "review"


class Outcome(enum.Enum):
    """What to tell the payer after they come back from Checkout."""

    PAID = "paid"
    PROCESSING = "processing"
    PENDING = "pending"
    CANCELLED = "cancelled"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Branding:
    """How one business presents itself; colours are ``#rrggbb`` (anything else falls back)."""

    name: str
    logo_url: str | None
    primary_color: str
    accent_color: str
    contact_email: str | None
    contact_phone: str | None
    message: str | None
    locale: str = "en_US"  # money and dates on the pages (syncd.formatting)


@dataclass(frozen=True, slots=True)
class InvoiceView:
    """Everything the invoice page shows; every string may come from QBO and is escaped."""

    token: str
    branding: Branding
    doc_number: str
    customer_name: str
    txn_date: date
    due_date: date | None
    currency: str
    lines: tuple[InvoiceLine, ...]
    tax: Decimal
    total: Decimal
    amount_paid: Decimal
    balance: Decimal
    status: InvoiceStatus
    payment_state: PaymentState
    overdue: bool
    allow_partial: bool
    min_partial: Decimal
    memo: str | None = None
    # What this payer may use; empty when they must contact the business to arrange payment.
    payment_methods: tuple[str, ...] = ("card",)
    # The "keep this card for next time" consent text, None when saving is not offered.
    keep_offer: str | None = None
    # What an installment plan asks now through this page: the amount offered (and accepted,
    # whatever min_partial says), None when the invoice is in no plan or nothing is due.
    plan_amount: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Consenting:
    """Who ticked "keep this card for next time", recorded with the text they were shown."""

    ip: str | None
    user_agent: str | None


class PortalBackend(Protocol):
    """Implemented by the integrator over the store and the Stripe connector.

    Any method may raise AuthError when the company's connection to Stripe or QuickBooks is lost
    (the backend pauses the company and tells staff) and TransientError when a remote is briefly
    unavailable: the payer is told to try again later (503)."""

    def invoice(self, token: str) -> InvoiceView | None:
        """None for unknown or revoked links (→ 404 that reveals nothing)."""

    def start_payment(self, token: str, amount: Decimal | None, keep: Consenting | None = None) -> str:
        """URL of the Stripe Checkout page to 303 to; raises PermanentError(str meant for the payer)
        when it cannot (paid, voided, bad amount). ``amount`` None means the whole balance;
        ``keep`` when the payer ticked "keep this card for next time"."""

    def outcome(self, token: str, session_id: str | None) -> Outcome:
        """What to tell the payer after returning from Checkout."""

    def invoice_pdf(self, token: str) -> bytes | None:
        """The invoice as a PDF, or None when there is none to give (QBO has no such document)."""
