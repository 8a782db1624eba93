"""Texting state: who may be texted at which number, opt-outs, and each text's status.

Contract: every function runs in the caller's transaction. A number's consent is one row per
customer; an opt-out (STOP) is written on every row of that company holding the number, at once,
and a text is only ever sent after ``sendable`` said yes in the sending handler's own read, so a
STOP that committed before that read stops it.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Iterable
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from syncd.ports.sms import TextStatus
from syncd.store.models import CustomerRow, TextNumber, TextRow

CHUNK = 500  # ids per IN (...) read and rows per insert


class ConsentSource(enum.StrEnum):
    """Where a number's consent came from."""

    PORTAL = "portal"  # the customer ticked "text me reminders"
    QBO_MOBILE = "qbo_mobile"  # the company attests consent for QBO's Mobile numbers


def number_of(session: Session, company_id: str, customer_id: str) -> TextNumber | None:
    return session.get(TextNumber, (company_id, customer_id))


def numbers_of(session: Session, company_id: str, customer_ids: Collection[str]) -> dict[str, TextNumber]:
    """``number_of`` for many customers in a few reads (a reminder run texts thousands)."""
    ids = sorted(set(customer_ids))
    found: dict[str, TextNumber] = {}
    for start in range(0, len(ids), CHUNK):
        rows = session.scalars(
            select(TextNumber).where(
                TextNumber.company_id == company_id, TextNumber.customer_id.in_(ids[start : start + CHUNK])
            )
        )
        found.update((row.customer_id, row) for row in rows)
    return found


def known_numbers(session: Session, company_id: str, customer_ids: Collection[str]) -> set[str]:
    """The customers among ``customer_ids`` with a mobile or phone number on their QBO record."""
    ids = sorted(set(customer_ids))
    known: set[str] = set()
    for start in range(0, len(ids), CHUNK):
        rows = session.execute(
            select(CustomerRow.qbo_id, CustomerRow.mobile, CustomerRow.phone).where(
                CustomerRow.company_id == company_id, CustomerRow.qbo_id.in_(ids[start : start + CHUNK])
            )
        )
        known.update(row.qbo_id for row in rows if row.mobile or row.phone)
    return known


def record_queued(
    session: Session, rows: Iterable[tuple[str, str, str]], *, company_id: str, now: datetime
) -> None:
    """The rows of texts just queued (``(key, customer_id, number)``, keys new to the ledger), in
    one statement per chunk: what ``record_text`` writes for a new text with status ``queued``."""
    values = [
        {
            "key": key,
            "company_id": company_id,
            "customer_id": customer_id,
            "number": number,
            "status": TextStatus.QUEUED.value,
            "created_at": now,
            "updated_at": now,
        }
        for key, customer_id, number in rows
    ]
    dialect = session.get_bind().dialect.name
    insert_ = postgresql.insert if dialect == "postgresql" else sqlite.insert
    for start in range(0, len(values), CHUNK):
        # A row outliving its effect (the ledger's cleanup) is left as it was, as record_text would.
        session.execute(
            insert_(TextRow)
            .values(values[start : start + CHUNK])
            .on_conflict_do_nothing(index_elements=["key"])
        )


def consent(
    session: Session,
    *,
    company_id: str,
    customer_id: str,
    number: str,
    source: ConsentSource,
    text: str,
    now: datetime,
    ip: str | None = None,
    user_agent: str | None = None,
) -> TextNumber:
    """Record consent to texts at ``number`` (E.164): a new number or a fresh consent replaces the
    old one and clears an opt-out (the person asked again, by their own act)."""
    row = number_of(session, company_id, customer_id)
    if row is None:
        row = TextNumber(company_id=company_id, customer_id=customer_id)
        session.add(row)
    row.number = number
    row.source = source.value
    row.consent_text = text[:500]
    row.consented_at = now
    row.ip = ip
    row.user_agent = user_agent[:500] if user_agent else None
    row.opted_out_at = None
    row.updated_at = now
    return row


def unattested(session: Session, company_id: str) -> list[CustomerRow]:
    """The company's live customers with a QBO Mobile number and no texting row at all."""
    stmt = (
        select(CustomerRow)
        .outerjoin(
            TextNumber,
            (TextNumber.company_id == CustomerRow.company_id)
            & (TextNumber.customer_id == CustomerRow.qbo_id),
        )
        .where(
            CustomerRow.company_id == company_id,
            CustomerRow.mobile.is_not(None),
            CustomerRow.deleted.is_(False),
            TextNumber.customer_id.is_(None),
        )
    )
    return list(session.scalars(stmt))


def opt_out(session: Session, company_ids: list[str], number: str, now: datetime) -> int:
    """Mark ``number`` opted out in each of ``company_ids`` (a STOP); how many customers it ends."""
    return _mark(session, company_ids, number, opted_out_at=now, now=now)


def opt_in(session: Session, company_ids: list[str], number: str, now: datetime) -> int:
    """Undo an opt-out of ``number`` (a START): texts resume under the consent given before."""
    return _mark(session, company_ids, number, opted_out_at=None, now=now)


def _mark(
    session: Session, company_ids: list[str], number: str, *, opted_out_at: datetime | None, now: datetime
) -> int:
    """Set the opt-out of ``number``'s rows that do not have it yet; how many changed."""
    unchanged = TextNumber.opted_out_at.is_(None) if opted_out_at else TextNumber.opted_out_at.is_not(None)
    result = session.execute(
        update(TextNumber)
        .where(TextNumber.company_id.in_(company_ids), TextNumber.number == number, unchanged)
        .values(opted_out_at=opted_out_at, updated_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def holders(session: Session, company_ids: list[str], number: str) -> list[TextNumber]:
    """The customers of ``company_ids`` texted at ``number``."""
    stmt = select(TextNumber).where(TextNumber.company_id.in_(company_ids), TextNumber.number == number)
    return list(session.scalars(stmt))


def record_text(
    session: Session,
    *,
    key: str,
    company_id: str,
    customer_id: str,
    number: str,
    status: TextStatus,
    now: datetime,
    sid: str | None = None,
    error_code: int | None = None,
) -> TextRow:
    """Write a text's row under its effect key (created on first write); a status never moves
    back (a callback may have told "delivered" before the send's own "queued" is recorded)."""
    row = session.get(TextRow, key)
    if row is None:
        row = TextRow(key=key, company_id=company_id, customer_id=customer_id, created_at=now)
        row.status = status.value
        session.add(row)
    row.number = number or row.number
    if status.rank >= TextStatus.read(row.status).rank:
        row.status = status.value
        row.error_code = error_code if error_code is not None else row.error_code
    row.sid = sid or row.sid
    row.updated_at = now
    return row


def report(
    session: Session, key: str | None, sid: str, status: TextStatus, error_code: int | None, now: datetime
) -> bool:
    """A status callback for the text of effect ``key`` (carried in the signed callback URL;
    else found by Twilio's ``sid``); False when syncd sent no such text."""
    row = session.get(TextRow, key) if key else None
    if row is None:
        row = session.scalars(select(TextRow).where(TextRow.sid == sid)).first()
    if row is None:
        return False
    record_text(
        session,
        key=row.key,
        company_id=row.company_id,
        customer_id=row.customer_id,
        number=row.number,
        status=status,
        now=now,
        sid=sid,
        error_code=error_code,
    )
    return True


def text(session: Session, key: str) -> TextRow | None:
    return session.get(TextRow, key)


def texts_of(session: Session, company_id: str, customer_id: str) -> list[TextRow]:
    """A customer's texts, oldest first."""
    stmt = (
        select(TextRow)
        .where(TextRow.company_id == company_id, TextRow.customer_id == customer_id)
        .order_by(TextRow.created_at, TextRow.key)
    )
    return list(session.scalars(stmt))
