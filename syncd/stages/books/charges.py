"""A charge Stripe took is always booked: its QBO Payment applies what is open in QBO now.

The invoices are re-read from QBO (one query) just before the Payment is written, so a mirror made
stale by a lost or late webhook never decides the allocation. If QBO still refuses a line because
of its invoice (it changed between the read and the write), the invoices are read again and the
write retried; after ``CREDIT_AFTER`` such refusals the whole charge goes in as customer credit,
which no invoice can refuse. What is not applied stays on the Payment as unapplied credit.

Each write after a refusal has its own ``requestid`` (``<key>#<round>``), counted in the effect's
payload and committed before the write: QBO may replay a refusal for a ``requestid`` it saw, and a
replay after a crash must resend exactly the write that may have gone through. A refused request
created nothing, so moving to the next round never duplicates a Payment.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from syncd.catalog import EffectKind
from syncd.catalog.payloads import QboPayment, StoredEffect
from syncd.context import Context
from syncd.domain import Invoice, QboPaymentBooked, QboPaymentDraft, QboPaymentLine
from syncd.errors import OpenBalanceError, PermanentError, SyncdError, ValidationError
from syncd.stages.notify import queue_staff_alert
from syncd.store import effects
from syncd.store.effects import Claimed
from syncd.store.models import CustomerRow, PaymentRow

CREDIT_AFTER = 2  # refusals because of the invoices before the charge goes in as credit only
ROUND = "round"  # QboPayment field: the requestid round of the next write
REFUSED = "refused"  # QboPayment field: how many writes QBO refused because of the invoices


def allocate_open(
    total: Decimal, invoice_ids: Sequence[str], current: Sequence[Invoice]
) -> tuple[tuple[QboPaymentLine, ...], Decimal]:
    """Apply ``total`` to the invoices in the payment's order, each up to what QBO has open on it
    now; returns the lines and what is left over (customer credit)."""
    by_id = {inv.qbo_id: inv for inv in current}
    left = total
    lines = []
    for invoice_id in invoice_ids:
        inv = by_id.get(invoice_id)
        if left <= 0:
            break
        if inv is None or not inv.status.payable or inv.balance <= 0:
            continue
        applied = min(left, inv.balance)
        lines.append(QboPaymentLine(invoice_id=invoice_id, amount=applied))
        left -= applied
    return tuple(lines), left


@dataclass(frozen=True, slots=True)
class Booked:
    """The Payment QBO holds for a charge, and whether the invoices had changed under syncd."""

    payment: QboPaymentBooked
    current: tuple[Invoice, ...]  # the invoices as last read from QBO (empty: not read)
    refused: int = 0  # writes QBO refused because of the invoices before this one

    @property
    def credit(self) -> Decimal:
        return self.payment.unapplied


def book_charge(
    ctx: Context,
    effect: Claimed,
    received: Decimal,
    invoice_ids: Sequence[str],
    draft_for: Callable[[tuple[QboPaymentLine, ...]], QboPaymentDraft],
) -> Booked:
    """Write the charge's Payment against what QBO has open now (see the module docstring).
    Raises what the write raises, except a refusal because of the invoices."""
    qbo = ctx.qbo(effect.company_id)
    while True:
        stored = QboPayment.of(effect)
        round_, refused = stored.round, stored.refused
        current: tuple[Invoice, ...] = ()
        lines: tuple[QboPaymentLine, ...] = ()
        if refused < CREDIT_AFTER:
            current = tuple(qbo.get_invoices(invoice_ids))
            lines, _ = allocate_open(received, invoice_ids, current)
        request_id = effect.key if round_ == 0 else f"{effect.key}#{round_}"
        draft = draft_for(lines)
        # Only the write's own refusal moves to the next round: an earlier try of this round may
        # have timed out after QBO created the Payment, and only this requestid finds it again.
        try:
            return Booked(qbo.book_payment(draft, request_id=request_id), current, refused)
        except OpenBalanceError:
            if not lines:  # nothing was applied: the refusal is not about the invoices
                effects.amend(ctx.db, effect, **{ROUND: round_ + 1})
                raise
            effect = effects.amend(ctx.db, effect, **{ROUND: round_ + 1, REFUSED: refused + 1})
        except SyncdError as exc:
            if _definitive(exc):
                # QBO may keep answering this requestid with the refusal: the next try needs its own.
                effects.amend(ctx.db, effect, **{ROUND: round_ + 1})
            raise


def _definitive(exc: SyncdError) -> bool:
    """QBO refused the request itself, so nothing was created (a timeout or 5xx may hide a write,
    and a malformed answer may follow one)."""
    return isinstance(exc, ValidationError)


def stale(expected: Mapping[str, Decimal], booked: Booked) -> bool:
    """QBO had less open on an invoice than syncd's mirror said (the change had not reached it),
    or refused a write because of the invoices."""
    if booked.refused:
        return True
    now = {inv.qbo_id: inv.balance if inv.status.payable else Decimal(0) for inv in booked.current}
    return any(now.get(i, Decimal(0)) < bal for i, bal in expected.items())


def credit_alert(
    ctx: Context,
    session: Session,
    realm: str,
    intent_id: str,
    received: Decimal,
    currency: str,
    booked: Booked,
    *,
    changed: bool,
) -> None:
    """Tell staff once that part of a charge is customer credit, and why."""
    why = (
        "the invoice(s) it was for had less open in QuickBooks by the time it was booked (lowered, "
        "paid another way or voided while the customer was paying)"
        if changed
        else "it exceeded the open balance of the invoice(s) it was for"
    )
    queue_staff_alert(
        ctx,
        session,
        realm,
        f"credit:{intent_id}",
        "Payment left as customer credit",
        f"Stripe payment {intent_id} of {received} {currency}: {why}. {booked.credit} {currency} is "
        "unapplied credit on the customer in QuickBooks: apply it to another invoice or refund it.",
        ctx.clock(),
    )


@dataclass(frozen=True, slots=True)
class Unbooked:
    """A charge Stripe took whose QBO Payment is held back by an error syncd cannot outwait."""

    key: str
    company_id: str
    amount: Decimal | None
    currency: str | None
    customer: str | None
    since: datetime | None
    error: str | None

    def line(self) -> str:
        amount = f"{self.amount} {self.currency}" if self.amount is not None else "unknown amount"
        since = self.since.strftime("%Y-%m-%d %H:%M UTC") if self.since else "?"
        return (
            f"{self.company_id}  {self.key}  {amount}  customer {self.customer or '?'}  "
            f"not booked since {since}: {self.error}"
        )


def _payment_key(effect: StoredEffect) -> str:
    """The payment a held booking is for ("" when its row has no payload to tell)."""
    try:
        return QboPayment.of(effect).payment_key
    except PermanentError:
        return ""


def unbooked(session: Session, company_id: str | None = None) -> list[Unbooked]:
    """Every held charge booking, with its amount and customer (for status and ``syncd failed``)."""
    out = []
    for effect in effects.held(session, company_id):
        if effect.kind != EffectKind.QBO_PAYMENT:
            continue
        row = session.get(PaymentRow, _payment_key(effect))
        customer = None
        if row is not None:
            name = session.scalar(
                select(CustomerRow.display_name).where(
                    CustomerRow.company_id == row.company_id, CustomerRow.qbo_id == row.customer_id
                )
            )
            customer = f"{name} ({row.customer_id})" if name else row.customer_id
        out.append(
            Unbooked(
                key=effect.key,
                company_id=effect.company_id,
                amount=row.amount if row is not None else None,
                currency=row.currency if row is not None else None,
                customer=customer,
                since=effect.held_at,
                error=effect.last_error,
            )
        )
    return out


def tell_staff_unbooked(ctx: Context, session: Session, effect: Claimed, error: str) -> None:
    """The first time a charge's booking is held: one email naming the charge and the fix."""
    row = session.get(PaymentRow, _payment_key(effect))
    what = f"{row.amount} {row.currency} from customer {row.customer_id}" if row is not None else effect.key
    queue_staff_alert(
        ctx,
        session,
        effect.company_id,
        f"unbooked:{effect.key}",
        "A payment is not in QuickBooks yet",
        f"Stripe took a payment of {what}, but QuickBooks refused its Payment: {error}. syncd keeps "
        "retrying on its own and books it once the cause is fixed; `syncd failed` lists it.",
        ctx.clock(),
    )
