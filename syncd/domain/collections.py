"""Collections: reminder steps and channels, promises to pay, call outcomes, offline payments and
write-offs, as plain values the config, the store and the stages share."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date
from decimal import Decimal


class Channel(enum.StrEnum):
    """How a reminder step reaches the customer."""

    EMAIL = "email"
    SMS = "sms"
    BOTH = "both"

    @property
    def emails(self) -> bool:
        return self is not Channel.SMS

    @property
    def texts(self) -> bool:
        return self is not Channel.EMAIL


@dataclass(frozen=True, slots=True)
class ReminderStep:
    """One step of a reminder policy: ``days`` from the due date (negative: before it)."""

    days: int
    channel: Channel
    template: str

    def spelled(self) -> str:
        return f"{self.days}:{self.channel.value}:{self.template}"


@dataclass(frozen=True, slots=True)
class AssignRule:
    """Hand an overdue account to ``to`` when it owes at least ``min_owed``, is at least
    ``min_days`` overdue, and (when set) is that customer. The first matching rule wins."""

    to: str
    min_owed: Decimal = Decimal(0)
    min_days: int = 0
    customer: str | None = None

    def matches(self, *, customer_id: str, owed: Decimal, days_overdue: int) -> bool:
        if self.customer is not None and self.customer != customer_id:
            return False
        return owed >= self.min_owed and days_overdue >= self.min_days


class ActivityKind(enum.StrEnum):
    """What a collector recorded on an account."""

    NOTE = "note"
    CALL = "call"
    PROMISE = "promise"
    PAYMENT = "payment"
    ASSIGNED = "assigned"
    HOLD = "hold"
    WRITE_OFF = "write_off"


class CallOutcome(enum.StrEnum):
    """How a call to the customer went."""

    REACHED = "reached"
    NO_ANSWER = "no_answer"
    VOICEMAIL = "voicemail"
    WRONG_NUMBER = "wrong_number"
    DISPUTED = "disputed"  # the customer disputes the invoice: reminders stop until staff decide


class PromiseStatus(enum.StrEnum):
    OPEN = "open"  # reminders pause until the promised date
    KEPT = "kept"  # everything promised was paid by then
    BROKEN = "broken"  # not paid by the date: reminders resume, the collector is told


class OfflineMethod(enum.StrEnum):
    """How a payment taken outside Stripe was made (its QBO Payment says so in its memo)."""

    CHECK = "check"
    CASH = "cash"
    OTHER = "other"


class WriteOffStatus(enum.StrEnum):
    PROPOSED = "proposed"  # a small debt past the last step: waiting for staff
    APPROVED = "approved"  # staff said yes: the QBO entry is queued
    DECLINED = "declined"


class WriteOffEntry(enum.StrEnum):
    """The QBO entry an approved write-off becomes (the bookkeeper's choice)."""

    CREDIT_MEMO = "credit_memo"
    BAD_DEBT = "bad_debt"  # a credit memo against the bad-debt item/account the company names


@dataclass(frozen=True, slots=True)
class WrittenOffInvoice:
    """One invoice an approved write-off closes, and the balance written off on it."""

    invoice_id: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class QboWriteOffDraft:
    """A small debt written off in QBO: a CreditMemo for ``amount`` (one line of ``item_id``, the
    company's write-off or bad-debt item), applied to each invoice by a zero-total Payment that links
    the memo and the invoices. ``reference`` becomes the memo's DocNumber, ``memo`` its note."""

    customer_id: str
    currency: str
    amount: Decimal
    item_id: str
    txn_date: date
    invoices: tuple[WrittenOffInvoice, ...]
    reference: str
    memo: str


@dataclass(frozen=True, slots=True)
class QboWriteOffBooked:
    """What QBO holds for a write-off: the CreditMemo, and the Payment applying it (None when QBO
    applied the memo to the invoices on its own, as its "automatically apply credits" setting does)."""

    credit_memo_id: str
    payment_id: str | None


HOLD_NOTE = "[syncd credit hold]"
NOTES_MAX = 4000  # QBO Customer.Notes


def with_hold_note(notes: str, line: str | None) -> str:
    """The customer's QBO Notes with syncd's credit-hold line replaced by ``line`` (None: removed);
    the bookkeeper's own lines are kept as they are."""
    kept = [n for n in notes.splitlines() if not n.startswith(HOLD_NOTE)]
    if line is not None:
        kept.append(f"{HOLD_NOTE} {line}")
    return "\n".join(kept)[-NOTES_MAX:]
