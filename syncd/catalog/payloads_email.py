"""The typed payloads of the emails syncd sends: payments, sign-in, staff alerts, notices, invoices and
reminders, card requests and expiry, recurring services."""

from __future__ import annotations

from dataclasses import dataclass

from syncd.catalog.jsonable import Json, key_part
from syncd.catalog.kinds import EffectKind as K
from syncd.catalog.payloads import Payload


@dataclass(frozen=True, slots=True)
class PaymentEmail(Payload):
    """A payment's email to the payer; one per payment and kind, keyed by the payment's ref."""

    payment_key: str
    ref: str = key_part()  # the payment intent id (or the payment key without one)


@dataclass(frozen=True, slots=True)
class ReceiptEmail(PaymentEmail):
    KIND = K.EMAIL_RECEIPT
    KEY = "email:receipt:{ref}"


@dataclass(frozen=True, slots=True)
class ProcessingEmail(PaymentEmail):
    KIND = K.EMAIL_PROCESSING
    KEY = "email:processing:{ref}"


@dataclass(frozen=True, slots=True)
class PaymentFailedEmail(PaymentEmail):
    KIND = K.EMAIL_PAYMENT_FAILED
    KEY = "email:payment_failed:{ref}"
    returned: bool = key_part(False)  # a bank debit returned after it succeeded

    def key(self, realm_id: str) -> str:
        return f"email:payment_returned:{self.ref}" if self.returned else Payload.key(self, realm_id)


@dataclass(frozen=True, slots=True)
class SignInEmail(Payload):
    """The link is derived again from the nonce when sent, never stored."""

    KIND = K.EMAIL_SIGN_IN
    KEY = "email:signin:{token_digest}"
    nonce: str
    to: str
    token_digest: str = key_part()


@dataclass(frozen=True, slots=True)
class StaffAlert(Payload):
    KIND = K.EMAIL_STAFF
    KEY = "email:staff:{ident}"
    title: str = "syncd needs attention"
    body: str = ""
    link: str | None = None
    ident: str = key_part("")  # what the alert is about: one email per ident


@dataclass(frozen=True, slots=True)
class NoticeItem(Json):
    invoice_id: str
    reason: str  # syncd.stages.notify.Reason
    days: int | None = None  # the reminder step reached, if any


@dataclass(frozen=True, slots=True)
class Notice(Payload):
    """A customer's message of the day (one per customer and local day)."""

    KIND = K.EMAIL_NOTICE
    KEY = "email:notice:{realm}:{customer_id}:{day}"
    customer_id: str
    day: str = key_part()  # ISO date, the company's local day
    to: str | None = None
    items: tuple[NoticeItem, ...] = ()


@dataclass(frozen=True, slots=True)
class InvoiceEmail(Payload):
    KIND = K.EMAIL_INVOICE
    KEY = "email:invoice:{realm}:{invoice_id}"
    invoice_id: str


@dataclass(frozen=True, slots=True)
class ReminderEmail(Payload):
    KIND = K.EMAIL_REMINDER
    KEY = "email:reminder:{realm}:{invoice_id}:{days}"
    invoice_id: str
    days: int = 0


@dataclass(frozen=True, slots=True)
class CardRequestEmail(Payload):
    KIND = K.EMAIL_CARD_REQUEST
    KEY = "email:{request_key}"
    customer_id: str
    ident: str
    request_key: str = key_part()


@dataclass(frozen=True, slots=True)
class CardExpiryEmail(Payload):
    KIND = K.EMAIL_CARD_EXPIRY
    KEY = "email:card-expiry:{realm}:{payment_method_id}:{expiry}"
    payment_method_id: str
    ident: str
    expiry: str = key_part()  # YYYY-MM of the card


@dataclass(frozen=True, slots=True)
class RecurringEmail(Payload):
    """A customer's email about one recurring service: ``topic`` pause / cancel (confirmation),
    contract_end or trial; ``ident`` makes it once per template and occasion (an end date, a first
    date, an action)."""

    KIND = K.EMAIL_RECURRING
    KEY = "email:recurring:{realm}:{template_id}:{topic}:{ident}"
    template_id: str
    topic: str
    ident: str


EMAIL_PAYLOADS: tuple[type[Payload], ...] = (
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
    RecurringEmail,
)
