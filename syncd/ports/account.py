"""The contract between the customer account pages and the backend that knows sessions and invoices."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from syncd.domain.recurring import RecurAction
from syncd.ports.authorizations import HoldItem
from syncd.ports.plans import PlanItem
from syncd.ports.portal import Branding, Consenting
from syncd.ports.recurring import RecurringItem


class SignIn(enum.Enum):
    """What became of a sign-in link press."""

    OK = "ok"
    INVALID = "invalid"  # unknown, used or expired: one answer for all three
    OTHER_BROWSER = "other_browser"  # valid, but asked for from another browser


class Change(enum.Enum):
    """What became of a payment-method change the customer asked for, told as it is."""

    DONE = "done"
    QUEUED = "queued"  # Stripe did not answer yet: it is retried in the background
    FAILED = "failed"  # Stripe refused it
    NOT_FOUND = "not_found"  # not a method of this account (or a dead session)


@dataclass(frozen=True, slots=True)
class AccountChoice:
    """One customer (at one company) the signed-in person may look at."""

    company_id: str
    customer_id: str
    customer_name: str
    company_name: str


@dataclass(frozen=True, slots=True)
class OpenItem:
    """An invoice with something left to pay; ``payable`` False while money is on its way."""

    invoice_id: str
    doc_number: str
    txn_date: date
    due_date: date | None
    balance: Decimal
    currency: str
    state: str  # open, overdue, partial, processing, paid (not booked yet), review
    payable: bool
    url: str


@dataclass(frozen=True, slots=True)
class PaidItem:
    """A payment made through syncd: ``state`` succeeded, processing or returned."""

    ref: str
    at: datetime
    amount: Decimal
    currency: str
    method: str
    state: str
    invoice_numbers: tuple[str, ...]
    invoice_ids: tuple[str, ...] = ()  # the same invoices' QBO ids, in the same order (their PDFs)


@dataclass(frozen=True, slots=True)
class MethodItem:
    """A card or bank account the customer keeps at Stripe (no card data: brand, last 4, expiry)."""

    method_id: str
    kind: str  # card, us_bank_account
    brand: str | None
    last4: str
    exp_month: int | None
    exp_year: int | None
    bank_name: str | None
    is_default: bool
    changing: bool = False  # a default or removal asked for is still waiting on Stripe


@dataclass(frozen=True, slots=True)
class Document:
    """An invoice's PDF as QuickBooks renders it."""

    doc_number: str
    body: bytes


@dataclass(frozen=True, slots=True)
class AccountView:
    """Everything the account page shows; every string may come from QBO and is escaped."""

    branding: Branding
    customer_name: str
    email: str | None
    phone: str | None
    totals: tuple[tuple[str, Decimal], ...]
    open_items: tuple[OpenItem, ...]
    history: tuple[PaidItem, ...]
    signed_in_as: str | None  # None: opened from an invoice link, for this customer only
    other_accounts: int
    methods: tuple[MethodItem, ...] = ()
    consent_text: str = ""  # shown by "Add a card or bank account", and recorded as shown
    keep_offer: str | None = None  # the "keep this card for next time" text, when offered
    recurring: tuple[RecurringItem, ...] = ()  # recurring services from QuickBooks templates
    autopay: bool = False  # the company offers autopay: the page links to its enrollment
    plans: tuple[PlanItem, ...] = ()  # installment plans over the customer's invoices
    holds: tuple[HoldItem, ...] = ()  # card authorisations placed before a job, newest first


@dataclass(frozen=True, slots=True)
class Receipt:
    """One payment, as its receipt page shows it."""

    branding: Branding
    customer_name: str
    item: PaidItem


class AccountBackend(Protocol):
    """Implemented over the store (``syncd.stages.account``); ``sid`` is the session cookie's
    value. Every method answers None (or False) for a dead session, never another customer's data."""

    def request_link(self, email: str, ip: str, browser: str) -> list[str]:
        """Record a sign-in request; the effect keys to perform once the page has answered (empty
        for an unknown address or over the rate limit: the page answers the same)."""

    def deliver(self, keys: list[str]) -> None:
        """Send the sign-in emails ``keys`` now (after the answer went out)."""

    def link_valid(self, token: str) -> bool:
        """Whether a sign-in link can still be used (the GET does not use it up)."""

    def sign_in_with_link(self, token: str, browser: str | None) -> tuple[SignIn, str | None]:
        """Use the link up and open a session; its new id when OK."""

    def sign_in_with_invoice(self, invoice_token: str) -> str | None:
        """A session for the customer of this invoice link only, or None for a dead link."""

    def choices(self, sid: str) -> list[AccountChoice] | None:
        """The accounts this session may look at."""

    def choose(self, sid: str, company_id: str, customer_id: str) -> bool:
        """Look at this account from now on (False when not one of ``choices``)."""

    def account(self, sid: str) -> AccountView | None:
        """The chosen account; None when the session is dead or has not chosen yet."""

    def passkeys(self, sid: str) -> tuple[str, ...] | None:
        """Ids of the signed-in person's passkeys; None without a person (invoice-link session)."""

    def pay(self, sid: str, invoice_ids: list[str], keep: Consenting | None = None) -> str:
        """Checkout URL paying these open invoices in full, together; PermanentError (meant for
        the payer) when it cannot, TransientError when Stripe is unavailable."""

    def make_default(self, sid: str, method_id: str, request_id: str) -> Change:
        """Make one of the chosen account's methods its default at Stripe."""

    def remove_method(self, sid: str, method_id: str) -> Change:
        """Detach one of the chosen account's methods at Stripe."""

    def add_method(self, sid: str, request_id: str, ip: str | None, user_agent: str | None) -> str | None:
        """Record the consent shown and return a setup-mode Checkout URL for the chosen account
        (None for a dead session); PermanentError / TransientError meant for the customer."""

    def receipt(self, sid: str, ref: str) -> Receipt | None:
        """A receipt of the chosen account's payment ``ref``."""

    def invoice_pdf(self, sid: str, invoice_id: str) -> Document | None:
        """The PDF of one of the chosen account's invoices (open or paid); None when it is not
        the account's, was deleted, or QuickBooks cannot render it now."""

    def update_contact(
        self, sid: str, email: str | None, phone: str | None, texts: Consenting | None = None
    ) -> bool:
        """Write new billing email / phone back to the QBO customer (through the effect ledger).
        With ``texts`` (the "text me reminders" box ticked) consent to texts at ``phone`` is
        recorded with who gave it; a phone that is no real number raises ValidationError (a
        one-line reason) and nothing is written."""

    def recurring_action(self, sid: str, template_id: str, action: RecurAction) -> bool:
        """Pause or cancel one of the chosen account's recurring services (QBO template made
        inactive through the effect ledger, staff told, customer confirmed); False when it is not
        the account's, the company does not allow it, or it is already stopped."""

    def sign_out(self, sid: str, everywhere: bool) -> None:
        """End this session, or every session of the person (or of the customer)."""

    def passkey_options(self, sid: str | None) -> str | None:
        """WebAuthn options JSON: registration for a signed-in person (``sid``), else sign-in."""

    def passkey_register(self, sid: str, credential_json: str) -> bool:
        """Verify and keep a new passkey of the signed-in person."""

    def passkey_sign_in(self, credential_json: str) -> str | None:
        """Verify an assertion; a new session id when it is good."""

    def passkey_remove(self, sid: str, credential_id: str) -> bool:
        """Forget one of the person's passkeys."""
