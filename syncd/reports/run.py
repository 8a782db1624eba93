"""One entry to every report by name, with the defaults the CLI and the web page share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from syncd.reports import aging, audits, collections, dso, forecast, health
from syncd.reports.common import Tabular, month_of

NAMES = ("aging", "collections", "dso", "forecast", "health", "audits")


@dataclass(frozen=True, slots=True)
class Ask:
    """What a reader asked: the day the report is as of (the company's today by default), an
    optional first day (each report has its default span) and the grain of collections."""

    as_of: date
    zone: ZoneInfo
    start: date | None = None
    grain: str = "week"

    def since(self, default_days: int) -> date:
        return self.start if self.start is not None else self.as_of - timedelta(days=default_days - 1)


def _months_back(day: date, months: int) -> date:
    first = month_of(day)
    index = first.year * 12 + first.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def build(session: Session, company_id: str, name: str, ask: Ask) -> Tabular:
    """The report ``name``; ValueError for an unknown name or a span that ends before it starts."""
    if ask.start is not None and ask.start > ask.as_of:
        raise ValueError("the first day is after the as-of day")
    if name == "aging":
        return aging.build(session, company_id, as_of=ask.as_of)
    if name == "collections":
        if ask.start is None and ask.grain == "month":
            start = _months_back(ask.as_of, 11)  # twelve calendar months
        else:
            start = ask.since(11 * 7 + 1 + ask.as_of.weekday())  # this week and the eleven before it
        return collections.build(
            session, company_id, start=start, end=ask.as_of, zone=ask.zone, grain=ask.grain
        )
    if name == "dso":
        days = (ask.as_of - ask.start).days + 1 if ask.start is not None else 90
        return dso.build(session, company_id, as_of=ask.as_of, days=days)
    if name == "forecast":
        return forecast.build(session, company_id, as_of=ask.as_of)
    if name == "health":
        days = (ask.as_of - ask.start).days + 1 if ask.start is not None else 30
        return health.build(session, company_id, as_of=ask.as_of, zone=ask.zone, days=days)
    if name == "audits":
        start = ask.start if ask.start is not None else _months_back(ask.as_of, 5)
        return audits.build(session, company_id, start=start, end=ask.as_of)
    raise ValueError(f"unknown report {name!r}; one of {', '.join(NAMES)}")
