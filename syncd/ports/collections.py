"""The seam between the collector pages and the collections stages: what a page shows of an
overdue account, and what it may record on one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from syncd.domain.collections import CallOutcome, OfflineMethod


@dataclass(frozen=True, slots=True)
class AccountLine:
    """One account in a collector's list."""

    customer_id: str
    name: str
    owed: Decimal  # overdue today
    currency: str
    days_overdue: int  # of the oldest overdue invoice
    collector: str | None
    promise: str | None  # "120.00 by 2026-11-20" while one is open
    on_hold: bool


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    invoice_id: str
    number: str
    balance: Decimal
    currency: str
    due_date: date | None
    days_overdue: int


@dataclass(frozen=True, slots=True)
class HistoryLine:
    at: datetime
    what: str  # "note", "call (no answer)", "reminder: final_notice", "payment"
    by: str
    body: str


@dataclass(frozen=True, slots=True)
class AccountDetail:
    line: AccountLine
    email: str | None
    phone: str | None
    locale: str
    invoices: tuple[InvoiceLine, ...]
    history: tuple[HistoryLine, ...]  # newest first: what collectors recorded and reminders sent


class CollectionsDesk(Protocol):
    """What the collector pages read and record for one company. Reads raise nothing for an
    unknown customer (None); records raise PermanentError with a one-line message for the
    collector (wrong amount, date passed, not this customer's invoice) and write nothing then."""

    def accounts(self, company_id: str, collector: str | None) -> list[AccountLine]:
        """Accounts past the last reminder step: ``collector``'s, or all of them (None)."""

    def account(self, company_id: str, customer_id: str) -> AccountDetail | None: ...

    def note(self, company_id: str, customer_id: str, text: str, *, by: str) -> str:
        """Record a note; returns the confirmation line."""

    def call(
        self,
        company_id: str,
        customer_id: str,
        outcome: CallOutcome,
        text: str,
        *,
        by: str,
        invoice_id: str | None,
    ) -> str: ...

    def promise(self, company_id: str, customer_id: str, *, on: date, amount: Decimal, by: str) -> str: ...

    def payment(
        self,
        company_id: str,
        customer_id: str,
        invoice_id: str,
        *,
        method: OfflineMethod,
        amount: Decimal,
        reference: str,
        by: str,
        request_id: str,
    ) -> str:
        """Record a check/cash taken (once per ``request_id``) and queue its QBO Payment."""
