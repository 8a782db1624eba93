"""``syncd preview``: the emails the next cycle would send, found by rehearsing it.

The cycle runs as usual (pull from QuickBooks, publish links, plan customer messages) against a
:class:`~syncd.store.rehearsal.Rehearsal` of the store, whose writes are all rolled back; the
effect worker never runs, so nothing is sent and QuickBooks is only read. The QBO connection is
opened first through the real store, so a refresh token rotated on the way is kept.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from syncd.catalog import EffectKind
from syncd.catalog.payloads import Dunning
from syncd.companies import ensure_companies
from syncd.context import Context
from syncd.ports.email import EmailMessage
from syncd.stages.notify import NOTICE_KIND, Reason, items_of, local_now, notify, template_for
from syncd.stages.publish import publish
from syncd.stages.pull import pull
from syncd.stages.reminders import remind
from syncd.store.effects import EffectStatus
from syncd.store.models import LINK_OF_INVOICE, Company, Effect, InvoiceRow, PortalLink
from syncd.store.rehearsal import Rehearsal


class _NoMail:
    """The rehearsal's mailer: a stage that tried to send inline would be a bug, not a preview."""

    def send(self, message: EmailMessage) -> None:
        raise AssertionError(f"preview must not send email (to {message.to})")


@dataclass(frozen=True, slots=True)
class PlannedInvoice:
    doc_number: str
    reason: str  # "invoice" (its link, as new) or "reminder"
    days: int | None  # the reminder step reached, if any

    def describe(self) -> str:
        if self.reason == Reason.REMINDER.value:
            return f"{self.doc_number} (reminder, {self.days} days after due)"
        return self.doc_number


@dataclass(frozen=True, slots=True)
class PlannedEmail:
    to: str
    template: str
    key: str
    invoices: tuple[PlannedInvoice, ...] = ()
    queued_before: bool = False  # already waiting in the ledger before this preview


@dataclass(frozen=True, slots=True)
class CompanyPreview:
    realm_id: str
    name: str
    first_sync: bool  # the next cycle is the company's first: its open invoices are the backlog
    policy: str
    open_invoices: int
    new_links: int
    emails: tuple[PlannedEmail, ...]

    def as_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def preview(
    ctx: Context, realm_id: str, *, read_quickbooks: bool = True, at: datetime | None = None
) -> CompanyPreview:
    """Rehearse one company's next cycle (or the one ``at`` a later time, e.g. tomorrow's sending
    hour) and report the emails it would queue."""
    settings = ctx.settings.company(realm_id)
    if read_quickbooks:
        ctx.qbo(realm_id).company_info()
    with Rehearsal(ctx.db) as db:
        rehearsed = dataclasses.replace(ctx, db=db, mailer=_NoMail())
        if at is not None:
            rehearsed.clock = lambda: at
        with db.transaction() as session:
            before = {
                key
                for (key,) in session.execute(
                    select(Effect.key).where(
                        Effect.company_id == realm_id, Effect.status == EffectStatus.PENDING.value
                    )
                )
            }
        ensure_companies(rehearsed)
        with db.transaction() as session:
            row = session.get(Company, realm_id)
            first = row is None or row.first_sync_at is None
        if read_quickbooks:
            pull(rehearsed, realm_id)
        new_links = publish(rehearsed, realm_id)
        notify(rehearsed, realm_id)
        remind(rehearsed, realm_id)
        with db.transaction() as session:
            row = session.get(Company, realm_id)
            name = (row.name if row else "") or settings.branding.name or realm_id
            open_invoices = session.scalar(
                select(func.count())
                .select_from(InvoiceRow)
                .join(PortalLink, LINK_OF_INVOICE)
                .where(InvoiceRow.company_id == realm_id, InvoiceRow.status.in_(["open", "partial"]))
            )
            pending = session.scalars(
                select(Effect)
                .where(
                    Effect.company_id == realm_id,
                    Effect.status == EffectStatus.PENDING.value,
                    Effect.kind.like("email.%"),
                )
                .order_by(Effect.id)
            ).all()
            emails = tuple(_planned(session, ctx, effect, effect.key in before) for effect in pending)
    return CompanyPreview(
        realm_id=realm_id,
        name=name,
        first_sync=first,
        policy=settings.first_sync.value,
        open_invoices=int(open_invoices or 0),
        new_links=new_links,
        emails=emails,
    )


def _planned(session: Any, ctx: Context, effect: Effect, queued_before: bool) -> PlannedEmail:
    payload = effect.payload
    if effect.kind == NOTICE_KIND:
        items = items_of(payload)
        invoices = []
        for item in items:
            row = session.get(InvoiceRow, (effect.company_id, item.invoice_id))
            doc = row.doc_number if row is not None and row.doc_number else item.invoice_id
            invoices.append(PlannedInvoice(doc, item.reason.value, item.days))
        return PlannedEmail(
            to=str(payload.get("to") or ""),
            template=template_for(items),
            key=effect.key,
            invoices=tuple(invoices),
            queued_before=queued_before,
        )
    if effect.kind == EffectKind.EMAIL_DUNNING:
        dunning = Dunning.from_json(payload)
        docs = []
        for invoice_id in dunning.invoice_ids:
            row = session.get(InvoiceRow, (effect.company_id, invoice_id))
            docs.append(
                PlannedInvoice(
                    row.doc_number if row and row.doc_number else invoice_id, "reminder", dunning.step
                )
            )
        return PlannedEmail(
            to=dunning.to or "(by text only)",
            template=dunning.template,
            key=effect.key,
            invoices=tuple(docs),
            queued_before=queued_before,
        )
    company = ctx.settings.company(effect.company_id)
    to = (company.staff_email or "") if effect.kind == "email.staff" else "(the payer)"
    return PlannedEmail(
        to=to, template=effect.kind.removeprefix("email."), key=effect.key, queued_before=queued_before
    )


def tomorrow_at(ctx: Context, realm_id: str) -> datetime:
    """Tomorrow at the company's sending hour, in its time zone (as UTC)."""
    local = local_now(ctx, realm_id)
    hour = ctx.settings.company(realm_id).sending_hour
    return (local + timedelta(days=1)).replace(hour=hour, minute=0, second=0, microsecond=0).astimezone(UTC)
