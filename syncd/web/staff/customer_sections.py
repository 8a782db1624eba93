"""The customer page's sections beyond invoices, payments, methods and messages: autopay (on or
off, method, cap, since when), promises to pay, and the collectors' notes and calls, each read in
one or two queries whatever the customer's history."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from syncd.domain.collections import ActivityKind
from syncd.stages.autopay_mail import describe_method
from syncd.store import autopay
from syncd.store.models import CollectionAccount, CollectionActivity, PaymentPromise, SavedMethodRow

NOTES_SHOWN = 50
PROMISES_SHOWN = 20
# What collectors wrote: notes, and calls with their outcome.
_WRITTEN = (ActivityKind.NOTE.value, ActivityKind.CALL.value)


@dataclass(frozen=True, slots=True)
class AutopayLine:
    """The customer's autopay as staff see it: on, or off since when and why."""

    on: bool
    method: str
    cap: Decimal | None
    since: datetime
    stopped_at: datetime | None
    stop_reason: str | None


def autopay_section(session: Session, realm_id: str, customer_id: str) -> Mapping[str, object]:
    row = autopay.enrollment(session, realm_id, customer_id)
    if row is None:
        return {"autopay": None}
    # The customer's methods are in the session already (the page read them): no query then.
    method = session.get(SavedMethodRow, row.payment_method_id)
    line = AutopayLine(
        on=row.stopped_at is None,
        method=describe_method(method) if method is not None else row.payment_method_id,
        cap=row.cap,
        since=row.enrolled_at,
        stopped_at=row.stopped_at,
        stop_reason=row.stop_reason,
    )
    return {"autopay": line}


def promises_section(session: Session, realm_id: str, customer_id: str) -> Mapping[str, object]:
    rows = session.scalars(
        select(PaymentPromise)
        .where(PaymentPromise.company_id == realm_id, PaymentPromise.customer_id == customer_id)
        .order_by(PaymentPromise.id.desc())
        .limit(PROMISES_SHOWN)
    )
    return {"promises": list(rows)}


def notes_section(session: Session, realm_id: str, customer_id: str) -> Mapping[str, object]:
    account = session.get(CollectionAccount, (realm_id, customer_id))
    rows = session.scalars(
        select(CollectionActivity)
        .where(
            CollectionActivity.company_id == realm_id,
            CollectionActivity.customer_id == customer_id,
            CollectionActivity.kind.in_(_WRITTEN),
        )
        .order_by(CollectionActivity.id.desc())
        .limit(NOTES_SHOWN)
    )
    return {"notes": list(rows), "collector": account.collector if account is not None else None}
