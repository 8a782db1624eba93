"""The escalation ladder: an account past the last reminder step goes to a collector (by the
company's rules, or waits for one by hand); promises are judged when their date comes (kept if
paid, else broken and reminders resume); an account still owing ``hold_after_days`` after it went
to a collector, with no open promise, goes on credit hold, and so does a customer whose last
``hold_after_failed_charges`` automatic charges all failed; paying everything overdue (for the
latter: everything open) releases it. A small debt past the last step is proposed for write-off
(``syncd.stages.writeoffs``).

Runs once a cycle per company (``escalate``); every change is recorded on the account's history
and staff are told by an effect in the same transaction.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from syncd.catalog.payloads import HoldNote
from syncd.context import Context
from syncd.domain.autopay import ChargeStatus
from syncd.domain.collections import ActivityKind, PromiseStatus
from syncd.stages import writeoffs
from syncd.stages.notify import local_now, queue_staff_alert
from syncd.store import collections, effects, holds, mirror
from syncd.store.effects import Claimed
from syncd.store.models import AutopayCharge, CollectionAccount, CreditHold
from syncd.worker import Done

SYNCD = "syncd"
RULE = "rule"
HOLD_REASON = "overdue {days} days after going to a collector, no payment or promise"
FAILED_CHARGES = "automatic charges failed"
FAILED_CHARGES_REASON = "{n} " + FAILED_CHARGES + " in a row"
# An automatic charge's outcome: a failure, or what ends a run of failures.
_OUTCOMES = (ChargeStatus.DECLINED.value, ChargeStatus.SUCCEEDED.value, ChargeStatus.PROCESSING.value)


def _who(session: Session, realm_id: str, customer_id: str) -> str:
    customer = mirror.get_customer(session, realm_id, customer_id)
    return f"{customer.display_name} (customer {customer_id})" if customer else f"Customer {customer_id}"


def reached_last_step(
    ctx: Context, session: Session, realm_id: str, customer_id: str, *, today: date, now: datetime
) -> CollectionAccount:
    """The customer was sent the final notice: mark the account escalated and assign it by the
    first matching rule (no rule matching: it waits for ``syncd collect assign``)."""
    account = collections.account(session, realm_id, customer_id)
    if account.escalated_at is None:
        account.escalated_at = now
    if account.collector is None:
        owed_now = collections.overdue(session, realm_id, customer_id, today)
        owed = sum((i.balance for i in owed_now), Decimal(0)) if owed_now else None
        oldest = owed_now[0].due_date if owed_now else None
        days = (today - oldest).days if oldest is not None else 0
        for rule in ctx.settings.company(realm_id).collections.rules():
            if owed is not None and rule.matches(customer_id=customer_id, owed=owed, days_overdue=days):
                assign(session, realm_id, customer_id, rule.to, by=RULE, now=now)
                break
    return account


def assign(
    session: Session, realm_id: str, customer_id: str, collector: str, *, by: str, now: datetime
) -> CollectionAccount:
    """Hand the account to ``collector`` (a staff email), recorded on its history."""
    account = collections.account(session, realm_id, customer_id)
    account.collector = collector.lower()
    account.assigned_at = now
    account.assigned_by = by
    if account.escalated_at is None:
        account.escalated_at = now
    collections.record(
        session, realm_id, customer_id, ActivityKind.ASSIGNED, by=by, now=now, body=f"assigned to {collector}"
    )
    return account


def escalate(ctx: Context, realm_id: str) -> None:
    """Judge promises whose date passed, place and release credit holds."""
    today = local_now(ctx, realm_id).date()
    now = ctx.clock()
    hold_after = ctx.settings.company(realm_id).collections.hold_after_days
    with ctx.db.transaction() as session:
        for promise in collections.promises_due(session, realm_id, today):
            owed = collections.owed(session, realm_id, promise.customer_id, today)
            kept = owed <= max(promise.owed_at_promise - promise.amount, Decimal(0))
            promise.status = (PromiseStatus.KEPT if kept else PromiseStatus.BROKEN).value
            promise.resolved_at = now
            collections.record(
                session,
                realm_id,
                promise.customer_id,
                ActivityKind.PROMISE,
                by=SYNCD,
                now=now,
                body=f"promise of {promise.promised_on.isoformat()} {promise.status}",
            )
            if not kept:
                account = collections.account(session, realm_id, promise.customer_id)
                queue_staff_alert(
                    ctx,
                    session,
                    realm_id,
                    f"promise:{realm_id}:{promise.id}",
                    "Promise to pay broken",
                    f"{_who(session, realm_id, promise.customer_id)} promised to pay {promise.amount} by "
                    f"{promise.promised_on.isoformat()} and still owes {owed} overdue. Reminders resume."
                    + (f" Collector: {account.collector}." if account.collector else ""),
                    now,
                )
        for account in collections.escalated(session, realm_id):
            _hold_or_release(ctx, session, account, hold_after, today=today, now=now)
        for account in _held_off_the_ladder(session, realm_id):
            _hold_or_release(ctx, session, account, 0, today=today, now=now)
        _hold_failed_chargers(ctx, session, realm_id, now=now)
        writeoffs.propose_all(ctx, session, realm_id, today=today, now=now)


def _held_off_the_ladder(session: Session, realm_id: str) -> list[CollectionAccount]:
    """Accounts syncd put on hold for failed automatic charges that are not past the last step."""
    rows = session.scalars(
        select(CollectionAccount).where(
            CollectionAccount.company_id == realm_id,
            CollectionAccount.escalated_at.is_(None),
            CollectionAccount.hold_reason.is_not(None),
        )
    )
    return list(rows)


def failed_in_a_row(session: Session, realm_id: str, customer_id: str) -> int:
    """The customer's latest automatic charges that failed (hard or soft decline) with no success
    between, counting only those since their last credit hold was released."""
    released = session.scalar(
        select(CreditHold.released_at)
        .where(CreditHold.company_id == realm_id, CreditHold.customer_id == customer_id)
        .order_by(CreditHold.seq.desc())
        .limit(1)
    )
    query = select(AutopayCharge.status).where(
        AutopayCharge.company_id == realm_id,
        AutopayCharge.customer_id == customer_id,
        AutopayCharge.status.in_(_OUTCOMES),
    )
    if released is not None:
        query = query.where(AutopayCharge.updated_at > released)
    count = 0
    for status in session.scalars(query.order_by(AutopayCharge.updated_at.desc(), AutopayCharge.key.desc())):
        if status != ChargeStatus.DECLINED.value:
            break
        count += 1
    return count


def _hold_failed_chargers(ctx: Context, session: Session, realm_id: str, *, now: datetime) -> None:
    """Put on credit hold each customer whose last ``hold_after_failed_charges`` automatic charges
    all failed (not on hold already); staff are told, the QBO customer carries the note."""
    limit = ctx.settings.company(realm_id).collections.hold_after_failed_charges
    if limit == 0:
        return
    declined = session.scalars(
        select(AutopayCharge.customer_id)
        .where(AutopayCharge.company_id == realm_id, AutopayCharge.status == ChargeStatus.DECLINED.value)
        .distinct()
    )
    for customer_id in sorted(declined):
        if holds.active(session, realm_id, customer_id) is not None:
            continue
        failed = failed_in_a_row(session, realm_id, customer_id)
        if failed < limit:
            continue
        account = collections.account(session, realm_id, customer_id)
        reason = FAILED_CHARGES_REASON.format(n=failed)
        seq = _place_hold(session, account, reason, releases="everything open", now=now)
        queue_staff_alert(
            ctx,
            session,
            realm_id,
            f"hold:{realm_id}:{customer_id}:{seq}",
            "Customer on credit hold",
            f"The last {failed} automatic charges of {_who(session, realm_id, customer_id)} failed "
            "(hold_after_failed_charges), so syncd put them on credit hold: autopay enrollment is refused "
            "until it is released. Paying every open invoice releases it; or run: "
            f"syncd holds --company {realm_id} --release {customer_id}",
            now,
        )


def _place_hold(
    session: Session, account: CollectionAccount, reason: str, *, releases: str, now: datetime
) -> int:
    """Place the hold syncd decided, with its QBO note and history line; the hold's number."""
    realm_id, customer_id = account.company_id, account.customer_id
    hold = holds.place(
        session, realm_id, customer_id, strikes=holds.strikes(session, realm_id, customer_id), now=now
    )
    account.hold_reason = reason
    line = f"on hold since {now.date().isoformat()}: {reason}; paying {releases} releases it"
    effects.enqueue(
        session, HoldNote(customer_id, line, change=f"placed:{hold.seq}"), company_id=realm_id, now=now
    )
    collections.record(session, realm_id, customer_id, ActivityKind.HOLD, by=SYNCD, now=now, body=reason)
    return hold.seq


def _hold_or_release(
    ctx: Context, session: Session, account: CollectionAccount, hold_after: int, *, today: date, now: datetime
) -> None:
    realm_id, customer_id = account.company_id, account.customer_id
    if FAILED_CHARGES in (account.hold_reason or ""):
        # Automatic charges fail on the due (or invoice) date: the hold lasts while anything is open.
        owed = sum((i.balance for i in collections.open_invoices(session, realm_id, customer_id)), Decimal(0))
    else:
        owed = collections.owed(session, realm_id, customer_id, today)
    active = holds.active(session, realm_id, customer_id)
    if not owed:
        if active is not None and account.hold_reason is not None:
            holds.release(session, realm_id, customer_id, now=now)
            note = HoldNote(customer_id, None, change=f"released:{active.seq}")
            effects.enqueue(session, note, company_id=realm_id, now=now)
            collections.record(
                session, realm_id, customer_id, ActivityKind.HOLD, by=SYNCD, now=now, body="released: paid"
            )
        account.escalated_at = None  # off the ladder until the next final notice
        account.hold_reason = None
        return
    since = account.assigned_at or account.escalated_at
    if (
        hold_after == 0
        or active is not None
        or since is None
        or since + timedelta(days=hold_after) > now
        or collections.open_promise(session, realm_id, customer_id) is not None
    ):
        return
    seq = _place_hold(session, account, HOLD_REASON.format(days=hold_after), releases="all overdue", now=now)
    queue_staff_alert(
        ctx,
        session,
        realm_id,
        f"hold:{realm_id}:{customer_id}:{seq}",
        "Customer on credit hold",
        f"{_who(session, realm_id, customer_id)} still owes {owed} overdue, {hold_after} days after "
        "going to a collector with no payment or promise (hold_after_days), so syncd put them on "
        "credit hold. Paying everything overdue releases it; or run: "
        f"syncd holds --company {realm_id} --release {customer_id}",
        now,
    )


def write_hold_note(ctx: Context, effect: Claimed) -> Done:
    """Set or clear the credit-hold line of the QBO customer's Notes, so the bookkeeper sees it."""
    note = HoldNote.of(effect)
    ref = ctx.qbo(effect.company_id).set_hold_note(note.customer_id, note.line, request_id=effect.key)
    return Done(remote_id=ref.qbo_id)
