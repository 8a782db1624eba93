"""Notify: plan each customer's one message a day (new invoices, due reminders) and send emails.

A customer hears from syncd at most once a company-local day about open invoices: everything due
for them (new invoices, reminder steps reached) goes into one message, an effect keyed
``email:notice:<realm>:<customer>:<local date>``. The links it covers are marked in the same
transaction, so a crash either loses the whole plan (it is made again) or keeps it whole. A new
invoice that is already past reminder steps is sent once as an invoice, and those steps count as
covered, so no reminder follows it in the same cycle. The first pass after a company's first pull
treats what it finds as backlog and follows ``first_sync``.

Every email is an effect; its Message-ID is derived from the key, so a resend after a crash
between the SMTP server's acceptance and our commit carries the same Message-ID and mail clients
collapse it.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from syncd.catalog import EffectKind
from syncd.catalog.payloads_email import InvoiceEmail, Notice, NoticeItem, ReminderEmail, StaffAlert
from syncd.config import CompanySettings, FirstSync
from syncd.context import Context
from syncd.domain import InvoiceStatus
from syncd.mail.message import build_message
from syncd.mail.templates import EmailRenderer
from syncd.stages import views
from syncd.store import collections, effects, mirror, reviews
from syncd.store.effects import Claimed
from syncd.store.models import Company, InvoiceRow, PortalLink
from syncd.worker import Done

log = structlog.get_logger("syncd.notify")

PAYABLE = [InvoiceStatus.OPEN.value, InvoiceStatus.PARTIAL.value]
NOTICE_KIND = EffectKind.EMAIL_NOTICE
_renderers: dict[str, EmailRenderer] = {}


class Reason(enum.StrEnum):
    """Why an invoice is in a customer's message."""

    INVOICE = "invoice"  # not emailed before: its link, as a new invoice
    REMINDER = "reminder"  # a reminder step (days after due) was reached


@dataclass(frozen=True, slots=True)
class Item:
    invoice_id: str
    reason: Reason
    days: int | None  # the reminder step reached, if any

    def stored(self) -> NoticeItem:
        return NoticeItem(self.invoice_id, self.reason.value, self.days)

    @classmethod
    def of(cls, item: NoticeItem) -> Item:
        return cls(item.invoice_id, Reason(item.reason), item.days)


@dataclass
class _Draft:
    """One customer's message being planned, and the links it will mark once queued."""

    to: str
    urgent: bool = False  # a new invoice, or a reminder at the sending hour: send today
    entries: list[tuple[PortalLink, Item]] = field(default_factory=list)


def notify(ctx: Context, realm_id: str) -> int:
    """Queue today's customer messages; returns how many were queued."""
    company = ctx.settings.company(realm_id)
    local = local_now(ctx, realm_id)
    today = local.date()
    at_hour = local.hour >= company.sending_hour
    now = ctx.clock()
    queued = 0
    with ctx.db.transaction() as session:
        row = session.get(Company, realm_id)
        if row is None or row.last_pull_at is None:
            return 0  # nothing mirrored yet: the backlog is not known
        backlog = row.first_sync_at is None
        drafts: dict[str, _Draft] = {}
        candidates = _candidates(session, company, realm_id, today)
        # Staff are deciding about a payment on these: nothing asks the customer to pay them now.
        held = reviews.held_invoices(session, realm_id)
        for link, invoice in candidates:
            if invoice.qbo_id in held:
                continue
            step = _step(company, invoice.due_date, today)
            item, urgent = _item(company, invoice, link, step, backlog=backlog, today=today, at_hour=at_hour)
            if item is None:
                _mark(link, step, now)
                continue
            to = views.recipient(session, invoice)
            if not to:
                _mark(link, step, now)  # nobody to write to, now or later
                continue
            draft = drafts.setdefault(invoice.customer_id, _Draft(to))
            if draft.to.lower() != to.lower():
                continue  # another address of the same customer: a later day
            draft.urgent = draft.urgent or urgent
            draft.entries.append((link, item))
        # With a reminder policy, a customer who had a reminder step today hears nothing more today.
        stepped = collections.messaged_on(session, realm_id, today) if company.collections.policy else set()
        for customer_id, draft in drafts.items():
            if not draft.urgent or customer_id in stepped:
                continue  # only reminders, before the sending hour; or already a message today
            notice = Notice(
                customer_id,
                day=today.isoformat(),
                to=draft.to,
                items=tuple(item.stored() for _, item in draft.entries),
            )
            created = effects.enqueue(session, notice, company_id=realm_id, now=now)
            if not created:
                continue  # this customer had today's message already: the rest waits a day
            for link, item in draft.entries:
                _mark(link, item.days, now)
            queued += 1
        if backlog:
            row.first_sync_at = now
            log.info(
                "notify.first_sync",
                company=realm_id,
                first_sync=company.first_sync.value,
                invoices=sum(1 for link, _ in candidates if link.notified_at == now),
                messages=queued,
            )
    return queued


def _candidates(
    session: Session, company: CompanySettings, realm_id: str, today: date
) -> list[tuple[PortalLink, InvoiceRow]]:
    """Live links of payable invoices not yet emailed, or old enough for a reminder step."""
    wanted: ColumnElement[bool] = PortalLink.notified_at.is_(None)
    if reminder_days(company):
        reminder_due = and_(
            InvoiceRow.due_date <= today - timedelta(days=min(company.reminder_days)),
            or_(PortalLink.reminded_step.is_(None), PortalLink.reminded_step < max(company.reminder_days)),
        )
        wanted = or_(wanted, reminder_due)
    rows = session.execute(
        select(PortalLink, InvoiceRow)
        .join(
            InvoiceRow,
            (InvoiceRow.company_id == PortalLink.company_id) & (InvoiceRow.qbo_id == PortalLink.invoice_id),
        )
        .where(
            PortalLink.company_id == realm_id,
            PortalLink.revoked_at.is_(None),
            InvoiceRow.status.in_(PAYABLE),
            wanted,
        )
        .order_by(InvoiceRow.due_date, InvoiceRow.qbo_id)
    ).all()
    return [(link, invoice) for link, invoice in rows]


def _item(
    company: CompanySettings,
    invoice: InvoiceRow,
    link: PortalLink,
    step: int | None,
    *,
    backlog: bool,
    today: date,
    at_hour: bool,
) -> tuple[Item | None, bool]:
    """What this invoice adds to its customer's message today, and whether it cannot wait for
    the sending hour; None when it adds nothing (its link is then marked as settled)."""
    if link.notified_at is None:
        if backlog and not (
            company.notify_new_invoices and emails_backlog(company.first_sync, invoice.due_date, today)
        ):
            return None, False  # settled silently, reminder steps already passed included
        if company.notify_new_invoices:
            return Item(invoice.qbo_id, Reason.INVOICE, step), True
    if step is not None and (link.reminded_step is None or step > link.reminded_step):
        return Item(invoice.qbo_id, Reason.REMINDER, step), at_hour
    return None, False


def emails_backlog(policy: FirstSync, due: date | None, today: date) -> bool:
    """Whether ``first_sync`` emails a backlog invoice due on ``due``."""
    if policy is FirstSync.EMAIL_OPEN:
        return True
    if policy is FirstSync.EMAIL_NOT_OVERDUE:
        return due is None or due >= today
    return False


def _mark(link: PortalLink, step: int | None, now: datetime) -> None:
    """The invoice is settled up to ``step``: never emailed as new again, no earlier reminder."""
    if link.notified_at is None:
        link.notified_at = now
    if step is not None and (link.reminded_step is None or step > link.reminded_step):
        link.reminded_step = step


def reminder_days(company: CompanySettings) -> tuple[int, ...]:
    """The old single cadence; none when the company's reminder policy (``stages.reminders``) runs."""
    return () if company.collections.policy else company.reminder_days


def _step(company: CompanySettings, due: date | None, today: date) -> int | None:
    if due is None or not reminder_days(company):
        return None
    return _latest_step(company.reminder_days, due, today)


def local_now(ctx: Context, realm_id: str) -> datetime:
    with ctx.db.transaction() as session:
        row = session.get(Company, realm_id)
        tz = ctx.settings.company(realm_id).timezone or (row.timezone if row else None) or "UTC"
    try:
        return ctx.clock().astimezone(ZoneInfo(tz))
    except (KeyError, ValueError):
        return ctx.clock()


def _latest_step(days: tuple[int, ...], due: date, today: date) -> int | None:
    passed = [d for d in days if due + timedelta(days=d) <= today]
    return max(passed) if passed else None


def renderer(ctx: Context) -> EmailRenderer:
    key = str(ctx.settings.template_dir)
    if key not in _renderers:
        _renderers[key] = EmailRenderer(ctx.settings.template_dir)
    return _renderers[key]


def send(ctx: Context, effect: Claimed, kind: str, to: str | None, context: dict[str, Any]) -> Done:
    """Render and send one email under the effect's key (no address: done, nothing sent)."""
    if not to:
        return Done(remote_id="no-address")
    company = ctx.settings.company(effect.company_id)
    rendered = renderer(ctx).render(kind, {"locale": company.locale, **context})
    message = build_message(
        rendered=rendered,
        to=to,
        from_addr=ctx.settings.smtp.from_addr,
        effect_key=effect.key,
        reply_to=company.branding.contact_email,
        message_id_domain=ctx.settings.mail_domain,
    )
    ctx.mailer.send(message)
    return Done(remote_id=message.message_id)


def items_of(payload: Mapping[str, Any]) -> list[Item]:
    """The items of an ``email.notice`` payload."""
    return [Item.of(i) for i in Notice.from_json(payload).items]


def template_for(items: Sequence[Item]) -> str:
    """The email template a customer's message uses: one invoice alone, several combined."""
    if len(items) > 1:
        return "invoices"
    return "reminder" if items and items[0].reason is Reason.REMINDER else "invoice_new"


def send_notice(ctx: Context, effect: Claimed) -> Done:
    """A customer's message of the day: one invoice in its own template, several combined.
    Invoices paid or voided since it was planned are left out; none left, nothing is sent."""
    notice = Notice.of(effect)
    items = [Item.of(i) for i in notice.items]
    to = notice.to or None
    with ctx.db.transaction() as session:
        live: list[tuple[Item, dict[str, Any]]] = []
        for item in items:
            invoice = mirror.get_invoice(session, effect.company_id, item.invoice_id)
            if invoice is not None and invoice.status in PAYABLE:
                live.append((item, views.invoice_email_context(ctx, session, invoice)[1]))
    if not live:
        return Done(remote_id="skipped:not-payable")
    template = template_for([item for item, _ in live])
    if template != "invoices":
        item, context = live[0]
        if item.reason is Reason.REMINDER:
            context["days_overdue"] = item.days or 0
        return send(ctx, effect, template, to, context)
    today = local_now(ctx, effect.company_id).date()
    lines = []
    for item, context in live:
        due = context["due_date"]
        lines.append(
            {
                **{
                    k: context[k]
                    for k in ("invoice_number", "amount_due", "currency", "due_date", "portal_url")
                },
                "new": item.reason is Reason.INVOICE,
                "days_overdue": (today - due).days if due is not None and due < today else 0,
            }
        )
    first = live[0][1]
    context = {
        k: first[k] for k in ("company_name", "brand_color", "logo_url", "contact_email", "contact_phone")
    }
    context.update(customer_name=first["customer_name"], invoices=lines)
    return send(ctx, effect, "invoices", to, context)


def send_invoice_email(ctx: Context, effect: Claimed) -> Done:
    """Per-invoice emails queued before customer messages existed (still pending at upgrade)."""
    payload = InvoiceEmail.of(effect) if effect.kind == EffectKind.EMAIL_INVOICE else ReminderEmail.of(effect)
    invoice_id = payload.invoice_id
    with ctx.db.transaction() as session:
        invoice = mirror.get_invoice(session, effect.company_id, invoice_id)
        if invoice is None or invoice.status not in PAYABLE:
            return Done(remote_id="skipped:not-payable")
        to, context = views.invoice_email_context(ctx, session, invoice)
    if isinstance(payload, ReminderEmail):
        context["days_overdue"] = payload.days
        return send(ctx, effect, "reminder", to, context)
    return send(ctx, effect, "invoice_new", to, context)


def send_staff_alert(ctx: Context, effect: Claimed) -> Done:
    company = ctx.settings.company(effect.company_id)
    if not company.staff_email:
        return Done(remote_id="no-staff-address")
    alert = StaffAlert.of(effect)
    context = {
        "company_name": views.company_name(ctx, effect.company_id),
        "title": alert.title,
        "body": alert.body,
        "link": alert.link,
    }
    return send(ctx, effect, "staff_alert", company.staff_email, context)


def queue_staff_alert(
    ctx: Context, session: Any, realm_id: str, key: str, title: str, body: str, now: datetime
) -> None:
    effects.enqueue(session, StaffAlert(title, body, ident=key), company_id=realm_id, now=now)
