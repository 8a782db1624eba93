"""The reminder run: each company's policy steps (before, on and after the due date) by email
and/or text, at most one message a customer a local day.

A step is due for an invoice when the company-local date has reached ``due + days``, the step is
later than the one the invoice last had (``portal_links.reminded_step``), and it was reached no
earlier than the day the invoice was first settled by notify (its invoice email, or the first
sync), so a new invoice is not followed by the steps it had already passed. If several steps were
missed (the daemon was down), only the latest goes. A customer's invoices at their steps make one
message, an ``email.dunning`` effect keyed ``email:dunning:<realm>:<customer>:<day>:<step>``; a
customer who already had a message that day (a new-invoice notice or another step) waits a day.
The links are marked in the same transaction as the effect, so nothing goes twice.

Invoices are skipped by the checks in :data:`SKIPS` (under review, disputed, promised, on
autopay; "in an active plan" joins them there with one line).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from syncd.catalog.payloads import Dunning
from syncd.context import Context
from syncd.domain.collections import ReminderStep
from syncd.formatting import format_money
from syncd.ports.texts import NoTexts, Text, TextQueue
from syncd.stages import ladder, views
from syncd.stages.notify import local_now, send
from syncd.store import autopay, collections, effects, plans, reviews
from syncd.store.effects import Claimed
from syncd.store.models import LINK_OF_INVOICE, Company, CustomerRow, InvoiceRow, PortalLink
from syncd.worker import Done

# One check per reason an invoice gets no reminder; each is built once per run (it may load a set)
# and answers for one invoice.
SkipCheck = Callable[[Session, str, date], Callable[[InvoiceRow], bool]]
NO_TEXTS = NoTexts()
CUSTOMERS_AT_ONCE = 500  # customers planned and queued together (memory stays flat however many)
TEXT_PURPOSE = "reminder"


def _under_review(session: Session, realm_id: str, today: date) -> Callable[[InvoiceRow], bool]:
    held = reviews.held_invoices(session, realm_id)
    return lambda invoice: invoice.qbo_id in held


def _disputed(session: Session, realm_id: str, today: date) -> Callable[[InvoiceRow], bool]:
    disputed = collections.disputed_invoices(session, realm_id)
    return lambda invoice: invoice.qbo_id in disputed


def _promised(session: Session, realm_id: str, today: date) -> Callable[[InvoiceRow], bool]:
    promised = collections.promised_customers(session, realm_id, today)
    return lambda invoice: invoice.customer_id in promised


def _on_autopay(session: Session, realm_id: str, today: date) -> Callable[[InvoiceRow], bool]:
    """Autopay charges them on the due date after its own notice; one whose charge was declined,
    needs the payer or is over the cap is chased like any other."""
    enrolled = {row.customer_id for row in autopay.enrolled(session, realm_id) if row.stopped_at is None}
    chased = autopay.chased_invoices(session, realm_id) if enrolled else set()
    return lambda invoice: invoice.customer_id in enrolled and invoice.qbo_id not in chased


def _in_plan(session: Session, realm_id: str, today: date) -> Callable[[InvoiceRow], bool]:
    """An active installment plan sends its own emails (the installment due, missed)."""
    planned = plans.active_invoices(session, realm_id)
    return lambda invoice: invoice.qbo_id in planned


SKIPS: tuple[SkipCheck, ...] = (_under_review, _disputed, _promised, _on_autopay, _in_plan)


def due_step(
    steps: Sequence[ReminderStep], due: date, today: date, *, since: date, after: int | None
) -> ReminderStep | None:
    """The latest step reached by ``today``, not before ``since`` and later than ``after``."""
    reached = [
        s
        for s in steps
        if since <= due + timedelta(days=s.days) <= today and (after is None or s.days > after)
    ]
    return max(reached, key=lambda s: s.days) if reached else None


@dataclass
class _Plan:
    entries: list[tuple[PortalLink, InvoiceRow, ReminderStep]] = field(default_factory=list)

    def step(self) -> ReminderStep:
        return max((s for _, _, s in self.entries), key=lambda s: s.days)


@dataclass
class _Run:
    """One company's reminder run, planned and queued a chunk of customers at a time (in the
    run's one transaction: all of it is queued, or none)."""

    ctx: Context
    session: Session
    realm_id: str
    texts: TextQueue
    skips: list[Callable[[InvoiceRow], bool]]
    zone: tzinfo | None
    today: date
    now: datetime

    def customers(self, customer_ids: Sequence[str]) -> int:
        """Plan and queue these customers' messages; how many were queued."""
        session, realm_id, today, now = self.session, self.realm_id, self.today, self.now
        steps = self.ctx.settings.company(realm_id).collections.reminder_steps()
        plans: dict[str, _Plan] = {}
        for link, invoice in _candidates(session, realm_id, today, steps, customer_ids):
            if invoice.due_date is None or link.notified_at is None:
                continue  # excluded by the query
            since = link.notified_at.astimezone(self.zone).date()
            step = due_step(steps, invoice.due_date, today, since=since, after=link.reminded_step)
            if step is None or any(skip(invoice) for skip in self.skips):
                continue
            plans.setdefault(invoice.customer_id, _Plan()).entries.append((link, invoice, step))
        if not plans:
            return 0
        emails = _emails(session, realm_id, list(plans))
        last = steps[-1].days
        texting = [customer_id for customer_id, plan in plans.items() if plan.step().channel.texts]
        reached = (
            self.texts.reaching(session, company_id=realm_id, customer_ids=texting) if texting else set()
        )
        queued_texts: list[Text] = []
        queued = 0
        with session.no_autoflush:  # the links are marked once the messages are queued: no flush per row
            payloads = {
                customer_id: _payload(
                    customer_id,
                    plan,
                    plan.entries[0][1].email or emails.get(customer_id),
                    customer_id in reached,
                    today,
                )
                for customer_id, plan in plans.items()
            }
            created = effects.enqueue_many(session, payloads.values(), company_id=realm_id, now=now)
            for customer_id, payload in payloads.items():
                if payload.key(realm_id) not in created:
                    continue  # queued by an earlier run today
                _after(
                    self.ctx,
                    session,
                    realm_id,
                    customer_id,
                    plans[customer_id],
                    payload,
                    queued_texts,
                    customer_id in reached,
                    last,
                    today,
                    now,
                )
                queued += 1
            if queued_texts:  # in the same transaction as their messages, in one batch
                self.texts.queue_texts(session, company_id=realm_id, texts=queued_texts, now=now)
        return queued


def remind(ctx: Context, realm_id: str, texts: TextQueue = NO_TEXTS) -> int:
    """Queue today's reminder-policy messages; returns how many customers get one."""
    company = ctx.settings.company(realm_id)
    policy = company.collections
    if not policy.policy:
        return 0
    local = local_now(ctx, realm_id)
    if local.hour < company.sending_hour or policy.quiet(local.hour):
        return 0
    today = local.date()
    now = ctx.clock()
    steps = policy.reminder_steps()
    queued = 0
    with ctx.db.transaction() as session:
        row = session.get(Company, realm_id)
        if row is None or row.first_sync_at is None:
            return 0  # notify settles the backlog first
        skips = [check(session, realm_id, today) for check in SKIPS]
        messaged = collections.messaged_on(session, realm_id, today)  # one message a day
        waiting = [c for c in _candidate_customers(session, realm_id, today, steps) if c not in messaged]
        run = _Run(ctx, session, realm_id, texts, skips, local.tzinfo, today, now)
        for first in range(0, len(waiting), CUSTOMERS_AT_ONCE):
            queued += run.customers(waiting[first : first + CUSTOMERS_AT_ONCE])
            # Written now, so the chunk's rows can leave memory: a big book's run stays flat.
            session.flush()
    return queued


def _emails(session: Session, realm_id: str, customer_ids: Sequence[str]) -> dict[str, str | None]:
    """The customers' billing emails, read in chunks (an invoice's own email wins over these)."""
    found: dict[str, str | None] = {}
    for start in range(0, len(customer_ids), 500):
        chunk = customer_ids[start : start + 500]
        rows = session.execute(
            select(CustomerRow.qbo_id, CustomerRow.email).where(
                CustomerRow.company_id == realm_id, CustomerRow.qbo_id.in_(chunk)
            )
        )
        found.update({row.qbo_id: row.email for row in rows})
    return found


def _payable_links(realm_id: str, today: date, steps: Sequence[ReminderStep]) -> tuple[Any, ...]:
    """Live, settled links of payable invoices that have reached the first step and not the last."""
    return (
        PortalLink.company_id == realm_id,
        PortalLink.revoked_at.is_(None),
        PortalLink.notified_at.is_not(None),
        InvoiceRow.status.in_(collections.PAYABLE),
        InvoiceRow.due_date <= today - timedelta(days=steps[0].days),
        or_(PortalLink.reminded_step.is_(None), PortalLink.reminded_step < steps[-1].days),
    )


def _candidate_customers(
    session: Session, realm_id: str, today: date, steps: Sequence[ReminderStep]
) -> list[str]:
    """The customers with a candidate invoice, in order (only their ids: the run reads the rest a
    chunk of customers at a time)."""
    rows = session.scalars(
        select(InvoiceRow.customer_id)
        .join(PortalLink, LINK_OF_INVOICE)
        .where(*_payable_links(realm_id, today, steps))
        .distinct()
        .order_by(InvoiceRow.customer_id)
    )
    return list(rows)


def _candidates(
    session: Session, realm_id: str, today: date, steps: Sequence[ReminderStep], customer_ids: Sequence[str]
) -> list[tuple[PortalLink, InvoiceRow]]:
    """These customers' candidate links and invoices (see ``_payable_links``)."""
    rows = session.execute(
        select(PortalLink, InvoiceRow)
        .join(InvoiceRow, LINK_OF_INVOICE)
        .where(*_payable_links(realm_id, today, steps), InvoiceRow.customer_id.in_(customer_ids))
        .order_by(InvoiceRow.customer_id, InvoiceRow.due_date, InvoiceRow.qbo_id)
    ).all()
    return [(link, invoice) for link, invoice in rows]


def _payload(customer_id: str, plan: _Plan, to: str | None, reached: bool, today: date) -> Dunning:
    step = plan.step()
    texting = step.channel.texts and reached
    emailing = step.channel.emails or not texting  # no text reaches them: the step goes by email
    return Dunning(
        customer_id,
        day=today.isoformat(),
        step=step.days,
        template=step.template,
        invoice_ids=tuple(invoice.qbo_id for _, invoice, _ in plan.entries),
        to=to if emailing else None,
    )


def _after(
    ctx: Context,
    session: Session,
    realm_id: str,
    customer_id: str,
    plan: _Plan,
    payload: Dunning,
    texts: list[Text],
    reached: bool,
    last: int,
    today: date,
    now: datetime,
) -> None:
    """What follows a queued message: its text (added to ``texts``, queued together by the
    caller), the links marked, the ladder after the last step."""
    step = plan.step()
    if step.channel.texts and reached:
        body = text_body(ctx, session, realm_id, [invoice for _, invoice, _ in plan.entries], step)
        texts.append(Text(customer_id, TEXT_PURPOSE, payload.key(realm_id), body))
    for link, _, invoice_step in plan.entries:
        link.reminded_step = invoice_step.days
    if step.days == last:
        ladder.reached_last_step(ctx, session, realm_id, customer_id, today=today, now=now)


def text_body(
    ctx: Context, session: Session, realm_id: str, invoices: Sequence[InvoiceRow], step: ReminderStep
) -> str:
    """A short text with the pay link: one invoice's page, or the account page for several."""
    company = ctx.settings.company(realm_id)
    name = views.company_name(ctx, realm_id, session)
    total = sum((i.balance for i in invoices), Decimal(0))
    amount = format_money(total, invoices[0].currency, locale=company.locale)
    url = ctx.links.url(realm_id, invoices[0].qbo_id)
    what = f"invoice {invoices[0].doc_number}" if len(invoices) == 1 else f"{len(invoices)} invoices"
    if len(invoices) > 1:
        url += "/account"
    when = "is due soon" if step.days < 0 else "is due today" if step.days == 0 else "is overdue"
    if step.template == "final_notice":
        when = "is still unpaid (final notice)"
    return f"{name}: {what}, {amount}, {when}. Pay: {url}"


def send_dunning(ctx: Context, effect: Claimed) -> Done:
    """Email one reminder-policy message. Invoices paid or voided since it was planned are left
    out; none left (or the step went by text only), nothing is sent."""
    dunning = Dunning.of(effect)
    if not dunning.to:
        return Done(remote_id="text-only")
    today = date.fromisoformat(dunning.day)
    with ctx.db.transaction() as session:
        # One read for the invoices; the branding and names come from the first one's context.
        invoices = {
            invoice.qbo_id: invoice
            for invoice in session.scalars(
                select(InvoiceRow).where(
                    InvoiceRow.company_id == effect.company_id,
                    InvoiceRow.qbo_id.in_(dunning.invoice_ids),
                    InvoiceRow.status.in_(collections.PAYABLE),
                )
            )
        }
        live = [invoices[i] for i in dunning.invoice_ids if i in invoices]
        first = views.invoice_email_context(ctx, session, live[0])[1] if live else None
        lines: list[dict[str, Any]] = [
            {
                "invoice_number": invoice.doc_number,
                "amount_due": invoice.balance,
                "currency": invoice.currency,
                "due_date": invoice.due_date,
                "portal_url": ctx.links.url(effect.company_id, invoice.qbo_id),
                "days_overdue": (today - invoice.due_date).days
                if invoice.due_date and invoice.due_date < today
                else 0,
            }
            for invoice in live
        ]
    if first is None:
        return Done(remote_id="skipped:not-payable")
    context = {
        k: first[k]
        for k in (
            "company_name",
            "brand_color",
            "logo_url",
            "contact_email",
            "contact_phone",
            "customer_name",
        )
    }
    context["invoices"] = lines
    return send(ctx, effect, dunning.template, dunning.to, context)
