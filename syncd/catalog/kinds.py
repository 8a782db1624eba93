"""The effect kinds: one member per kind, its value the string stored in ``effects.kind``."""

from __future__ import annotations

import enum


class EffectKind(enum.StrEnum):
    """Every kind of remote side effect syncd performs. The values are what rows hold (and what
    rows written by earlier releases hold): never rename one, add a kind instead."""

    # Stripe
    STRIPE_CHECKOUT = "stripe.checkout"
    STRIPE_EXPIRE_CHECKOUT = "stripe.expire_checkout"
    STRIPE_SETUP_CHECKOUT = "stripe.setup_checkout"
    STRIPE_DEFAULT_METHOD = "stripe.default_method"
    STRIPE_DETACH_METHOD = "stripe.detach_method"
    STRIPE_AUTOPAY_CHARGE = "stripe.autopay_charge"
    # QuickBooks
    QBO_PAYMENT = "qbo.payment"
    QBO_VOID = "qbo.void"
    QBO_FEE = "qbo.fee"
    QBO_REFUND = "qbo.refund"
    QBO_REFUND_FAILED = "qbo.refund_failed"
    QBO_DISPUTE = "qbo.dispute"
    QBO_PAYOUT = "qbo.payout"
    QBO_CUSTOMER_CONTACT = "qbo.customer_contact"
    QBO_INVOICE_LINKS = "qbo.invoice_links"
    QBO_INVOICE_LINK = "qbo.invoice_link"  # one link per effect: rows queued before batches
    QBO_RECURRING_UPDATE = "qbo.recurring_update"
    QBO_OFFLINE_PAYMENT = "qbo.offline_payment"  # a check or cash a collector took
    QBO_HOLD_NOTE = "qbo.hold_note"  # the credit-hold line in the QBO customer's Notes
    # Books planning (reads Stripe, queues the QBO writes)
    BOOKS_DISPUTE = "books.dispute"
    BOOKS_PAYOUT_FAILED = "books.payout_failed"
    # Email
    EMAIL_RECEIPT = "email.receipt"
    EMAIL_PROCESSING = "email.processing"
    EMAIL_PAYMENT_FAILED = "email.payment_failed"
    EMAIL_SIGN_IN = "email.sign_in"
    EMAIL_STAFF = "email.staff"
    EMAIL_NOTICE = "email.notice"
    EMAIL_INVOICE = "email.invoice"  # per-invoice emails queued before customer messages
    EMAIL_REMINDER = "email.reminder"  # likewise
    EMAIL_CARD_REQUEST = "email.card_request"
    EMAIL_CARD_EXPIRY = "email.card_expiry"
    EMAIL_RECURRING = "email.recurring"
    # Texts
    SMS_MESSAGE = "sms.message"
    EMAIL_DUNNING = "email.dunning"  # a reminder-policy step (one per customer and local day)
    EMAIL_COLLECTOR_DIGEST = "email.collector_digest"
    EMAIL_AUTOPAY_NOTICE = "email.autopay_notice"
    EMAIL_AUTOPAY_OUTCOME = "email.autopay_outcome"
    # Installment plans
    STRIPE_PLAN_CHARGE = "stripe.plan_charge"
    EMAIL_PLAN = "email.plan"
    # Card authorisations (a hold placed before the job, captured by the next invoice)
    STRIPE_AUTHORIZE = "stripe.authorize"
    STRIPE_AUTHORIZATION_CAPTURE = "stripe.authorization_capture"
    STRIPE_AUTHORIZATION_RELEASE = "stripe.authorization_release"
    EMAIL_AUTHORIZATION = "email.authorization"
    # Collections: small-debt write-offs
    QBO_WRITE_OFF = "qbo.write_off"  # an approved write-off: a credit memo applied to the invoices
    # Batched money entries: up to 30 entry effects written in one QBO batch call
    QBO_ENTRY_BATCH = "qbo.entry_batch"


class Serial(enum.Enum):
    """The serialisation groups: effects of one group value run one after another."""

    MONEY = "money"  # change one customer's invoices or credit
    METHODS = "methods"  # change one customer's saved payment methods at Stripe

    def group(self, realm_id: str, customer_id: str) -> str:
        return f"{self.value}:{realm_id}:{customer_id}"


def kind_of(value: str) -> EffectKind | None:
    """The kind a row names, or None for a kind this release does not know."""
    try:
        return EffectKind(value)
    except ValueError:
        return None
