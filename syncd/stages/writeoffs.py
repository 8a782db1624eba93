"""Small-debt write-offs: an account past the last reminder step owing less than the company's
``write_off_below`` overdue (nothing promised, nothing disputed) is proposed once; staff approve or
decline it (``syncd collect writeoff``, or the console's queue), approval re-checking the balance
in the mirror; an approved one is written to QBO once by the effect ``qbo.write_off``: a credit
memo with the company's write-off or bad-debt item, applied to the invoices.

The effect's key names the write-off and derives both QBO requestids, so a crash between QBO's
answer and our commit replays into the entries first created: they appear once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from syncd.catalog.payloads_writeoff import WriteOffBooking, WrittenOffLine
from syncd.context import Context
from syncd.domain.collections import (
    ActivityKind,
    QboWriteOffDraft,
    WriteOffEntry,
    WriteOffStatus,
    WrittenOffInvoice,
)
from syncd.domain.money import to_qbo_cent
from syncd.errors import OpenBalanceError, PermanentError
from syncd.stages.notify import local_now, queue_staff_alert
from syncd.store import collections, effects, mirror
from syncd.store import write_offs as store
from syncd.store.effects import Claimed
from syncd.store.models import CollectionAccount, InvoiceRow, OfflinePayment, WriteOff
from syncd.worker import Done

SYNCD = "syncd"
PROPOSALS = (WriteOffStatus.PROPOSED,)
ENTRY_WORDS = {WriteOffEntry.CREDIT_MEMO: "a credit memo", WriteOffEntry.BAD_DEBT: "bad debt (a credit memo)"}


@dataclass(frozen=True, slots=True)
class WriteOffLine:
    """One write-off as the CLI and the console list it."""

    id: int
    company_id: str
    customer_id: str
    customer_name: str
    amount: Decimal
    currency: str
    status: str
    proposed_at: datetime
    decided_by: str | None
    qbo_id: str | None


def _who(session: Session, realm_id: str, customer_id: str) -> str:
    customer = mirror.get_customer(session, realm_id, customer_id)
    return f"{customer.display_name} (customer {customer_id})" if customer else f"Customer {customer_id}"


# --- proposal (the daily ladder run) ------------------------------------------------------------


def _proposed_before(row: WriteOff | None, account: CollectionAccount, owed: Decimal) -> bool:
    """Whether the customer's latest write-off already answers this account's owing ``owed``."""
    if row is None:
        return False
    if row.status == WriteOffStatus.PROPOSED.value:
        return True  # waiting for staff
    this_round = account.escalated_at is not None and row.proposed_at >= account.escalated_at
    if row.status == WriteOffStatus.APPROVED.value:
        return this_round or row.qbo_id is None  # booked or being booked: the pull will show it paid
    return this_round and row.amount == owed  # declined: not again for the same debt


def propose(
    ctx: Context, session: Session, account: CollectionAccount, *, today: date, now: datetime
) -> WriteOff | None:
    """Propose the account's overdue balance for write-off when it qualifies (past the last step,
    more than nothing and less than ``write_off_below``, no open promise, no disputed invoice) and
    nothing answers it yet; staff are told once. None when it does not qualify."""
    realm_id, customer_id = account.company_id, account.customer_id
    threshold = ctx.settings.company(realm_id).collections.write_off_below
    if threshold <= 0 or account.escalated_at is None:
        return None
    invoices = collections.overdue(session, realm_id, customer_id, today)
    owed = to_qbo_cent(sum((i.balance for i in invoices), Decimal(0)))
    if not invoices or owed <= 0 or owed >= threshold or len({i.currency for i in invoices}) != 1:
        return None
    if collections.open_promise(session, realm_id, customer_id) is not None:
        return None
    disputed = collections.disputed_invoices(session, realm_id)
    if any(i.qbo_id in disputed for i in invoices):
        return None
    if _proposed_before(store.latest(session, realm_id, customer_id), account, owed):
        return None
    currency = invoices[0].currency
    row = WriteOff(
        company_id=realm_id,
        customer_id=customer_id,
        amount=owed,
        currency=currency,
        status=WriteOffStatus.PROPOSED.value,
        proposed_at=now,
    )
    session.add(row)
    session.flush()
    collections.record(
        session,
        realm_id,
        customer_id,
        ActivityKind.WRITE_OFF,
        by=SYNCD,
        now=now,
        body=f"proposed for write-off: {owed} {currency} (write-off {row.id})",
    )
    queue_staff_alert(
        ctx,
        session,
        realm_id,
        f"writeoff:{realm_id}:{row.id}",
        "Small debt proposed for write-off",
        f"{_who(session, realm_id, customer_id)} still owes {owed} {currency} overdue after the final "
        f"notice, less than write_off_below ({threshold}). Approve or decline write-off {row.id} on the "
        f"console's Needs a person page, or run: syncd collect writeoff approve {row.id} --by YOUR_EMAIL",
        now,
    )
    return row


def propose_all(ctx: Context, session: Session, realm_id: str, *, today: date, now: datetime) -> int:
    """``propose`` for every account past the last step; how many were proposed."""
    if ctx.settings.company(realm_id).collections.write_off_below <= 0:
        return 0
    return sum(
        propose(ctx, session, account, today=today, now=now) is not None
        for account in collections.escalated(session, realm_id)
    )


# --- decision (CLI and console) -----------------------------------------------------------------


def listing(
    ctx: Context,
    realm_id: str | None,
    statuses: tuple[WriteOffStatus, ...] | None = (WriteOffStatus.PROPOSED,),
) -> list[WriteOffLine]:
    """Write-offs of one company (None: every company), oldest first; by default the proposals."""
    with ctx.db.transaction() as session:
        out = []
        for row in store.listed(session, realm_id, statuses):
            customer = mirror.get_customer(session, row.company_id, row.customer_id)
            out.append(
                WriteOffLine(
                    row.id,
                    row.company_id,
                    row.customer_id,
                    customer.display_name if customer else "",
                    to_qbo_cent(row.amount),
                    row.currency,
                    row.status,
                    row.proposed_at,
                    row.decided_by,
                    row.qbo_id,
                )
            )
        return out


def _unmirrored_payments(session: Session, realm_id: str, invoices: list[InvoiceRow]) -> bool:
    """Whether a collector recorded a payment on one of ``invoices`` the mirror does not show yet."""
    if not invoices:
        return False
    found = session.scalar(
        select(OfflinePayment.id)
        .where(
            OfflinePayment.company_id == realm_id,
            or_(
                *(
                    (OfflinePayment.invoice_id == i.qbo_id) & (OfflinePayment.recorded_at > i.mirrored_at)
                    for i in invoices
                )
            ),
        )
        .limit(1)
    )
    return found is not None


def decide(ctx: Context, write_off_id: int, *, approve: bool, by: str, realm_id: str | None = None) -> str:
    """Approve (queue the QBO entry) or decline a proposed write-off; the outcome line. Raises
    PermanentError with one line when it cannot be: unknown, decided already, or (approving) the
    customer's overdue balance is no longer what was proposed."""
    by = by.strip().lower()
    if "@" not in by:
        raise PermanentError("--by must be the email of the staff member deciding")
    now = ctx.clock()
    with ctx.db.transaction() as session:
        found = session.get(WriteOff, write_off_id)
        company = found.company_id if found is not None else None
    today = local_now(ctx, company).date() if company is not None else now.date()
    with ctx.db.transaction() as session:
        row = store.locked(session, write_off_id)
        if row is None or (realm_id is not None and row.company_id != realm_id):
            where = f" in company {realm_id}" if realm_id is not None else ""
            raise PermanentError(f"there is no write-off {write_off_id}{where}")
        if row.status != WriteOffStatus.PROPOSED.value:
            raise PermanentError(f"write-off {row.id} was {row.status} already (by {row.decided_by})")
        realm, customer_id = row.company_id, row.customer_id
        who = _who(session, realm, customer_id)
        if not approve:
            row.status, row.decided_by, row.decided_at = WriteOffStatus.DECLINED.value, by, now
            collections.record(
                session,
                realm,
                customer_id,
                ActivityKind.WRITE_OFF,
                by=by,
                now=now,
                body=f"write-off {row.id} of {to_qbo_cent(row.amount)} {row.currency} declined",
            )
            return f"Write-off {row.id} declined: {who} is chased as before."
        return _approve(ctx, session, row, who, by=by, today=today, now=now)


def _approve(
    ctx: Context, session: Session, row: WriteOff, who: str, *, by: str, today: date, now: datetime
) -> str:
    realm, customer_id = row.company_id, row.customer_id
    invoices = collections.overdue(session, realm, customer_id, today)
    owed = to_qbo_cent(sum((i.balance for i in invoices), Decimal(0)))
    amount = to_qbo_cent(row.amount)
    if owed <= 0:
        raise PermanentError(
            f"write-off {row.id} not approved: {who} has paid meanwhile (nothing overdue now); decline it"
        )
    if owed != row.amount or any(i.currency != row.currency for i in invoices):
        raise PermanentError(
            f"write-off {row.id} not approved: {who} owes {owed} {invoices[0].currency} overdue now, not the "
            f"{amount} {row.currency} proposed; decline it (the next daily run proposes what is owed now)"
        )
    if _unmirrored_payments(session, realm, invoices):
        raise PermanentError(
            f"write-off {row.id} not approved: a payment was recorded for {who} that QuickBooks has not "
            "shown yet; try again after the next pull"
        )
    entry, item_id = ctx.settings.company(realm).collections.write_off()
    if not item_id:
        wanted = "bad_debt_item" if entry is WriteOffEntry.BAD_DEBT else "write_off_item"
        raise PermanentError(f"write-off {row.id} not approved: set {wanted} in [company.collections] first")
    row.status, row.decided_by, row.decided_at = WriteOffStatus.APPROVED.value, by, now
    lines = tuple(WrittenOffLine(i.qbo_id, f"{to_qbo_cent(i.balance):f}") for i in invoices)
    booking = WriteOffBooking(row.id, entry.value, item_id, row.currency, lines, customer_id=customer_id)
    effects.enqueue(session, booking, company_id=realm, now=now)
    collections.record(
        session,
        realm,
        customer_id,
        ActivityKind.WRITE_OFF,
        by=by,
        now=now,
        body=f"write-off {row.id} of {amount} {row.currency} approved ({entry.value})",
    )
    ctx.wake("worker", realm)
    return (
        f"Write-off {row.id} approved: {amount} {row.currency} of {who} goes into QuickBooks as "
        f"{ENTRY_WORDS[entry]} applied to {len(lines)} invoice(s)."
    )


# --- booking (the effect) -----------------------------------------------------------------------


def book_write_off(ctx: Context, effect: Claimed) -> Done:
    """Write the credit memo and the Payment applying it to the invoices (see the module doc)."""
    booking = WriteOffBooking.of(effect)
    realm = effect.company_id
    today = local_now(ctx, realm).date()
    with ctx.db.transaction() as session:
        row = session.get(WriteOff, booking.write_off_id)
        if row is None or row.company_id != realm:
            raise PermanentError(f"no write-off {booking.write_off_id} recorded")
        if row.qbo_id is not None:
            return Done(remote_id=row.qbo_id)
        entry = WriteOffEntry(booking.entry)
        invoices = tuple(
            WrittenOffInvoice(line.invoice_id, Decimal(line.amount)) for line in booking.invoices
        )
        draft = QboWriteOffDraft(
            customer_id=row.customer_id,
            currency=booking.currency,
            amount=sum((i.amount for i in invoices), Decimal(0)),
            item_id=booking.item_id,
            txn_date=today,
            invoices=invoices,
            reference=f"WO-{row.id}",
            memo=(
                f"Small debt written off as {'bad debt' if entry is WriteOffEntry.BAD_DEBT else 'a credit'}, "
                f"approved by {row.decided_by} (syncd {effect.key})"
            ),
        )
    try:
        booked = ctx.qbo(realm).write_off(draft, request_id=effect.key)
    except OpenBalanceError as exc:
        numbers = ", ".join(i.invoice_id for i in draft.invoices)
        raise PermanentError(
            f"QBO would not apply write-off {booking.write_off_id} to invoice(s) {numbers}: {exc}. They were "
            "paid or changed meanwhile; its credit memo stays as customer credit: apply or delete it in QBO."
        ) from exc

    def apply(session: Session) -> None:
        row = session.get(WriteOff, booking.write_off_id)
        if row is None:
            return
        row.qbo_id = booked.credit_memo_id
        collections.record(
            session,
            realm,
            row.customer_id,
            ActivityKind.WRITE_OFF,
            by=SYNCD,
            now=ctx.clock(),
            body=f"write-off {row.id} written into QuickBooks: credit memo {booked.credit_memo_id}",
        )

    return Done(remote_id=booked.credit_memo_id, apply=apply)
