"""The typed payload of every effect kind, and the key and serial group its effect takes.

Stored fields are exactly what earlier releases wrote in ``effects.payload``, so their rows still
load (see ``jsonable`` for the versioning rule); ``key_part`` fields only build the key or group.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, ClassVar, Protocol, Self

from syncd.catalog.jsonable import Json, key_part
from syncd.catalog.kinds import EffectKind as K
from syncd.catalog.kinds import kind_of
from syncd.errors import PermanentError


class StoredEffect(Protocol):
    """What a payload is read from: a claimed effect or an effect row."""

    @property
    def kind(self) -> str: ...

    @property
    def payload(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True, slots=True)
class Payload(Json):
    """Base of the payloads; ``KIND`` names the catalog entry each belongs to."""

    KIND: ClassVar[K]
    KEY: ClassVar[str] = ""  # the key: ``{realm}`` and the payload's fields (key parts included)
    CUSTOMER: ClassVar[str] = ""  # the field naming the customer of the kind's serial group

    def key(self, realm_id: str) -> str:
        """The effect's deterministic key (its idempotency key at the remote end)."""
        return self.key_with(realm_id, **{f.name: getattr(self, f.name) for f in fields(self)})

    @classmethod
    def key_with(cls, realm_id: str = "", **parts: object) -> str:
        """The key from its parts, for those who name a key with no payload at hand (the audit)."""
        if not cls.KEY:
            raise NotImplementedError(f"{cls.__name__} has no key")
        return cls.KEY.format(realm=realm_id, **parts)

    def customer(self) -> str | None:
        """The customer whose serial group the effect joins (kinds with a group only)."""
        return getattr(self, self.CUSTOMER) if self.CUSTOMER else None

    @classmethod
    def of(cls, effect: StoredEffect) -> Self:
        """The typed payload of ``effect``; raises PermanentError when its kind is not ``cls``'s."""
        kind = kind_of(effect.kind)
        found = PAYLOADS.get(kind) if kind is not None else None
        if found is None or not issubclass(found, cls):
            raise PermanentError(f"effect kind {effect.kind!r} has no {cls.__name__} payload")
        return found.from_json(effect.payload)


# Stripe ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StripeCheckout(Payload):
    KIND = K.STRIPE_CHECKOUT
    KEY = "stripe:checkout:{payment_key}"
    payment_key: str


@dataclass(frozen=True, slots=True)
class ExpireCheckout(Payload):
    KIND = K.STRIPE_EXPIRE_CHECKOUT
    KEY = "stripe:expire:{session_id}"
    payment_key: str
    session_id: str


@dataclass(frozen=True, slots=True)
class SetupCheckout(Payload):
    KIND = K.STRIPE_SETUP_CHECKOUT
    KEY = "stripe:setup:{request_key}:{attempt}"
    request_key: str
    attempt: str = key_part()  # a new Checkout Session per attempt


@dataclass(frozen=True, slots=True)
class DefaultMethod(Payload):
    KIND = K.STRIPE_DEFAULT_METHOD
    CUSTOMER = "qbo_customer_id"
    KEY = "stripe:default-method:{realm}:{qbo_customer_id}:{method_id}:{request_id}"
    method_id: str
    stripe_customer_id: str
    qbo_customer_id: str = key_part()
    request_id: str = key_part()  # names one request (a form submission): a replay is the same


@dataclass(frozen=True, slots=True)
class DetachMethod(Payload):
    KIND = K.STRIPE_DETACH_METHOD
    CUSTOMER = "qbo_customer_id"
    KEY = "stripe:detach-method:{method_id}"
    method_id: str
    qbo_customer_id: str = key_part()


# QuickBooks --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QboPayment(Payload):
    """A charge's QBO Payment. ``round``/``refused`` are amended by ``books.charges`` as QBO
    refuses writes because of the invoices (committed before the next write)."""

    KIND = K.QBO_PAYMENT
    CUSTOMER = "customer_id"
    payment_key: str
    ref: str = key_part()  # the payment intent id (or the payment key without one)
    customer_id: str = key_part()
    rebook_of: str = key_part("")  # the flagged QBO Payment this one is written again for
    round: int = 0
    refused: int = 0

    def key(self, realm_id: str) -> str:
        return f"qbo:payment:{self.ref}" + (f":rebook:{self.rebook_of}" if self.rebook_of else "")


@dataclass(frozen=True, slots=True)
class QboVoid(Payload):
    KIND = K.QBO_VOID
    CUSTOMER = "customer_id"
    KEY = "qbo:void:{payment_intent_id}"
    payment_intent_id: str
    dispute_id: str
    balance_txn_id: str
    customer_id: str = key_part()


@dataclass(frozen=True, slots=True)
class QboFee(Payload):
    KIND = K.QBO_FEE
    KEY = "qbo:fee:{balance_txn_id}"
    payment_intent_id: str
    balance_txn_id: str


@dataclass(frozen=True, slots=True)
class QboRefund(Payload):
    KIND = K.QBO_REFUND
    CUSTOMER = "customer_id"
    KEY = "qbo:refund:{refund_id}"
    refund_id: str
    customer_id: str | None = key_part(None)  # unknown while the refund overtook its payment


@dataclass(frozen=True, slots=True)
class QboRefundFailed(Payload):
    KIND = K.QBO_REFUND_FAILED
    CUSTOMER = "customer_id"
    KEY = "qbo:refund_failed:{refund_id}"
    refund_id: str
    customer_id: str | None = key_part(None)


@dataclass(frozen=True, slots=True)
class QboDispute(Payload):
    KIND = K.QBO_DISPUTE
    KEY = "qbo:dispute:{dispute_id}:{balance_txn_id}"
    dispute_id: str
    balance_txn_id: str
    fee_only: bool = False  # an ACH return: the payment is voided, only the fee is booked


@dataclass(frozen=True, slots=True)
class QboPayout(Payload):
    KIND = K.QBO_PAYOUT
    KEY = "qbo:payout:{payout_id}"
    payout_id: str


@dataclass(frozen=True, slots=True)
class CustomerContact(Payload):
    KIND = K.QBO_CUSTOMER_CONTACT
    KEY = "qbo:customer_contact:{realm}:{customer_id}:{fingerprint}"
    customer_id: str
    email: str | None
    phone: str | None
    fingerprint: str = key_part()  # of the change: the same change is the same write


@dataclass(frozen=True, slots=True)
class LinkItem(Json):
    invoice_id: str
    sync_token: str | None = None
    memo: str | None = None


@dataclass(frozen=True, slots=True)
class InvoiceLinks(Payload):
    """A batch of portal-link write-backs; its composition is stored before it is sent."""

    KIND = K.QBO_INVOICE_LINKS
    invoices: tuple[LinkItem, ...] = ()

    @staticmethod
    def key_of(realm_id: str, invoice_ids: Sequence[str]) -> str:
        """Deterministic from the composition: the same invoices make the same batch and requestid."""
        digest = hashlib.sha256(",".join(invoice_ids).encode()).hexdigest()[:20]
        return f"qbo:links:{realm_id}:{digest}"

    def key(self, realm_id: str) -> str:
        return self.key_of(realm_id, [i.invoice_id for i in self.invoices])


@dataclass(frozen=True, slots=True)
class InvoiceLink(Payload):
    KIND = K.QBO_INVOICE_LINK
    KEY = "qbo:link:{realm}:{invoice_id}"
    invoice_id: str


@dataclass(frozen=True, slots=True)
class OfflinePaymentEntry(Payload):
    """A payment a collector recorded (``offline_payments`` row), written as a QBO Payment."""

    KIND = K.QBO_OFFLINE_PAYMENT
    CUSTOMER = "customer_id"
    KEY = "qbo:offline_payment:{realm}:{request_id}"
    request_id: str
    customer_id: str = key_part()


@dataclass(frozen=True, slots=True)
class HoldNote(Payload):
    """The credit-hold line in the QBO customer's Notes, set when a hold is placed (``line``) and
    removed when it is released (None); ``change`` names the hold and which of the two."""

    KIND = K.QBO_HOLD_NOTE
    KEY = "qbo:hold_note:{realm}:{customer_id}:{change}"
    customer_id: str
    line: str | None = None
    change: str = key_part("")  # "placed:<seq>" or "released:<seq>"


# Books planning ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DisputePlan(Payload):
    KIND = K.BOOKS_DISPUTE
    KEY = "stripe:dispute:{dispute_id}:{event_type}"
    dispute_id: str
    event_type: str = key_part()  # each state change of the dispute is planned once


@dataclass(frozen=True, slots=True)
class PayoutFailed(Payload):
    KIND = K.BOOKS_PAYOUT_FAILED
    KEY = "qbo:payout_failed:{payout_id}"
    payout_id: str


# QuickBooks recurring templates ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecurringUpdate(Payload):
    """Pause (make inactive) or cancel (inactive, ending on ``end_date``) a QBO recurring template."""

    KIND = K.QBO_RECURRING_UPDATE
    KEY = "qbo:recurring:{realm}:{template_id}:{action}:{version}"
    template_id: str
    action: str  # a RecurAction value
    end_date: str | None = None  # ISO date a cancel ends the template on
    # The template's SyncToken when the customer asked: a template resumed in QBO and stopped again
    # is a new change, with a new key.
    version: str = key_part("")


# Texts -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TextMessage(Payload):
    """One text to one customer's consented number; ``purpose`` and ``ref`` say what it is for
    (e.g. ``reminder`` and an invoice and step), so the same text is never queued twice."""

    KIND = K.SMS_MESSAGE
    KEY = "sms:{realm}:{purpose}:{ref}"
    customer_id: str
    body: str
    queued_at: str  # ISO 8601 UTC: Twilio is searched from then on a retry (see ports.sms)
    purpose: str = key_part()
    ref: str = key_part()


@dataclass(frozen=True, slots=True)
class Dunning(Payload):
    """A reminder-policy message: the customer's invoices at one step, on one local day. Whether
    it was emailed is part of it; a text for it is queued under the same key as its ref."""

    KIND = K.EMAIL_DUNNING
    KEY = "email:dunning:{realm}:{customer_id}:{day}:{step}"
    customer_id: str
    day: str  # ISO date, the company's local day
    step: int  # days from the due date
    template: str
    invoice_ids: tuple[str, ...]
    to: str | None = None  # None: the step went by text only


@dataclass(frozen=True, slots=True)
class CollectorDigest(Payload):
    """A collector's morning list of their accounts (one per collector and local day)."""

    KIND = K.EMAIL_COLLECTOR_DIGEST
    KEY = "email:collector_digest:{realm}:{collector}:{day}"
    collector: str
    day: str  # ISO date, the company's local day


PAYLOADS: dict[K, type[Payload]] = {
    cls.KIND: cls
    for cls in (
        StripeCheckout,
        ExpireCheckout,
        SetupCheckout,
        DefaultMethod,
        DetachMethod,
        QboPayment,
        QboVoid,
        QboFee,
        QboRefund,
        QboRefundFailed,
        QboDispute,
        QboPayout,
        CustomerContact,
        InvoiceLinks,
        InvoiceLink,
        OfflinePaymentEntry,
        HoldNote,
        DisputePlan,
        PayoutFailed,
        RecurringUpdate,
        TextMessage,
        Dunning,
        CollectorDigest,
    )
}

__all__ = ["PAYLOADS", "Payload", "StoredEffect", "key_part"]
