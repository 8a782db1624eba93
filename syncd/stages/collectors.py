"""What a collector records on an account they own: a note, a call and its outcome, a promise to
pay (reminders pause until its date), and handing an account to a collector by hand.

Each is one transaction: the history line and the state it changes are committed together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from syncd.context import Context
from syncd.domain.collections import ActivityKind, CallOutcome
from syncd.errors import PermanentError
from syncd.stages import ladder
from syncd.stages.notify import local_now
from syncd.store import collections, mirror


@dataclass(frozen=True, slots=True)
class Recorded:
    """What was recorded, for the page's confirmation line."""

    customer_id: str
    summary: str


def _customer(ctx: Context, realm_id: str, customer_id: str) -> None:
    with ctx.db.transaction() as session:
        if mirror.get_customer(session, realm_id, customer_id) is None:
            raise PermanentError(f"no customer {customer_id!r} in company {realm_id}")


def note(ctx: Context, realm_id: str, customer_id: str, text: str, *, by: str) -> Recorded:
    """A free-text note on the account."""
    text = text.strip()
    if not text:
        raise PermanentError("the note is empty: write what happened")
    _customer(ctx, realm_id, customer_id)
    with ctx.db.transaction() as session:
        collections.record(
            session, realm_id, customer_id, ActivityKind.NOTE, by=by, now=ctx.clock(), body=text
        )
    return Recorded(customer_id, "note saved")


def call(
    ctx: Context,
    realm_id: str,
    customer_id: str,
    outcome: CallOutcome,
    text: str = "",
    *,
    by: str,
    invoice_id: str | None = None,
) -> Recorded:
    """A call and how it went; ``disputed`` (with the invoice) stops reminders for that invoice."""
    _customer(ctx, realm_id, customer_id)
    now = ctx.clock()
    with ctx.db.transaction() as session:
        if outcome is CallOutcome.DISPUTED:
            if invoice_id is None:
                raise PermanentError("a disputed call names the invoice the customer disputes")
            invoice = mirror.get_invoice(session, realm_id, invoice_id)
            if invoice is None or invoice.customer_id != customer_id:
                raise PermanentError(f"invoice {invoice_id!r} is not this customer's")
            collections.dispute(session, realm_id, invoice_id, by=by, now=now)
        collections.record(
            session,
            realm_id,
            customer_id,
            ActivityKind.CALL,
            by=by,
            now=now,
            body=text.strip(),
            outcome=outcome.value,
            invoice_id=invoice_id,
        )
    return Recorded(customer_id, f"call recorded: {outcome.value.replace('_', ' ')}")


def promise(ctx: Context, realm_id: str, customer_id: str, *, on: date, amount: Decimal, by: str) -> Recorded:
    """A promise to pay ``amount`` by ``on``: reminders pause until then; the day after, it is
    judged kept (paid) or broken (reminders resume, staff told)."""
    today = local_now(ctx, realm_id).date()
    if on < today:
        raise PermanentError(f"the promised date {on.isoformat()} has passed: give a date from today on")
    if amount <= 0:
        raise PermanentError("the promised amount must be more than zero")
    _customer(ctx, realm_id, customer_id)
    now = ctx.clock()
    with ctx.db.transaction() as session:
        collections.promise(session, realm_id, customer_id, on=on, amount=amount, by=by, today=today, now=now)
        collections.record(
            session,
            realm_id,
            customer_id,
            ActivityKind.PROMISE,
            by=by,
            now=now,
            body=f"promised {amount} by {on.isoformat()}",
        )
    return Recorded(customer_id, f"promise recorded: {amount} by {on.isoformat()}")


def assign(ctx: Context, realm_id: str, customer_id: str, collector: str, *, by: str) -> Recorded:
    """Hand the account to ``collector`` by hand (``syncd collect assign``)."""
    if "@" not in collector:
        raise PermanentError(f"{collector!r} is not an email address: name the collector by their email")
    _customer(ctx, realm_id, customer_id)
    with ctx.db.transaction() as session:
        ladder.assign(session, realm_id, customer_id, collector, by=by, now=ctx.clock())
    return Recorded(customer_id, f"assigned to {collector.lower()}")
