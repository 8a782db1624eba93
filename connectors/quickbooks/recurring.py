"""Recurring invoice templates (QBO RecurringTransaction): read into syncd's domain type, and the one
change syncd makes to them (make inactive, set the end date) as a sparse update under ``requestid``.

A query row and a read wrap the template under its type (``{"Invoice": {...}}``); only Invoice
templates are syncd's business, the others (bills, journal entries…) are skipped.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator

from connectors.quickbooks import writes
from connectors.quickbooks.errors import QboNotFoundError
from connectors.quickbooks.mapping import Json, _date, _ref, is_deleted, parse_amount, query_rows
from connectors.quickbooks.sdk import SdkCalls
from connectors.quickbooks.updates import retry_stale
from syncd.domain.recurring import Interval, RecurringChange, RecurringTemplate, Schedule
from syncd.errors import PermanentError

ENTITY = "RecurringTransaction"
WRAPPED = "Invoice"
PAGE = 1000


def _int(value: object) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(str(value))
    except ValueError:
        raise PermanentError(f"QBO schedule number malformed: {value!r}") from None


def to_template(row: Json, *, home_currency: str) -> RecurringTemplate:
    """An Invoice template (the object inside the wrapper) as syncd's domain type."""
    info = row.get("RecurringInfo")
    if not isinstance(info, dict) or not isinstance(info.get("ScheduleInfo"), dict):
        raise PermanentError(f"QBO recurring template {row.get('Id')!r} has no RecurringInfo.ScheduleInfo")
    sched = info["ScheduleInfo"]
    try:
        interval = Interval(str(sched.get("IntervalType")))
    except ValueError:
        raise PermanentError(f"QBO recurring interval not supported: {sched.get('IntervalType')!r}") from None
    start = _date(sched.get("StartDate"))
    next_date = _date(sched.get("NextDate"))
    if start is None:
        start = next_date
    if start is None:
        raise PermanentError(f"QBO recurring template {row.get('Id')!r} has no StartDate")
    customer, _ = _ref(row, "CustomerRef")
    if customer is None:
        raise PermanentError(f"QBO recurring template {row.get('Id')!r} has no CustomerRef")
    currency, _ = _ref(row, "CurrencyRef")
    return RecurringTemplate(
        template_id=str(row["Id"]),
        sync_token=str(row.get("SyncToken", "0")),
        name=str(info.get("Name") or ""),
        customer_id=customer,
        amount=parse_amount(row.get("TotalAmt")),
        currency=(currency or home_currency).upper(),
        active=bool(info.get("Active")),
        automated=str(info.get("RecurType") or "Automated") == "Automated",
        schedule=Schedule(
            interval=interval,
            every=_int(sched.get("NumInterval")) or 1,
            start=start,
            next_date=next_date,
            previous_date=_date(sched.get("PreviousDate")),
            end_date=_date(sched.get("EndDate")),
            max_occurrences=_int(sched.get("MaxOccurrences")),
            day_of_month=_int(sched.get("DayOfMonth")),
        ),
    )


def unwrapped(wrapper: object) -> Json | None:
    """The Invoice template a row or read carries; None for another type (or a tombstone)."""
    if not isinstance(wrapper, dict):
        return None
    inner = wrapper.get(WRAPPED)
    return inner if isinstance(inner, dict) and not is_deleted(inner) else None


def read_all(calls: SdkCalls, home_currency: str) -> Iterator[RecurringTemplate]:
    """Every Invoice template, page by page (1000 rows a read)."""
    start = 1
    while True:
        # Integers and a constant name only: nothing to escape.
        answer = calls.query(f"SELECT * FROM {ENTITY} STARTPOSITION {start} MAXRESULTS {PAGE}")  # noqa: S608
        rows = query_rows(answer, ENTITY)
        for wrapper in rows:
            inner = unwrapped(wrapper)
            if inner is not None:
                yield to_template(inner, home_currency=home_currency)
        if len(rows) < PAGE:
            return
        start += PAGE


def _read(calls: SdkCalls, template_id: str) -> Json:
    try:
        answer = calls.get(ENTITY, template_id)
    except QboNotFoundError:
        raise QboNotFoundError(f"QBO recurring template {template_id} does not exist") from None
    inner = unwrapped(answer.get(ENTITY))
    if inner is None:
        raise QboNotFoundError(f"QBO recurring template {template_id} does not exist")
    return inner


def changed_info(current: Json, change: RecurringChange) -> Json | None:
    """The whole RecurringInfo with the change applied (a sparse update replaces it whole); None
    when the template already is as asked."""
    info = copy.deepcopy(current["RecurringInfo"])
    sched = info["ScheduleInfo"]
    changed = False
    if change.active is not None and bool(info.get("Active")) != change.active:
        info["Active"] = change.active
        changed = True
    if change.end_date is not None:
        end = _date(sched.get("EndDate"))
        if end is None or end > change.end_date:
            start = _date(sched.get("StartDate"))
            # QBO refuses an end before the start: a template ended before it began ends on its start.
            sched["EndDate"] = max(change.end_date, start or change.end_date).isoformat()
            changed = True
    return info if changed else None


def update(
    calls: SdkCalls, change: RecurringChange, *, request_id: str, home_currency: str
) -> RecurringTemplate:
    """Apply ``change`` (read, then sparse update with the SyncToken read); a stale SyncToken is
    re-read and retried under a derived requestid, as the other updates do (``retry_stale``)."""

    def attempt(key: str) -> RecurringTemplate:
        current = _read(calls, change.template_id)
        info = changed_info(current, change)
        if info is None:
            return to_template(current, home_currency=home_currency)
        body = {
            WRAPPED: {
                "Id": current["Id"],
                "SyncToken": current.get("SyncToken", "0"),
                "sparse": True,
                "RecurringInfo": info,
            }
        }
        answer = calls.update(ENTITY, body, writes.qbo_request_id(key))
        inner = unwrapped(answer.get(ENTITY))
        if inner is None:
            raise PermanentError("QBO answered a recurring template update without the template")
        return to_template(inner, home_currency=home_currency)

    return retry_stale(request_id, attempt)
