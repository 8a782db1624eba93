"""Recurring invoice templates (RecurringTransaction): create, read, query, sparse update, delete, and
the invoices QBO makes from active Automated templates as the clock reaches their NextDate.

Where real QBO is unknown or unmodelled, the simulator chooses, and says so here:
- Only Invoice templates are kept; the row is stored unwrapped and wrapped as ``{"Invoice": …}``
  on the way out (reads, queries, writes), as QBO answers.
- A sparse update replaces each top-level field it names (``RecurringInfo`` whole, schedule and
  all), like every other sparse update here.
- Occurrences are counted from ``StartDate``: MaxOccurrences N makes at most N invoices in all. When
  the schedule is spent, ``NextDate`` is dropped (the template stays, making nothing).
- Invoices are made when a request (or :meth:`Recurrences.run`) finds the company's local date at or
  past NextDate; one run makes every invoice that fell due meanwhile, each dated its own NextDate.
"""

from __future__ import annotations

import calendar
import copy
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from connectors.quickbooks.simulator import shapes
from connectors.quickbooks.simulator.books import Books
from connectors.quickbooks.simulator.store import RealmState
from connectors.quickbooks.simulator.wire import COMPANY_TZ, QboFault, validation

Entity = dict[str, Any]
NAME = "RecurringTransaction"
WRAPPED = "Invoice"
_INTERVALS = ("Daily", "Weekly", "Monthly", "Yearly")
_RECUR_TYPES = ("Automated", "Reminded", "UnScheduled")
_INVOICE_ONLY = ("RecurringInfo", "RecurDataRef", "Id", "SyncToken", "MetaData", "domain", "sparse", "status")


def wrap(row: Entity) -> Entity:
    """A template as QBO answers it: the transaction under its type."""
    return {WRAPPED: row}


def unwrap(body: Any) -> Entity:
    """The transaction a request carries, or a validation fault for any other shape."""
    if not isinstance(body, dict) or len(body) != 1 or not isinstance(body.get(WRAPPED), dict):
        raise validation(
            "A RecurringTransaction request carries exactly one Invoice object",
            code="2010",
            message="Request has invalid or unsupported property",
        )
    return dict(body[WRAPPED])


def _day(value: Any, field: str) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise validation(f"ScheduleInfo.{field} is not a date: {value!r}", code="2040") from exc


def _step(day: date, interval: str, every: int, steps: int, day_of_month: int | None) -> date:
    if interval == "Daily":
        return day + timedelta(days=every * steps)
    if interval == "Weekly":
        return day + timedelta(weeks=every * steps)
    months = every * steps * (12 if interval == "Yearly" else 1)
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    wanted = day_of_month or day.day
    return date(year, month + 1, min(wanted, calendar.monthrange(year, month + 1)[1]))


def check_info(row: Entity) -> None:
    """Validate RecurringInfo as QBO would refuse it (names the field at fault)."""
    info = row.get("RecurringInfo")
    if not isinstance(info, dict):
        raise validation("RecurringInfo is required", code="2020")
    if not info.get("Name"):
        raise validation("RecurringInfo.Name is required", code="2020")
    if info.get("RecurType", "Automated") not in _RECUR_TYPES:
        raise validation(f"RecurringInfo.RecurType {info.get('RecurType')!r} is not supported", code="2010")
    schedule = info.get("ScheduleInfo")
    if not isinstance(schedule, dict):
        raise validation("RecurringInfo.ScheduleInfo is required", code="2020")
    if schedule.get("IntervalType") not in _INTERVALS:
        raise validation(f"ScheduleInfo.IntervalType {schedule.get('IntervalType')!r} is not supported")
    if int(schedule.get("NumInterval") or 1) < 1:
        raise validation("ScheduleInfo.NumInterval must be at least 1", code="2010")
    start = _day(schedule.get("StartDate"), "StartDate")
    for field in ("EndDate", "NextDate", "PreviousDate"):
        if schedule.get(field) is not None:
            _day(schedule[field], field)
    if schedule.get("EndDate") is not None and _day(schedule["EndDate"], "EndDate") < start:
        raise QboFault(400, "6000", "A business validation error has occurred", "EndDate is before StartDate")


class Recurrences:
    """One company's templates, over its books (callers hold ``state.lock``)."""

    def __init__(self, state: RealmState, books: Books, now: Callable[[], datetime]) -> None:
        self.state = state
        self.books = books
        self.now = now

    def create(self, body: Entity) -> Entity:
        row = copy.deepcopy(body)
        for key in ("Id", "SyncToken", "MetaData", "domain", "sparse", "status"):
            row.pop(key, None)
        check_info(row)
        # The invoice a template makes must be valid now: priced on a copy, refused like an invoice.
        probe = {k: v for k, v in copy.deepcopy(row).items() if k not in _INVOICE_ONLY}
        self.books.prepare_invoice(probe)
        row["TotalAmt"] = probe["TotalAmt"]
        row["CurrencyRef"] = probe["CurrencyRef"]
        row["Line"] = probe["Line"]
        schedule = row["RecurringInfo"]["ScheduleInfo"]
        schedule.setdefault("NumInterval", 1)
        schedule.setdefault("NextDate", schedule["StartDate"])
        row["RecurringInfo"].setdefault("RecurType", "Automated")
        row["RecurringInfo"].setdefault("Active", True)
        when = self.now()
        row = {**shapes.header(self.state.allocate_id(), 0, when), **row}
        self.state.table(NAME).put(row, when)
        return row

    def update(self, body: Entity) -> Entity:
        current = self.state.table(NAME).get(str(body.get("Id")))
        if current is not None:
            check_info({**current, **body} if body.get("sparse") is True else body)
        return self.books.update(NAME, body)

    def delete(self, body: Entity) -> Entity:
        return self.books.delete(NAME, body)

    def run(self) -> list[str]:
        """Make every invoice now due from active Automated templates; the new invoices' Ids."""
        today = self.now().astimezone(COMPANY_TZ).date()
        made: list[str] = []
        table = self.state.table(NAME)
        for template_id in list(table.ids()):
            row = table.get(template_id)
            if row is None:
                continue
            made.extend(self._due(row, today))
        return made

    def _due(self, row: Entity, today: date) -> list[str]:
        info = row["RecurringInfo"]
        if not info.get("Active") or info.get("RecurType", "Automated") != "Automated":
            return []
        schedule = dict(info["ScheduleInfo"])
        made: list[str] = []
        while schedule.get("NextDate") and _day(schedule["NextDate"], "NextDate") <= today:
            day = _day(schedule["NextDate"], "NextDate")
            made.append(self._make_invoice(row, day))
            schedule["PreviousDate"] = day.isoformat()
            following = self._following(schedule, day)
            if following is None:
                schedule.pop("NextDate", None)
            else:
                schedule["NextDate"] = following.isoformat()
        if made:
            current = self.state.table(NAME).get(str(row["Id"]))
            assert current is not None
            fields = {**current["RecurringInfo"], "ScheduleInfo": schedule}
            self.books.update(
                NAME,
                {"Id": row["Id"], "SyncToken": current["SyncToken"], "sparse": True, "RecurringInfo": fields},
            )
        return made

    @staticmethod
    def _following(schedule: Entity, day: date) -> date | None:
        start = _day(schedule["StartDate"], "StartDate")
        interval, every = str(schedule["IntervalType"]), int(schedule.get("NumInterval") or 1)
        dom = schedule.get("DayOfMonth")
        index = 0
        while _step(start, interval, every, index, dom) <= day:
            index += 1
        following = _step(start, interval, every, index, dom)
        most = schedule.get("MaxOccurrences")
        if most is not None and index >= int(most):
            return None
        end = schedule.get("EndDate")
        if end is not None and following > _day(end, "EndDate"):
            return None
        return following

    def _make_invoice(self, row: Entity, day: date) -> str:
        body = {k: copy.deepcopy(v) for k, v in row.items() if k not in _INVOICE_ONLY}
        for key in ("TotalAmt", "Balance", "DocNumber", "DueDate", "TxnDate", "LinkedTxn"):
            body.pop(key, None)
        for line in body.get("Line") or []:
            line.pop("Id", None)
        body["TxnDate"] = day.isoformat()
        body["RecurDataRef"] = {"value": str(row["Id"])}
        return str(self.books.create("Invoice", body)["Id"])
