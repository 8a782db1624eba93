"""syncd's own small types; connectors map vendor payloads to and from these."""

from syncd.domain.company import CompanyInfo, QboChanges
from syncd.domain.customers import Customer
from syncd.domain.invoices import Invoice, InvoiceLine, InvoiceStatus
from syncd.domain.ledger import (
    AccountRef,
    BooksAccounts,
    QboDepositDraft,
    QboEntry,
    QboEntryRef,
    QboPaymentDraft,
    QboPaymentLine,
    QboPaymentReduction,
    QboPurchaseDraft,
    QboRefundDraft,
    QboTransferDraft,
)
from syncd.domain.money import Money, as_decimal
from syncd.domain.stripe import (
    BalanceTxn,
    CheckoutRequest,
    CheckoutSession,
    CheckoutStatus,
    Dispute,
    DisputeStatus,
    PaymentIntent,
    PaymentIntentStatus,
    Payout,
    PayoutStatus,
    Refund,
    StripeEvent,
    StripeEventKind,
)

__all__ = [
    "AccountRef",
    "BalanceTxn",
    "BooksAccounts",
    "CheckoutRequest",
    "CheckoutSession",
    "CheckoutStatus",
    "CompanyInfo",
    "Customer",
    "Dispute",
    "DisputeStatus",
    "Invoice",
    "InvoiceLine",
    "InvoiceStatus",
    "Money",
    "PaymentIntent",
    "PaymentIntentStatus",
    "Payout",
    "PayoutStatus",
    "QboChanges",
    "QboDepositDraft",
    "QboEntry",
    "QboEntryRef",
    "QboPaymentDraft",
    "QboPaymentLine",
    "QboPaymentReduction",
    "QboPurchaseDraft",
    "QboRefundDraft",
    "QboTransferDraft",
    "Refund",
    "StripeEvent",
    "StripeEventKind",
    "as_decimal",
]
