"""Installment plans: the split of an invoice's balance into a down payment and installments that
sum to it exactly, their dates, and the states of a plan and of each installment."""

from __future__ import annotations

import calendar
import enum
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal

from syncd.domain.money import display_exponent


class Cadence(enum.StrEnum):
    """How far apart the installments fall."""

    WEEK = "week"
    TWO_WEEKS = "2weeks"
    MONTH = "month"


class PlanStatus(enum.StrEnum):
    """ACTIVE (installments are charged or sent) -> CLOSED (the invoice is paid) | SUSPENDED (the
    invoice was changed in QuickBooks: nothing more is charged; staff were told) | CANCELLED (by
    staff)."""

    ACTIVE = "active"
    SUSPENDED = "suspended"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class InstallmentStatus(enum.StrEnum):
    """SCHEDULED (waiting for its day; ``charge_on`` is the next attempt's) -> CHARGING (the Stripe
    effect is queued) | LINK_SENT (no autopay: the customer was emailed a link for the amount) ->
    PAID | PROCESSING (a bank debit settling) | MISSED (declined with no retry left, or the link
    unpaid ``plan_missed_days`` after the date; the customer and staff were told). CANCELLED: the
    plan ended before its day."""

    SCHEDULED = "scheduled"
    CHARGING = "charging"
    LINK_SENT = "link_sent"
    PROCESSING = "processing"
    PAID = "paid"
    MISSED = "missed"
    CANCELLED = "cancelled"

    @property
    def open(self) -> bool:
        """Still owed by the plan (a missed one too: a later payment covers it first)."""
        return self not in (InstallmentStatus.PAID, InstallmentStatus.CANCELLED)


class PlanError(ValueError):
    """A plan that cannot be made as asked; the message says why, in one line."""


def quantum(currency: str) -> Decimal:
    """The smallest amount of ``currency`` a customer is charged in (0.01 for USD, 1 for JPY)."""
    return Decimal(1).scaleb(-display_exponent(currency))


def split(balance: Decimal, down: Decimal, count: int, currency: str) -> list[Decimal]:
    """The down payment then ``count`` installments, each a whole number of the currency's
    smallest unit, summing to ``balance`` exactly: equal parts rounded down, the remainder on the
    last. Raises PlanError for a down payment of zero or of the whole balance or more, a count
    under one, or a balance too small to give every installment something."""
    step = quantum(currency)
    if count < 1:
        raise PlanError("the number of installments must be 1 or more")
    if balance <= 0:
        raise PlanError("the invoice has no open balance")
    if down <= 0:
        raise PlanError("the down payment must be more than zero")
    if down >= balance:
        raise PlanError(f"the down payment must be less than the open balance ({balance:f} {currency})")
    if down != down.quantize(step):
        raise PlanError(f"the down payment has more decimals than {currency} allows")
    rest = balance - down
    part = (rest / count).quantize(step, rounding=ROUND_DOWN)
    if part <= 0:
        raise PlanError(f"{rest:f} {currency} cannot be split into {count} installments")
    return [down, *([part] * (count - 1)), rest - part * (count - 1)]


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or that month's last day when it is shorter."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def due_dates(start: date, every: Cadence, count: int) -> list[date]:
    """The down payment's date (``start``) then each installment's, one ``every`` apart."""
    if every is Cadence.MONTH:
        return [add_months(start, k) for k in range(count + 1)]
    days = 7 if every is Cadence.WEEK else 14
    return [start + timedelta(days=days * k) for k in range(count + 1)]


def covered(amounts: list[Decimal], paid: Decimal) -> int:
    """How many installments, in order, ``paid`` covers in full."""
    total, done = Decimal(0), 0
    for amount in amounts:
        total += amount
        if total > paid:
            break
        done += 1
    return done
