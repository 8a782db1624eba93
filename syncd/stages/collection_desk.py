"""The collector pages' backend (``ports.collections.CollectionsDesk``) over the store and the
collections stages."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from syncd.context import Context
from syncd.domain.collections import CallOutcome, OfflineMethod
from syncd.ports.collections import AccountDetail, AccountLine, HistoryLine, InvoiceLine
from syncd.stages import collectors
from syncd.stages.notify import local_now
from syncd.stages.offline_payments import record_offline_payment
from syncd.store import collections, holds, mirror
from syncd.store.models import CollectionAccount, Effect

REMINDER_KINDS = ("email.dunning", "email.notice")


class Desk:
    """``CollectionsDesk`` for one syncd."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def _today(self, company_id: str) -> date:
        return local_now(self.ctx, company_id).date()

    def _line(self, session: Session, account: CollectionAccount, today: date) -> AccountLine:
        realm, customer_id = account.company_id, account.customer_id
        overdue = collections.overdue(session, realm, customer_id, today)
        customer = mirror.get_customer(session, realm, customer_id)
        promise = collections.open_promise(session, realm, customer_id)
        oldest = overdue[0].due_date if overdue else None
        return AccountLine(
            customer_id=customer_id,
            name=customer.display_name if customer else customer_id,
            owed=sum((i.balance for i in overdue), Decimal(0)),
            currency=overdue[0].currency if overdue else (customer.currency if customer else "USD"),
            days_overdue=(today - oldest).days if oldest is not None else 0,
            collector=account.collector,
            promise=f"{promise.amount} by {promise.promised_on.isoformat()}" if promise else None,
            on_hold=holds.active(session, realm, customer_id) is not None,
        )

    def accounts(self, company_id: str, collector: str | None) -> list[AccountLine]:
        today = self._today(company_id)
        with self.ctx.db.transaction() as session:
            rows = (
                collections.accounts_of(session, company_id, collector)
                if collector is not None
                else collections.escalated(session, company_id)
            )
            lines = [self._line(session, row, today) for row in rows]
        return sorted(lines, key=lambda line: (-line.days_overdue, line.name))

    def account(self, company_id: str, customer_id: str) -> AccountDetail | None:
        today = self._today(company_id)
        with self.ctx.db.transaction() as session:
            customer = mirror.get_customer(session, company_id, customer_id)
            if customer is None:
                return None
            row = session.get(CollectionAccount, (company_id, customer_id)) or CollectionAccount(
                company_id=company_id, customer_id=customer_id
            )
            invoices = tuple(
                InvoiceLine(
                    invoice_id=i.qbo_id,
                    number=i.doc_number or i.qbo_id,
                    balance=i.balance,
                    currency=i.currency,
                    due_date=i.due_date,
                    days_overdue=(today - i.due_date).days if i.due_date and i.due_date < today else 0,
                )
                for i in collections.open_invoices(session, company_id, customer_id)
            )
            history = [
                HistoryLine(
                    a.at, a.kind + (f" ({a.outcome.replace('_', ' ')})" if a.outcome else ""), a.by, a.body
                )
                for a in collections.history(session, company_id, customer_id)
            ]
            history += self._reminders(session, company_id, customer_id)
            return AccountDetail(
                line=self._line(session, row, today),
                email=customer.email,
                phone=customer.phone,
                locale=self.ctx.settings.company(company_id).locale,
                invoices=invoices,
                history=tuple(sorted(history, key=lambda h: h.at, reverse=True)),
            )

    @staticmethod
    def _reminders(session: Session, company_id: str, customer_id: str) -> list[HistoryLine]:
        """Messages syncd queued for the customer (invoice emails and reminder steps)."""
        found = []
        for prefix in ("email:dunning", "email:notice"):
            for effect in session.scalars(
                select(Effect)
                .where(
                    Effect.company_id == company_id, Effect.key.like(f"{prefix}:{company_id}:{customer_id}:%")
                )
                .order_by(Effect.id.desc())
                .limit(20)
            ):
                template = str(effect.payload.get("template") or "invoice email")
                state = "sent" if effect.done_at else effect.status
                found.append(HistoryLine(effect.created_at, f"reminder: {template}", "syncd", state))
        return found

    def note(self, company_id: str, customer_id: str, text: str, *, by: str) -> str:
        return collectors.note(self.ctx, company_id, customer_id, text, by=by).summary

    def call(
        self,
        company_id: str,
        customer_id: str,
        outcome: CallOutcome,
        text: str,
        *,
        by: str,
        invoice_id: str | None,
    ) -> str:
        return collectors.call(
            self.ctx, company_id, customer_id, outcome, text, by=by, invoice_id=invoice_id
        ).summary

    def promise(self, company_id: str, customer_id: str, *, on: date, amount: Decimal, by: str) -> str:
        return collectors.promise(self.ctx, company_id, customer_id, on=on, amount=amount, by=by).summary

    def payment(
        self,
        company_id: str,
        customer_id: str,
        invoice_id: str,
        *,
        method: OfflineMethod,
        amount: Decimal,
        reference: str,
        by: str,
        request_id: str,
    ) -> str:
        recorded = record_offline_payment(
            self.ctx,
            company_id,
            customer_id,
            invoice_id,
            method=method,
            amount=amount,
            reference=reference,
            by=by,
            request_id=request_id,
        )
        if not recorded.created:
            return "this payment was recorded already"
        return f"{method.value} of {amount} recorded: it is being written to QuickBooks"
