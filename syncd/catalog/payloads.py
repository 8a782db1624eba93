"""The typed payload of every effect kind, and the key and serial group its effect takes.

A payload is a frozen dataclass: its stored fields are the row's JSON ``payload`` (exactly the
dicts earlier releases wrote, so their rows still load); its ``key_part`` fields build the key or
the serial group only and are not stored (the row's key holds them; loaded, they are empty).
Loading is tolerant, which is the versioning rule: unknown keys are ignored, a missing field takes
its default, so a field is only ever added with a default; a changed meaning is a new kind.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, ClassVar, Protocol, Self

from syncd.catalog.kinds import EffectKind as K
from syncd.catalog.kinds import Serial, kind_of
from syncd.errors import PermanentError

_STORED = "stored"


def key_part(default: Any = MISSING) -> Any:
    """A field the key or serial group is built from that the payload does not store."""
    if default is MISSING:
        return field(metadata={_STORED: False})
    return field(default=default, metadata={_STORED: False})


class StoredEffect(Protocol):
    """What a payload is read from: a claimed effect or an effect row."""

    @property
    def kind(self) -> str: ...

    @property
    def payload(self) -> Mapping[str, Any]: ...


def _load(type_: str, value: Any) -> Any:
    if value is None and type_.endswith("| None"):
        return None
    base = type_.removesuffix(" | None")
    if base == "str":
        return str(value)
    if base == "int":
        return int(value)
    if base == "bool":
        return bool(value)
    if base.startswith("tuple["):
        item = _ITEMS[base.removeprefix("tuple[").split(",")[0]]
        return tuple(item.from_json(v) for v in value or ())
    raise TypeError(f"no loader for payload field type {type_!r}")


def _dump(value: Any) -> Any:
    if isinstance(value, tuple):
        return [v.to_json() for v in value]
    return value


@dataclass(frozen=True, slots=True)
class Json:
    """A frozen dataclass read from and written to JSON (tolerantly, see the module docstring)."""

    def to_json(self) -> dict[str, Any]:
        return {f.name: _dump(getattr(self, f.name)) for f in fields(self) if f.metadata.get(_STORED, True)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        values: dict[str, Any] = {}
        for f in fields(cls):
            if not f.metadata.get(_STORED, True):
                values[f.name] = "" if f.default is MISSING else f.default
            elif f.name in data:
                values[f.name] = _load(str(f.type), data[f.name])
            elif f.default is MISSING:
                raise PermanentError(f"{cls.__name__} payload has no {f.name!r}")
        return cls(**values)


@dataclass(frozen=True, slots=True)
class Payload(Json):
    """Base of the payloads; ``KIND`` names the catalog entry each belongs to."""

    KIND: ClassVar[K]

    def key(self, realm_id: str) -> str:
        """The effect's deterministic key (its idempotency key at the remote end)."""
        raise NotImplementedError(type(self).__name__)

    def customer(self) -> str | None:
        """The customer whose serial group the effect joins (kinds with a group only)."""
        return None

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
    payment_key: str

    def key(self, realm_id: str) -> str:
        return f"stripe:checkout:{self.payment_key}"


@dataclass(frozen=True, slots=True)
class ExpireCheckout(Payload):
    KIND = K.STRIPE_EXPIRE_CHECKOUT
    payment_key: str
    session_id: str

    def key(self, realm_id: str) -> str:
        return f"stripe:expire:{self.session_id}"


@dataclass(frozen=True, slots=True)
class SetupCheckout(Payload):
    KIND = K.STRIPE_SETUP_CHECKOUT
    request_key: str
    attempt: str = key_part()  # a new Checkout Session per attempt

    def key(self, realm_id: str) -> str:
        return f"stripe:setup:{self.request_key}:{self.attempt}"


@dataclass(frozen=True, slots=True)
class DefaultMethod(Payload):
    KIND = K.STRIPE_DEFAULT_METHOD
    method_id: str
    stripe_customer_id: str
    qbo_customer_id: str = key_part()
    request_id: str = key_part()  # names one request (a form submission): a replay is the same

    def key(self, realm_id: str) -> str:
        return f"stripe:default-method:{realm_id}:{self.qbo_customer_id}:{self.method_id}:{self.request_id}"

    def customer(self) -> str | None:
        return self.qbo_customer_id


@dataclass(frozen=True, slots=True)
class DetachMethod(Payload):
    KIND = K.STRIPE_DETACH_METHOD
    method_id: str
    qbo_customer_id: str = key_part()

    def key(self, realm_id: str) -> str:
        return f"stripe:detach-method:{self.method_id}"

    def customer(self) -> str | None:
        return self.qbo_customer_id


# QuickBooks --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QboPayment(Payload):
    """A charge's QBO Payment. ``round``/``refused`` are amended by ``books.charges`` as QBO
    refuses writes because of the invoices (committed before the next write)."""

    KIND = K.QBO_PAYMENT
    payment_key: str
    ref: str = key_part()  # the payment intent id (or the payment key without one)
    customer_id: str = key_part()
    rebook_of: str = key_part("")  # the flagged QBO Payment this one is written again for
    round: int = 0
    refused: int = 0

    def key(self, realm_id: str) -> str:
        return f"qbo:payment:{self.ref}" + (f":rebook:{self.rebook_of}" if self.rebook_of else "")

    def customer(self) -> str | None:
        return self.customer_id


@dataclass(frozen=True, slots=True)
class QboVoid(Payload):
    KIND = K.QBO_VOID
    payment_intent_id: str
    dispute_id: str
    balance_txn_id: str
    customer_id: str = key_part()

    def key(self, realm_id: str) -> str:
        return f"qbo:void:{self.payment_intent_id}"

    def customer(self) -> str | None:
        return self.customer_id


@dataclass(frozen=True, slots=True)
class QboFee(Payload):
    KIND = K.QBO_FEE
    payment_intent_id: str
    balance_txn_id: str

    @staticmethod
    def key_of(balance_txn_id: str) -> str:
        return f"qbo:fee:{balance_txn_id}"

    def key(self, realm_id: str) -> str:
        return self.key_of(self.balance_txn_id)


@dataclass(frozen=True, slots=True)
class QboRefund(Payload):
    KIND = K.QBO_REFUND
    refund_id: str
    customer_id: str | None = key_part(None)  # unknown while the refund overtook its payment

    @staticmethod
    def key_of(refund_id: str) -> str:
        return f"qbo:refund:{refund_id}"

    def key(self, realm_id: str) -> str:
        return self.key_of(self.refund_id)

    def customer(self) -> str | None:
        return self.customer_id


@dataclass(frozen=True, slots=True)
class QboRefundFailed(Payload):
    KIND = K.QBO_REFUND_FAILED
    refund_id: str
    customer_id: str | None = key_part(None)

    @staticmethod
    def key_of(refund_id: str) -> str:
        return f"qbo:refund_failed:{refund_id}"

    def key(self, realm_id: str) -> str:
        return self.key_of(self.refund_id)

    def customer(self) -> str | None:
        return self.customer_id


@dataclass(frozen=True, slots=True)
class QboDispute(Payload):
    KIND = K.QBO_DISPUTE
    dispute_id: str
    balance_txn_id: str
    fee_only: bool = False  # an ACH return: the payment is voided, only the fee is booked

    @staticmethod
    def key_of(dispute_id: str, balance_txn_id: str) -> str:
        return f"qbo:dispute:{dispute_id}:{balance_txn_id}"

    def key(self, realm_id: str) -> str:
        return self.key_of(self.dispute_id, self.balance_txn_id)


@dataclass(frozen=True, slots=True)
class QboPayout(Payload):
    KIND = K.QBO_PAYOUT
    payout_id: str

    @staticmethod
    def key_of(payout_id: str) -> str:
        return f"qbo:payout:{payout_id}"

    def key(self, realm_id: str) -> str:
        return self.key_of(self.payout_id)


@dataclass(frozen=True, slots=True)
class CustomerContact(Payload):
    KIND = K.QBO_CUSTOMER_CONTACT
    customer_id: str
    email: str | None
    phone: str | None
    fingerprint: str = key_part()  # of the change: the same change is the same write

    def key(self, realm_id: str) -> str:
        return f"qbo:customer_contact:{realm_id}:{self.customer_id}:{self.fingerprint}"


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
    invoice_id: str

    def key(self, realm_id: str) -> str:
        return f"qbo:link:{realm_id}:{self.invoice_id}"


# Books planning ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DisputePlan(Payload):
    KIND = K.BOOKS_DISPUTE
    dispute_id: str
    event_type: str = key_part()  # each state change of the dispute is planned once

    def key(self, realm_id: str) -> str:
        return f"stripe:dispute:{self.dispute_id}:{self.event_type}"


@dataclass(frozen=True, slots=True)
class PayoutFailed(Payload):
    KIND = K.BOOKS_PAYOUT_FAILED
    payout_id: str

    @staticmethod
    def key_of(payout_id: str) -> str:
        return f"qbo:payout_failed:{payout_id}"

    def key(self, realm_id: str) -> str:
        return self.key_of(self.payout_id)


# Email -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PaymentEmail(Payload):
    """A payment's email to the payer; one per payment and kind, keyed by the payment's ref."""

    payment_key: str
    ref: str = key_part()  # the payment intent id (or the payment key without one)

    def key(self, realm_id: str) -> str:
        return f"{self.KIND.value.replace('.', ':', 1)}:{self.ref}"


@dataclass(frozen=True, slots=True)
class ReceiptEmail(PaymentEmail):
    KIND = K.EMAIL_RECEIPT


@dataclass(frozen=True, slots=True)
class ProcessingEmail(PaymentEmail):
    KIND = K.EMAIL_PROCESSING


@dataclass(frozen=True, slots=True)
class PaymentFailedEmail(PaymentEmail):
    KIND = K.EMAIL_PAYMENT_FAILED
    returned: bool = key_part(False)  # a bank debit returned after it succeeded

    def key(self, realm_id: str) -> str:
        return f"email:payment_returned:{self.ref}" if self.returned else PaymentEmail.key(self, realm_id)


@dataclass(frozen=True, slots=True)
class SignInEmail(Payload):
    """The link is derived again from the nonce when sent, never stored."""

    KIND = K.EMAIL_SIGN_IN
    nonce: str
    to: str
    token_digest: str = key_part()

    def key(self, realm_id: str) -> str:
        return f"email:signin:{self.token_digest}"


@dataclass(frozen=True, slots=True)
class StaffAlert(Payload):
    KIND = K.EMAIL_STAFF
    title: str = "syncd needs attention"
    body: str = ""
    link: str | None = None
    ident: str = key_part("")  # what the alert is about: one email per ident

    def key(self, realm_id: str) -> str:
        return f"email:staff:{self.ident}"


@dataclass(frozen=True, slots=True)
class NoticeItem(Json):
    invoice_id: str
    reason: str  # syncd.stages.notify.Reason
    days: int | None = None  # the reminder step reached, if any


@dataclass(frozen=True, slots=True)
class Notice(Payload):
    """A customer's message of the day (one per customer and local day)."""

    KIND = K.EMAIL_NOTICE
    customer_id: str
    day: str = key_part()  # ISO date, the company's local day
    to: str | None = None
    items: tuple[NoticeItem, ...] = ()

    def key(self, realm_id: str) -> str:
        return f"email:notice:{realm_id}:{self.customer_id}:{self.day}"


@dataclass(frozen=True, slots=True)
class InvoiceEmail(Payload):
    KIND = K.EMAIL_INVOICE
    invoice_id: str

    def key(self, realm_id: str) -> str:
        return f"email:invoice:{realm_id}:{self.invoice_id}"


@dataclass(frozen=True, slots=True)
class ReminderEmail(Payload):
    KIND = K.EMAIL_REMINDER
    invoice_id: str
    days: int = 0

    def key(self, realm_id: str) -> str:
        return f"email:reminder:{realm_id}:{self.invoice_id}:{self.days}"


@dataclass(frozen=True, slots=True)
class CardRequestEmail(Payload):
    KIND = K.EMAIL_CARD_REQUEST
    customer_id: str
    ident: str
    request_key: str = key_part()

    def key(self, realm_id: str) -> str:
        return f"email:{self.request_key}"


@dataclass(frozen=True, slots=True)
class CardExpiryEmail(Payload):
    KIND = K.EMAIL_CARD_EXPIRY
    payment_method_id: str
    ident: str
    expiry: str = key_part()  # YYYY-MM of the card

    def key(self, realm_id: str) -> str:
        return f"email:card-expiry:{realm_id}:{self.payment_method_id}:{self.expiry}"


_ITEMS: dict[str, type[Json]] = {"LinkItem": LinkItem, "NoticeItem": NoticeItem}

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
        DisputePlan,
        PayoutFailed,
        ReceiptEmail,
        ProcessingEmail,
        PaymentFailedEmail,
        SignInEmail,
        StaffAlert,
        Notice,
        InvoiceEmail,
        ReminderEmail,
        CardRequestEmail,
        CardExpiryEmail,
    )
}

__all__ = ["PAYLOADS", "Payload", "Serial", "StoredEffect", "key_part"]
