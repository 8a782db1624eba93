"""Recurring schedules as syncd reads them: invoice dates month by month (short months clamp), the
end by date or by count, the next few dates, and when a template is a trial."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from syncd.domain.recurring import Interval, RecurKind, RecurringTemplate, Schedule


def _monthly(start: date, **kw: object) -> Schedule:
    return Schedule(Interval.MONTHLY, 1, start, kw.pop("next_date", start), **kw)  # type: ignore[arg-type]


def test_month_ends_clamp_and_come_back() -> None:
    s = _monthly(date(2026, 1, 31), day_of_month=31)
    assert [s.occurrence(i) for i in range(4)] == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 31),
        date(2026, 4, 30),
    ]
    assert Schedule(Interval.YEARLY, 1, date(2024, 2, 29), None).occurrence(1) == date(2025, 2, 28)
    assert Schedule(Interval.WEEKLY, 2, date(2026, 3, 2), None).occurrence(3) == date(2026, 4, 13)


def test_the_end_is_the_first_of_end_date_and_last_by_count() -> None:
    by_date = _monthly(date(2026, 1, 15), end_date=date(2026, 6, 1))
    assert by_date.ends_on() == date(2026, 6, 1) and by_date.last_date() == date(2026, 5, 15)
    by_count = _monthly(date(2026, 1, 15), max_occurrences=3)
    assert by_count.ends_on() == by_count.last_date() == date(2026, 3, 15)
    both = _monthly(date(2026, 1, 15), max_occurrences=3, end_date=date(2026, 2, 20))
    assert both.ends_on() == date(2026, 2, 20) and both.last_date() == date(2026, 2, 15)
    assert _monthly(date(2026, 1, 15)).ends_on() is None


def test_upcoming_dates_stop_at_the_end() -> None:
    s = _monthly(date(2026, 1, 10), next_date=date(2026, 3, 10), max_occurrences=4)
    assert s.upcoming(3) == [date(2026, 3, 10), date(2026, 4, 10)]
    assert _monthly(date(2026, 1, 10), next_date=None).upcoming(3) == []


def test_a_trial_is_a_template_with_no_invoice_yet_and_its_first_in_the_future() -> None:
    first = date(2026, 5, 1)
    template = RecurringTemplate("7", "0", "Backup", "3", Decimal("9.00"), "USD", True, True, _monthly(first))
    assert template.kind(date(2026, 4, 24)) is RecurKind.TRIAL
    assert template.kind(first) is RecurKind.CONTRACT
    billed = RecurringTemplate(
        "8", "0", "Backup", "3", Decimal("9.00"), "USD", True, True, _monthly(first, previous_date=first)
    )
    assert billed.kind(date(2026, 4, 24)) is RecurKind.CONTRACT
