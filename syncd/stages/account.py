"""The customer account's backend: sign-in by emailed link or invoice link, the account page, paying
several invoices in one Checkout payment, contact changes written back to QuickBooks.

A person is whoever holds a customer's billing email; a session signed in by email may look at
every live customer (at any company) with that address, re-checked on every request, so an address
changed in QBO ends the access at once. A session opened from an invoice link sees that customer
only. Sign-in emails are effects (``email:signin:<token digest>``); the token itself is derived
from a nonce in the payload with a key only this installation has, so the database holds nothing
that signs anyone in.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from syncd.catalog.payloads import CustomerContact
from syncd.context import Context
from syncd.domain import InvoiceStatus
from syncd.domain.phones import InvalidPhoneError
from syncd.domain.recurring import RecurAction
from syncd.errors import PermanentError, SyncdError, ValidationError
from syncd.ports.account import (
    AccountChoice,
    AccountView,
    Change,
    Document,
    Receipt,
)
from syncd.ports.account_text import TEXT
from syncd.ports.portal import Consenting
from syncd.stages import (
    account_methods,
    account_view,
    authorizations,
    checkouts,
    methods,
    plan_views,
    recurring_account,
    text_consent,
    views,
)
from syncd.stages.account_sign_in import AccountSessions
from syncd.stages.collect import OWNER, PortalService, open_attempt, record_keep
from syncd.stages.notify import local_now, queue_staff_alert
from syncd.store import account_page, accounts, effects, payments, reviews
from syncd.store.effects import Claimed
from syncd.store.models import AccountSession, CustomerRow, InvoiceRow, PaymentRow
from syncd.worker import Done


class AccountService(AccountSessions):
    """Implements ``syncd.ports.account.AccountBackend`` over the store (signing in and sessions:
    ``AccountSessions``)."""

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.portal = PortalService(ctx)

    # -- which account ------------------------------------------------------------------------

    def _allowed(self, session: Session, row: AccountSession) -> list[CustomerRow]:
        if row.email is not None:
            return accounts.customers_for(session, row.email)
        if row.scope_company_id is None or row.scope_customer_id is None:
            return []
        customer = session.get(CustomerRow, (row.scope_company_id, row.scope_customer_id))
        return [customer] if customer is not None and not customer.deleted else []

    def _current(self, session: Session, sid: str) -> tuple[AccountSession, CustomerRow] | None:
        """The session and the customer it looks at, re-checked against what it may see."""
        row = self._session(session, sid)
        if row is None or row.company_id is None or row.customer_id is None:
            return None
        customer = session.get(CustomerRow, (row.company_id, row.customer_id))
        if customer is None or not _may_see(row, customer):
            return None
        return row, customer

    def current_customer(self, session: Session, sid: str) -> CustomerRow | None:
        """The customer a live session looks at (for the account's other pages, autopay's)."""
        found = self._current(session, sid)
        return found[1] if found is not None else None

    def choices(self, sid: str) -> list[AccountChoice] | None:
        with self.ctx.db.transaction() as session:
            row = self._session(session, sid)
            if row is None:
                return None
            return [
                AccountChoice(
                    c.company_id,
                    c.qbo_id,
                    c.display_name,
                    views.company_name(self.ctx, c.company_id, session),
                )
                for c in self._allowed(session, row)
            ]

    def choose(self, sid: str, company_id: str, customer_id: str) -> bool:
        with self.ctx.db.transaction() as session:
            row = self._session(session, sid)
            if row is None:
                return False
            if not any(
                (c.company_id, c.qbo_id) == (company_id, customer_id) for c in self._allowed(session, row)
            ):
                return False
            row.company_id, row.customer_id = company_id, customer_id
            return True

    # -- the account page ---------------------------------------------------------------------

    def account(self, sid: str) -> AccountView | None:
        """Three statements for any number of invoices (``store.account_page``), a fourth for a
        customer with recurring services, three more for one with installment plans, and one more
        for one with card authorisations."""
        ctx = self.ctx
        now = ctx.clock()
        with ctx.db.transaction() as session:
            top = account_page.head(session, accounts.digest(sid))
            if top is None or not accounts.live(top.session, now) or top.customer is None:
                return None
            row, customer = top.session, top.customer
            if not _may_see(row, customer):
                return None
            accounts.touch(row, now)
            realm = customer.company_id
            invoices = account_page.invoices(session, realm, customer.qbo_id)
            found = account_page.movements(session, realm, customer.qbo_id, account_methods.CHANGING)
            services = recurring_account.items(ctx, session, customer) if top.recurring else ()
            planned = plan_views.items(session, realm, customer.qbo_id) if top.plans else ()
            holds = authorizations.hold_items(session, realm, customer.qbo_id) if top.authorizations else ()
        company = ctx.settings.company(realm)
        offered = methods.on_hold(company.payment_methods) if top.on_hold else company.payment_methods
        if company.bank_debit_strikes == 0:
            offered = company.payment_methods
        brand = views.named_branding(ctx, realm, company.branding.name or top.company_name or "Billing")
        paid = [m for m in found if m.source == "payment"]
        on_file = account_methods.items(account_page.methods_of(found), account_page.changing(found))
        held = account_page.held(found)
        others = top.accounts - 1 if row.email else 0
        view = account_view.build(
            ctx, customer, invoices, paid, held, bool(offered), row.email, others, brand
        )
        consent = TEXT["method_consent"].format(company=brand.name)
        keep = views.keep_offer(company.save_methods, offered, brand.name)
        return dataclasses.replace(
            view,
            methods=on_file,
            consent_text=consent,
            keep_offer=keep,
            recurring=services,
            autopay=company.autopay.enabled,
            plans=planned,
            holds=holds,
        )

    # -- payment methods ----------------------------------------------------------------------

    def make_default(self, sid: str, method_id: str, request_id: str) -> Change:
        with self.ctx.db.transaction() as session:
            current = self._current(session, sid)
            key = (
                account_methods.queue_default(self.ctx, session, current[1], method_id, request_id)
                if current
                else None
            )
        return account_methods.run(self.ctx, key)

    def remove_method(self, sid: str, method_id: str) -> Change:
        with self.ctx.db.transaction() as session:
            current = self._current(session, sid)
            key = account_methods.queue_detach(self.ctx, session, current[1], method_id) if current else None
        return account_methods.run(self.ctx, key)

    def add_method(self, sid: str, request_id: str, ip: str | None, user_agent: str | None) -> str | None:
        with self.ctx.db.transaction() as session:
            current = self._current(session, sid)
            if current is None:
                return None
            link_token = account_methods.open_setup(self.ctx, session, current[1], request_id)
        return account_methods.start_setup(self.ctx, link_token, ip, user_agent)

    def passkeys(self, sid: str) -> tuple[str, ...] | None:
        """Ids of the signed-in person's passkeys; None for a session without a person."""
        with self.ctx.db.transaction() as session:
            row = self._session(session, sid)
            if row is None or row.email is None:
                return None
            return tuple(p.credential_id for p in accounts.passkeys_of(session, row.email))

    def receipt(self, sid: str, ref: str) -> Receipt | None:
        ctx = self.ctx
        with ctx.db.transaction() as session:
            current = self._current(session, sid)
            if current is None:
                return None
            _, customer = current
            pay = session.get(PaymentRow, ref)
            if (
                pay is None
                or (pay.company_id, pay.customer_id) != (customer.company_id, customer.qbo_id)
                or pay.status not in account_view.HISTORY
            ):
                return None
            numbers = {
                i.qbo_id: i.doc_number
                for i in session.scalars(
                    select(InvoiceRow).where(
                        InvoiceRow.company_id == pay.company_id, InvoiceRow.qbo_id.in_(pay.invoice_ids)
                    )
                )
            }
            brand = views.branding(ctx, session, customer.company_id)
            return Receipt(brand, customer.display_name, account_view.paid_item(pay, numbers))

    def invoice_pdf(self, sid: str, invoice_id: str) -> Document | None:
        with self.ctx.db.transaction() as session:
            current = self._current(session, sid)
            if current is None:
                return None
            customer = current[1]
            invoice = session.get(InvoiceRow, (customer.company_id, invoice_id[:64]))
            if (
                invoice is None
                or invoice.customer_id != customer.qbo_id
                or invoice.status == InvoiceStatus.DELETED.value
            ):
                return None
            realm, qbo_id, doc_number = invoice.company_id, invoice.qbo_id, invoice.doc_number
        try:
            return Document(doc_number, self.ctx.qbo(realm).invoice_pdf(qbo_id))
        except SyncdError:
            return None

    def pay(self, sid: str, invoice_ids: list[str], keep: Consenting | None = None) -> str:
        ctx = self.ctx
        now = ctx.clock()
        wanted = sorted(set(invoice_ids))
        if not wanted:
            raise PermanentError("Choose at least one invoice to pay.")
        with ctx.db.transaction() as session:
            current = self._current(session, sid)
            if current is None:
                raise PermanentError("Please sign in again.")
            _, customer = current
            realm = customer.company_id
            rows = list(
                session.scalars(
                    select(InvoiceRow)
                    .where(
                        InvoiceRow.company_id == realm,
                        InvoiceRow.customer_id == customer.qbo_id,
                        InvoiceRow.qbo_id.in_(wanted),
                    )
                    .order_by(InvoiceRow.due_date, InvoiceRow.qbo_id)
                    .with_for_update()
                )
            )
            if len(rows) != len(wanted):
                raise PermanentError("One of those invoices is not yours to pay here.")
            if len({r.currency for r in rows}) != 1:
                raise PermanentError("Invoices in different currencies are paid separately.")
            held = reviews.held_invoices(session, realm)
            for invoice in rows:
                view = views.invoice_view(ctx, session, invoice, "")
                if invoice.qbo_id in held or not view.status.payable or view.balance <= 0:
                    raise PermanentError(f"Invoice {invoice.doc_number} has nothing left to pay online.")
                if view.payment_state.value != "none":
                    raise PermanentError(f"A payment for invoice {invoice.doc_number} is already on its way.")
            if not methods.offered(ctx, session, realm, customer.qbo_id):
                raise PermanentError(
                    f"Please contact {views.company_name(ctx, realm, session)} to arrange payment."
                )
            amount = sum((r.balance for r in rows), Decimal(0))
            first = rows[0]
            seq = payments.attempts_for(session, realm, first.qbo_id) + 1
            key = f"pay:{realm}:{'+'.join(r.qbo_id for r in rows)}:{seq}"
            open_attempt(session, key=key, invoices=rows, amount=amount, now=now)
            offered = methods.offered(ctx, session, realm, customer.qbo_id)
            text = views.keep_offer(
                ctx.settings.company(realm).save_methods, offered, views.company_name(ctx, realm, session)
            )
            if keep is not None and text is not None:
                record_keep(session, key, realm, customer.qbo_id, text, keep, now)
            row = session.get(PaymentRow, key)
            assert row is not None
            waiting = checkouts.supersede(session, row, now)
        # One payable session per invoice: every rival is closed before this URL is handed out.
        checkouts.settle(ctx, waiting, owner=OWNER)
        return self.portal._checkout_url(key)

    # -- recurring services -------------------------------------------------------------------

    def recurring_action(self, sid: str, template_id: str, action: RecurAction) -> bool:
        ctx = self.ctx
        with ctx.db.transaction() as session:
            current = self._current(session, sid)
            realm = current[1].company_id if current else None
        if realm is None:
            return False
        today = local_now(ctx, realm).date()
        with ctx.db.transaction() as session:
            current = self._current(session, sid)
            if current is None or current[1].company_id != realm:
                return False
            done = recurring_account.act(
                ctx, session, current[1], template_id, action, today=today, now=ctx.clock()
            )
        if done:
            ctx.wake("worker", None)
        return done

    # -- contact details ----------------------------------------------------------------------

    def update_contact(
        self, sid: str, email: str | None, phone: str | None, texts: Consenting | None = None
    ) -> bool:
        ctx = self.ctx
        now = ctx.clock()
        with ctx.db.transaction() as session:
            current = self._current(session, sid)
            if current is None:
                return False
            _, customer = current
            if texts is not None:
                try:
                    text_consent.give_consent(
                        ctx,
                        session,
                        company_id=customer.company_id,
                        customer_id=customer.qbo_id,
                        number=phone or "",
                        now=now,
                        ip=texts.ip,
                        user_agent=texts.user_agent,
                    )
                except InvalidPhoneError as exc:
                    raise ValidationError(str(exc)) from None
            fingerprint = accounts.digest(f"{customer.company_id}|{customer.qbo_id}|{email}|{phone}")[:24]
            change = CustomerContact(customer.qbo_id, email=email, phone=phone, fingerprint=fingerprint)
            effects.enqueue(session, change, company_id=customer.company_id, now=now)
            queue_staff_alert(
                ctx,
                session,
                customer.company_id,
                f"contact:{customer.company_id}:{customer.qbo_id}:{fingerprint}",
                "A customer changed their contact details",
                f"{customer.display_name} (QuickBooks customer {customer.qbo_id}) changed their billing "
                f"details in the customer account: email {email or '(unchanged)'}, phone "
                f"{phone or '(unchanged)'}. syncd writes them to the QuickBooks customer.",
                now,
            )
            return True


def _may_see(row: AccountSession, customer: CustomerRow) -> bool:
    """A person sees a live customer whose billing email is theirs now; an invoice-link session
    sees its one customer."""
    if customer.deleted:
        return False
    if row.email is not None:
        return (customer.email or "").strip().lower() == row.email and customer.active
    return (row.scope_company_id, row.scope_customer_id) == (customer.company_id, customer.qbo_id)


def write_contact(ctx: Context, effect: Claimed) -> Done:
    """The customer's new billing email / phone, as a sparse update of the QBO customer."""
    change = CustomerContact.of(effect)
    customer_id, email, phone = change.customer_id, change.email or None, change.phone or None
    ref = ctx.qbo(effect.company_id).update_customer_contact(
        customer_id, email=email, phone=phone, request_id=effect.key
    )

    def apply(session: Session) -> None:
        row = session.get(CustomerRow, (effect.company_id, customer_id))
        if row is not None:
            row.email = email or row.email
            row.phone = phone or row.phone

    return Done(remote_id=ref.qbo_id, apply=apply)
