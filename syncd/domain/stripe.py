"""Stripe money movements as syncd sees them; amounts are Decimal in major units."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from syncd.domain.methods import MethodChange


class StripeEventKind(enum.Enum):
    """The Stripe event types syncd acts on, and so exactly those its webhook endpoint subscribes
    to (``STRIPE_WEBHOOK_EVENTS``); ``stages.events`` dispatches on these. Any other type is OTHER:
    kept in the inbox like every event, and ignored."""

    # payments (stages.events)
    CHECKOUT_COMPLETED = "checkout.session.completed"
    CHECKOUT_ASYNC_SUCCEEDED = "checkout.session.async_payment_succeeded"
    CHECKOUT_ASYNC_FAILED = "checkout.session.async_payment_failed"
    CHECKOUT_EXPIRED = "checkout.session.expired"
    PAYMENT_SUCCEEDED = "payment_intent.succeeded"
    PAYMENT_PROCESSING = "payment_intent.processing"
    PAYMENT_FAILED = "payment_intent.payment_failed"
    # saved payment methods (stages.saved_methods)
    SETUP_SUCCEEDED = "setup_intent.succeeded"
    METHOD_ATTACHED = "payment_method.attached"
    METHOD_DETACHED = "payment_method.detached"
    # refunds (stages.books)
    REFUND_CREATED = "refund.created"
    REFUND_UPDATED = "refund.updated"
    REFUND_FAILED = "refund.failed"
    CHARGE_REFUND_UPDATED = "charge.refund.updated"
    # disputes and ACH returns: each reads the dispute's balance transactions again (stages.books)
    DISPUTE_CREATED = "charge.dispute.created"
    DISPUTE_UPDATED = "charge.dispute.updated"
    DISPUTE_FUNDS_WITHDRAWN = "charge.dispute.funds_withdrawn"
    DISPUTE_FUNDS_REINSTATED = "charge.dispute.funds_reinstated"
    DISPUTE_CLOSED = "charge.dispute.closed"
    # payouts (stages.books)
    PAYOUT_PAID = "payout.paid"
    PAYOUT_FAILED = "payout.failed"
    OTHER = "other"

    @classmethod
    def parse(cls, event_type: str) -> StripeEventKind:
        try:
            return cls(event_type)
        except ValueError:
            return cls.OTHER


# What `syncd connect stripe` subscribes the endpoint to, in the order the README lists them.
STRIPE_WEBHOOK_EVENTS: tuple[str, ...] = tuple(
    k.value for k in StripeEventKind if k is not StripeEventKind.OTHER
)


class CheckoutStatus(enum.Enum):
    OPEN = "open"
    COMPLETE = "complete"
    EXPIRED = "expired"


class PaymentIntentStatus(enum.Enum):
    REQUIRES_PAYMENT_METHOD = "requires_payment_method"
    REQUIRES_CONFIRMATION = "requires_confirmation"
    REQUIRES_ACTION = "requires_action"
    PROCESSING = "processing"
    REQUIRES_CAPTURE = "requires_capture"
    CANCELED = "canceled"
    SUCCEEDED = "succeeded"


class DisputeStatus(enum.Enum):
    WARNING_NEEDS_RESPONSE = "warning_needs_response"
    WARNING_UNDER_REVIEW = "warning_under_review"
    WARNING_CLOSED = "warning_closed"
    NEEDS_RESPONSE = "needs_response"
    UNDER_REVIEW = "under_review"
    WON = "won"
    LOST = "lost"


class PayoutStatus(enum.Enum):
    PAID = "paid"
    PENDING = "pending"
    IN_TRANSIT = "in_transit"
    CANCELED = "canceled"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class StripeEvent:
    """A verified Stripe event reduced to what syncd needs.

    ``metadata`` is the metadata of the object the event is about (syncd puts ``company``,
    ``invoice_ids`` and ``payment_key`` there). ``object_id`` is that object's id.
    """

    id: str
    kind: StripeEventKind
    type: str
    created: datetime
    object_id: str
    livemode: bool
    metadata: Mapping[str, str] = field(default_factory=dict)
    payment_intent_id: str | None = None
    checkout_session_id: str | None = None
    charge_id: str | None = None
    amount: Decimal | None = None
    currency: str | None = None
    paid: bool | None = None
    status: str | None = None
    # Saved-method events and setup-mode Checkout Sessions (None for every other event).
    method_change: MethodChange | None = None
    # The Stripe account the event happened on: Connect's ``account`` field for a connected
    # account; set by syncd for a company's own account; None for the deployment's default one.
    account: str | None = None


@dataclass(frozen=True, slots=True)
class CheckoutRequest:
    """What syncd asks for when a customer presses Pay.

    ``invoice_ids`` are QBO Ids; ``payment_key`` is syncd's deterministic key for this attempt
    and is also the Idempotency-Key stem.
    """

    company: str
    invoice_ids: tuple[str, ...]
    amount: Decimal
    currency: str
    description: str
    customer_id: str | None
    customer_email: str | None
    success_url: str
    cancel_url: str
    payment_methods: tuple[str, ...]
    payment_key: str
    save_method: bool = False
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class CheckoutSession:
    id: str
    url: str | None
    status: CheckoutStatus
    payment_status: str
    payment_intent_id: str | None
    amount: Decimal
    currency: str
    metadata: Mapping[str, str]
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class BalanceTxn:
    """A Stripe balance transaction: gross ``amount``, ``fee``, ``net`` in the balance currency."""

    id: str
    type: str
    source_id: str | None
    amount: Decimal
    fee: Decimal
    net: Decimal
    currency: str
    exchange_rate: Decimal | None
    created: datetime
    available_on: datetime
    reporting_category: str | None = None


@dataclass(frozen=True, slots=True)
class PaymentIntent:
    id: str
    status: PaymentIntentStatus
    amount: Decimal
    amount_received: Decimal
    currency: str
    metadata: Mapping[str, str]
    customer_id: str | None
    latest_charge_id: str | None
    payment_method_type: str | None
    balance_txn: BalanceTxn | None
    created: datetime
    failure_message: str | None = None


@dataclass(frozen=True, slots=True)
class Refund:
    id: str
    charge_id: str
    payment_intent_id: str | None
    amount: Decimal
    currency: str
    status: str
    balance_txn: BalanceTxn | None
    created: datetime
    metadata: Mapping[str, str] = field(default_factory=dict)
    # Set once the refund came back from the customer's bank: it reverses ``balance_txn``.
    failure_balance_txn: BalanceTxn | None = None
    failure_reason: str | None = None


@dataclass(frozen=True, slots=True)
class Dispute:
    id: str
    charge_id: str
    payment_intent_id: str | None
    amount: Decimal
    currency: str
    status: DisputeStatus
    balance_txns: tuple[BalanceTxn, ...]
    created: datetime


@dataclass(frozen=True, slots=True)
class Payout:
    id: str
    amount: Decimal
    currency: str
    status: PayoutStatus
    arrival_date: datetime
    created: datetime
    balance_txn_id: str | None
    failure_message: str | None = None
