"""MoneyMovement rows: each Stripe balance transaction with the QBO entries syncd made for it.

``qbo_entries`` maps a role (``payment``, ``fee``, ``refund``, ``reopen``, ``refund_failed``,
``restore``, ``withdrawal``, ``reversal``, ``transfer``, ``void``) to
``"<Entity>:<Id>:<signed amount>"``, the signed amount being what the entry moves in or out of
the clearing account. The audit reads both ways from these rows: every balance transaction has
its entries, and the entries add up to the transaction's net.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import String, cast, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from syncd.domain import BalanceTxn, QboEntryRef
from syncd.store.models import MoneyMovement


@dataclass(frozen=True, slots=True)
class EntryLink:
    """One QBO entry recorded for a movement, with its signed effect on the clearing account."""

    role: str
    entity: str
    qbo_id: str
    clearing: Decimal

    def encode(self) -> str:
        return f"{self.entity}:{self.qbo_id}:{self.clearing}"

    @classmethod
    def decode(cls, role: str, value: str) -> EntryLink:
        entity, qbo_id, amount = value.split(":", 2)
        return cls(role, entity, qbo_id, Decimal(amount))


def link(role: str, entry: QboEntryRef, clearing: Decimal) -> EntryLink:
    return EntryLink(role, entry.entity, entry.qbo_id, clearing)


def entries_of(row: MoneyMovement) -> list[EntryLink]:
    return [EntryLink.decode(role, value) for role, value in sorted((row.qbo_entries or {}).items())]


def record(
    session: Session,
    realm_id: str,
    txn: BalanceTxn,
    *entries: EntryLink,
    payout_id: str | None = None,
) -> MoneyMovement:
    """Create or complete the movement of ``txn``; a role already recorded keeps its first entry
    (a replayed effect never rewrites history)."""
    row = session.get(MoneyMovement, txn.id)
    if row is None:
        row = MoneyMovement(
            id=txn.id,
            company_id=realm_id,
            type=txn.type,
            source_id=txn.source_id,
            amount=txn.amount,
            fee=txn.fee,
            net=txn.net,
            currency=txn.currency.upper(),
            created=txn.created,
            payout_id=payout_id,
            qbo_entries={},
        )
        session.add(row)
    elif payout_id and not row.payout_id:
        row.payout_id = payout_id
    current = dict(row.qbo_entries or {})
    for entry in entries:
        current.setdefault(entry.role, entry.encode())
    row.qbo_entries = current
    flag_modified(row, "qbo_entries")
    return row


def repoint_payment(session: Session, txn_id: str, payment_id: str) -> None:
    """A charge's Payment written again (``syncd entries --rebook`` after the first was deleted in
    QBO) takes the deleted one's place in the charge's movement, or the audit would keep looking
    for the deleted entry and count the new one as extra."""
    row = session.get(MoneyMovement, txn_id)
    if row is None or "payment" not in (row.qbo_entries or {}):
        return  # the fee effect records the movement, with the Payment recorded by then
    current = dict(row.qbo_entries)
    old = EntryLink.decode("payment", current["payment"])
    if old.qbo_id == payment_id:
        return
    current["payment"] = EntryLink("payment", old.entity, payment_id, old.clearing).encode()
    row.qbo_entries = current
    flag_modified(row, "qbo_entries")


def mark_paid_out(session: Session, txn_ids: list[str], payout_id: str) -> None:
    """Note which payout settled each movement (shown by the audit; no money moves here)."""
    for txn_id in txn_ids:
        row = session.get(MoneyMovement, txn_id)
        if row is not None and not row.payout_id:
            row.payout_id = payout_id


REFUND_TYPES = ("refund", "payment_refund", "refund_failure")
_CHANGES = ("reopen", "restore")  # roles that change a Payment syncd wrote earlier


def reductions_by_payment(session: Session, realm_id: str) -> dict[str, Decimal]:
    """Every refund ever taken off a QBO Payment (role ``reopen``), less those put back when the
    refund failed (``restore``), summed per Payment id: what QBO's Payment holds now depends on
    refunds of any period."""
    text = cast(MoneyMovement.qbo_entries, String)
    rows = session.scalars(
        select(MoneyMovement).where(
            MoneyMovement.company_id == realm_id,
            MoneyMovement.type.in_(REFUND_TYPES),
            or_(*(text.like(f'%"{role}"%') for role in _CHANGES)),
        )
    )
    out: dict[str, Decimal] = {}
    for row in rows:
        for entry in entries_of(row):
            if entry.role in _CHANGES:
                out[entry.qbo_id] = out.get(entry.qbo_id, Decimal(0)) + entry.clearing
    return out


def payment_deposit(session: Session, realm_id: str, payment_id: str) -> Decimal | None:
    """What the QBO Payment ``payment_id`` deposited when syncd wrote it (its charge's movement,
    whatever its period), or None when syncd has no such movement."""
    pattern = f'%"Payment:{payment_id}:%'
    for row in session.scalars(
        select(MoneyMovement).where(
            MoneyMovement.company_id == realm_id,
            MoneyMovement.type.in_(("charge", "payment")),
            cast(MoneyMovement.qbo_entries, String).like(pattern),
        )
    ):
        for entry in entries_of(row):
            if entry.role == "payment" and entry.entity == "Payment" and entry.qbo_id == payment_id:
                return entry.clearing
    return None
