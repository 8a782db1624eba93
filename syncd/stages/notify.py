"""Notify: queue new-invoice emails and due reminders, and send every email effect.

An email is an effect keyed ``email:<kind>:...``; its Message-ID is derived from that key, so a
resend after a crash between the SMTP server's acceptance and our commit carries the same
Message-ID and mail clients collapse it.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from syncd.context import Context
from syncd.domain import InvoiceStatus
from syncd.mail.message import build_message
from syncd.mail.templates import EmailRenderer
from syncd.stages import views
from syncd.store import effects, mirror, reviews
from syncd.store.effects import Claimed
from syncd.store.models import Company, InvoiceRow, PortalLink
from syncd.worker import Done, handler

PAYABLE = [InvoiceStatus.OPEN.value, InvoiceStatus.PARTIAL.value]
_renderers: dict[str, EmailRenderer] = {}


def notify(ctx: Context, realm_id: str) -> int:
    """Queue what is due now; returns how many emails were queued."""
    return _new_invoices(ctx, realm_id) + _reminders(ctx, realm_id)


def _new_invoices(ctx: Context, realm_id: str) -> int:
    company = ctx.settings.company(realm_id)
    queued = 0
    now = ctx.clock()
    with ctx.db.transaction() as session:
        rows = session.execute(
            select(PortalLink, InvoiceRow)
            .join(
                InvoiceRow,
                (InvoiceRow.company_id == PortalLink.company_id)
                & (InvoiceRow.qbo_id == PortalLink.invoice_id),
            )
            .where(PortalLink.company_id == realm_id, PortalLink.notified_at.is_(None))
            .limit(5000)
        ).all()
        for link, invoice in rows:
            link.notified_at = now
            if not company.notify_new_invoices or invoice.status not in PAYABLE:
                continue
            queued += effects.enqueue(
                session,
                key=f"email:invoice:{realm_id}:{invoice.qbo_id}",
                kind="email.invoice",
                company_id=realm_id,
                payload={"invoice_id": invoice.qbo_id},
                now=now,
            )
    return queued


def local_now(ctx: Context, realm_id: str) -> datetime:
    with ctx.db.transaction() as session:
        row = session.get(Company, realm_id)
        tz = ctx.settings.company(realm_id).timezone or (row.timezone if row else None) or "UTC"
    try:
        return ctx.clock().astimezone(ZoneInfo(tz))
    except (KeyError, ValueError):
        return ctx.clock()


def _reminders(ctx: Context, realm_id: str) -> int:
    company = ctx.settings.company(realm_id)
    if not company.reminder_days:
        return 0
    local = local_now(ctx, realm_id)
    if local.hour < company.sending_hour:
        return 0
    today = local.date()
    first = min(company.reminder_days)
    queued = 0
    now = ctx.clock()
    with ctx.db.transaction() as session:
        due = session.execute(
            select(InvoiceRow.qbo_id, InvoiceRow.due_date).where(
                InvoiceRow.company_id == realm_id,
                InvoiceRow.status.in_(PAYABLE),
                InvoiceRow.due_date <= today - timedelta(days=first),
            )
        ).all()
        # Staff are deciding about a payment on these: no reminder asks the customer to pay again.
        held = reviews.held_invoices(session, realm_id)
        for invoice_id, due_date in due:
            if due_date is None or invoice_id in held:
                continue
            step = _latest_step(company.reminder_days, due_date, today)
            if step is None:
                continue
            queued += effects.enqueue(
                session,
                key=f"email:reminder:{realm_id}:{invoice_id}:{step}",
                kind="email.reminder",
                company_id=realm_id,
                payload={"invoice_id": invoice_id, "days": step},
                now=now,
            )
    return queued


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
    rendered = renderer(ctx).render(kind, context)
    company = ctx.settings.company(effect.company_id)
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


@handler("email.invoice")
@handler("email.reminder")
def send_invoice_email(ctx: Context, effect: Claimed) -> Done:
    invoice_id = str(effect.payload["invoice_id"])
    with ctx.db.transaction() as session:
        invoice = mirror.get_invoice(session, effect.company_id, invoice_id)
        if invoice is None or invoice.status not in PAYABLE:
            return Done(remote_id="skipped:not-payable")
        to, context = views.invoice_email_context(ctx, session, invoice)
    if effect.kind == "email.reminder":
        context["days_overdue"] = int(effect.payload.get("days", 0))
        return send(ctx, effect, "reminder", to, context)
    return send(ctx, effect, "invoice_new", to, context)


@handler("email.staff")
def send_staff_alert(ctx: Context, effect: Claimed) -> Done:
    company = ctx.settings.company(effect.company_id)
    if not company.staff_email:
        return Done(remote_id="no-staff-address")
    context = {
        "company_name": views.company_name(ctx, effect.company_id),
        "title": str(effect.payload.get("title", "syncd needs attention")),
        "body": str(effect.payload.get("body", "")),
        "link": effect.payload.get("link"),
    }
    return send(ctx, effect, "staff_alert", company.staff_email, context)


def queue_staff_alert(
    ctx: Context, session: Any, realm_id: str, key: str, title: str, body: str, now: datetime
) -> None:
    effects.enqueue(
        session,
        key=f"email:staff:{key}",
        kind="email.staff",
        company_id=realm_id,
        payload={"title": title, "body": body},
        now=now,
    )
