"""Recurring services as QuickBooks schedules them: an invoice template, its schedule, and the dates
it will bill on (QBO RecurringTransaction holding an Invoice)."""

from __future__ import annotations

import calendar
import enum
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal


class Interval(enum.StrEnum):
    """QBO ``ScheduleInfo.IntervalType``."""

    DAILY = "Daily"
    WEEKLY = "Weekly"
    MONTHLY = "Monthly"
    YEARLY = "Yearly"


class RecurKind(enum.StrEnum):
    """A trial has not billed yet and bills first in the future; anything else is a contract."""

    TRIAL = "trial"
    CONTRACT = "contract"


class RecurAction(enum.StrEnum):
    """What a customer may ask of a recurring service.

    PAUSE makes the template inactive in QBO (the bookkeeper can make it active again); CANCEL
    also sets its end date, so QuickBooks shows when and that it ended."""

    PAUSE = "pause"
    CANCEL = "cancel"


def add_interval(
    start: date, interval: Interval, every: int, steps: int, day_of_month: int | None = None
) -> date:
    """``start`` moved by ``steps`` times ``every`` intervals; monthly and yearly dates keep their day
    (``day_of_month`` when given), clamped to the month's last day."""
    if interval is Interval.DAILY:
        return start + timedelta(days=every * steps)
    if interval is Interval.WEEKLY:
        return start + timedelta(weeks=every * steps)
    months = every * steps * (12 if interval is Interval.YEARLY else 1)
    index = start.year * 12 + (start.month - 1) + months
    year, month = divmod(index, 12)
    day = day_of_month or start.day
    return date(year, month + 1, min(day, calendar.monthrange(year, month + 1)[1]))


@dataclass(frozen=True, slots=True)
class Schedule:
    """When a template bills: every ``every`` ``interval``s from ``start``; ``next_date`` is the next
    invoice date, ``previous_date`` the last one made (None: none yet). The template ends on
    ``end_date`` or after ``max_occurrences`` invoices counted from ``start``, whichever is first."""

    interval: Interval
    every: int
    start: date
    next_date: date | None
    previous_date: date | None = None
    end_date: date | None = None
    max_occurrences: int | None = None
    day_of_month: int | None = None

    def occurrence(self, index: int) -> date:
        """The date of invoice number ``index`` (0 is the first, on ``start``)."""
        return add_interval(self.start, self.interval, max(1, self.every), index, self.day_of_month)

    def last_date(self) -> date | None:
        """The date of the last invoice the schedule will make; None when it runs on forever."""
        last: date | None = None
        if self.max_occurrences is not None and self.max_occurrences > 0:
            last = self.occurrence(self.max_occurrences - 1)
        if self.end_date is not None:
            by_end = self._last_on_or_before(self.end_date)
            last = by_end if last is None or (by_end is not None and by_end < last) else last
        return last

    def ends_on(self) -> date | None:
        """When the contract ends: its end date, or the date of its last invoice by the maximum
        count, whichever is first; None when it runs on forever."""
        by_count = self.occurrence(self.max_occurrences - 1) if self.max_occurrences else None
        ends = [d for d in (self.end_date, by_count) if d is not None]
        return min(ends) if ends else None

    def _last_on_or_before(self, day: date) -> date | None:
        if day < self.start:
            return None
        index = 0
        # Daily schedules over years are a few thousand steps at most: cheap, and exact.
        while self.occurrence(index + 1) <= day:
            index += 1
        return self.occurrence(index)

    def upcoming(self, count: int) -> list[date]:
        """The next ``count`` (or fewer) invoice dates, from ``next_date`` on, within the end."""
        if self.next_date is None or count <= 0:
            return []
        last = self.last_date()
        dates: list[date] = []
        index = self._index_of(self.next_date)
        day = self.next_date
        while len(dates) < count and (last is None or day <= last):
            dates.append(day)
            index += 1
            day = self.occurrence(index)
        return dates

    def _index_of(self, day: date) -> int:
        index = 0
        while self.occurrence(index) < day:
            index += 1
        return index


@dataclass(frozen=True, slots=True)
class RecurringTemplate:
    """One recurring invoice template of a QBO company (RecurringTransaction wrapping an Invoice).

    ``automated`` is RecurType Automated (QBO creates the invoices itself); reminded and
    unscheduled templates make nothing on their own."""

    template_id: str
    sync_token: str
    name: str
    customer_id: str
    amount: Decimal
    currency: str
    active: bool
    automated: bool
    schedule: Schedule

    def kind(self, today: date) -> RecurKind:
        """TRIAL while no invoice was made and the first one is still to come."""
        first = self.schedule.next_date
        if self.schedule.previous_date is None and first is not None and first > today:
            return RecurKind.TRIAL
        return RecurKind.CONTRACT

    @property
    def bills(self) -> bool:
        """Whether QuickBooks will make invoices from it on its own."""
        return self.active and self.automated and self.schedule.next_date is not None


@dataclass(frozen=True, slots=True)
class RecurringChange:
    """A change syncd writes to a template: ``active`` False and/or a new ``end_date``."""

    template_id: str
    active: bool | None = None
    end_date: date | None = None
