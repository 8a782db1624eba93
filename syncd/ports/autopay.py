"""The contract between the autopay pages (enrollment on the account, one-click notice links) and
the backend that knows enrollments and charges. Every string may come from QBO and is escaped."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol

from syncd.ports.portal import Branding

# The authorisation's wording; its version is recorded with the text itself in the consent row.
CONSENT_VERSION = "autopay-1"
CONSENT_TEXT = (
    "I authorise {company} to charge my {method} automatically for each invoice of mine on its "
    "charge date, for the balance then owed{cap}, after an email notice {days} days before each "
    "charge. I can skip a charge or turn autopay off at any time from that email or my account."
)


@dataclass(frozen=True, slots=True)
class Upcoming:
    """One open invoice and the automatic charge it will get, on ``on``."""

    doc_number: str
    amount: Decimal
    currency: str
    on: date
    state: str  # planned (not noticed yet), scheduled (noticed), over_cap


@dataclass(frozen=True, slots=True)
class MethodChoice:
    method_id: str
    label: str  # "Visa ending 4242"
    kind: str


@dataclass(frozen=True, slots=True)
class AutopayView:
    """The enrollment page: what is on file, what would be charged and when, and the terms."""

    branding: Branding
    customer_name: str
    enabled: bool  # the company offers autopay
    methods: tuple[MethodChoice, ...]
    enrolled_method: str | None  # the method's label while autopay is on
    cap: Decimal | None
    upcoming: tuple[Upcoming, ...]
    charge_hour: int
    notice_days: int
    consent_text: str  # as shown; the recorded one names the chosen method and cap
    on_hold: bool = False  # on credit hold: enrollment is refused until it is released


class Enrolled(enum.Enum):
    DONE = "done"
    NOT_OFFERED = "not_offered"  # the company has autopay off
    NOT_FOUND = "not_found"  # not a method of this account, or a dead session
    BAD_CAP = "bad_cap"
    ON_HOLD = "on_hold"  # the customer is on credit hold: no new enrollment until released


@dataclass(frozen=True, slots=True)
class LinkView:
    """What a notice link does, shown before it is done (a GET never acts)."""

    branding: Branding
    purpose: str  # skip, stop
    doc_number: str
    amount: Decimal
    currency: str
    on: date
    state: str  # open, done (acted on before), too_late (charged or cancelled already)


class AutopayBackend(Protocol):
    """Never raises for a wrong or foreign token or session: None / NOT_FOUND instead."""

    def page(self, sid: str) -> AutopayView | None:
        """The enrollment page of the session's customer; None for a dead session."""

    def enroll(
        self, sid: str, method_id: str, cap: Decimal | None, ip: str | None, user_agent: str | None
    ) -> Enrolled:
        """Turn autopay on with the method, recording the exact authorisation text with the time,
        IP and user agent; enrolling again replaces the method or cap (a new consent)."""

    def turn_off(self, sid: str) -> bool:
        """Autopay off for the customer; scheduled charges are cancelled. False: dead session."""

    def link(self, token: str) -> LinkView | None:
        """The notice link's page; None for an unknown or expired token."""

    def use_link(self, token: str) -> LinkView | None:
        """Skip the charge or turn autopay off; using a link twice changes nothing more."""
