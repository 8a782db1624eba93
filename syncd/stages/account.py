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

import base64
import dataclasses
import hashlib
import hmac
import secrets
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from syncd.catalog.payloads import CustomerContact, SignInEmail
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
    SignIn,
)
from syncd.ports.account_text import TEXT
from syncd.ports.portal import Consenting
from syncd.stages import (
    account_methods,
    account_view,
    authorizations,
    checkouts,
    methods,
    passkeys,
    plan_views,
    recurring_account,
    text_consent,
    views,
)
from syncd.stages.collect import OWNER, PortalService, open_attempt, record_keep
from syncd.stages.notify import local_now, queue_staff_alert, send
from syncd.store import account_page, accounts, effects, payments, reviews
from syncd.store.effects import Claimed
from syncd.store.models import AccountSession, CustomerRow, InvoiceRow, PaymentRow, PortalLink
from syncd.worker import Done, perform_now


def _token_for(ctx: Context, nonce: str) -> str:
    mac = hmac.new(ctx.box.purpose_key("account-links"), nonce.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


class AccountService:
    """Implements ``syncd.ports.account.AccountBackend`` over the store."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.portal = PortalService(ctx)

    # -- signing in ---------------------------------------------------------------------------

    def request_link(self, email: str, ip: str, browser: str) -> list[str]:
        ctx = self.ctx
        now = ctx.clock()
        address = accounts.normal_email(email)[:320]
        ip_digest = accounts.ip_digest(ctx.box.purpose_key(accounts.IP_PURPOSE), ip)
        nonce = secrets.token_urlsafe(24)
        token_digest = accounts.digest(_token_for(ctx, nonce))
        with ctx.db.transaction() as session:
            by_email, by_ip = accounts.recent_requests(session, email=address, ip_digest=ip_digest, now=now)
            limited = by_email >= accounts.PER_ADDRESS or by_ip >= accounts.PER_IP
            found = [] if limited else accounts.customers_for(session, address)
            # Every request leaves a row, known or not: it is the rate-limit ledger too. An address
            # no customer has is not kept.
            accounts.record_token(
                session,
                token_digest=token_digest,
                kind=accounts.TokenKind.SIGN_IN_LINK,
                now=now,
                lifetime=accounts.LINK_LIFETIME,
                email=address if found else None,
                ip_digest=ip_digest,
                browser=browser,
                known=bool(found),
            )
            if not found:
                return []
            sign_in = SignInEmail(nonce=nonce, to=address, token_digest=token_digest)
            effects.enqueue(session, sign_in, company_id=found[0].company_id, now=now)
        return [sign_in.key(found[0].company_id)]

    def deliver(self, keys: list[str]) -> None:
        for key in keys:
            perform_now(self.ctx, key, owner=OWNER)

    def link_valid(self, token: str) -> bool:
        with self.ctx.db.transaction() as session:
            return (
                accounts.peek(
                    session, accounts.digest(token), accounts.TokenKind.SIGN_IN_LINK, self.ctx.clock()
                )
                is not None
            )

    def sign_in_with_link(self, token: str, browser: str | None) -> tuple[SignIn, str | None]:
        now = self.ctx.clock()
        with self.ctx.db.transaction() as session:
            row = accounts.peek(session, accounts.digest(token), accounts.TokenKind.SIGN_IN_LINK, now)
            if row is None or not row.known or row.email is None:
                return SignIn.INVALID, None
            if browser is None or not hmac.compare_digest(row.browser or "", browser):
                return SignIn.OTHER_BROWSER, None
            if accounts.consume(session, row.digest, accounts.TokenKind.SIGN_IN_LINK, now) is None:
                return SignIn.INVALID, None
            return SignIn.OK, self._open(session, now, email=row.email)

    def sign_in_with_invoice(self, invoice_token: str) -> str | None:
        now = self.ctx.clock()
        link_digest = self.ctx.links.digest(invoice_token)
        with self.ctx.db.transaction() as session:
            link = session.get(PortalLink, link_digest) if link_digest else None
            if link is None or link.revoked_at is not None:
                return None
            invoice = session.get(InvoiceRow, (link.company_id, link.invoice_id))
            if invoice is None:
                return None
            return self._open(session, now, scope=(invoice.company_id, invoice.customer_id))

    def _open(
        self,
        session: Session,
        now: datetime,
        *,
        email: str | None = None,
        scope: tuple[str, str] | None = None,
    ) -> str:
        sid = accounts.new_secret()
        row = accounts.open_session(
            session, session_digest=accounts.digest(sid), now=now, email=email, scope=scope
        )
        if email is not None:
            found = accounts.customers_for(session, email)
            if len(found) == 1:
                row.company_id, row.customer_id = found[0].company_id, found[0].qbo_id
        return sid

    def sign_out(self, sid: str, everywhere: bool) -> None:
        now = self.ctx.clock()
        with self.ctx.db.transaction() as session:
            row = session.get(AccountSession, accounts.digest(sid))
            if row is None:
                return
            if everywhere and accounts.live(row, now):
                accounts.revoke_everywhere(session, row, now)
            else:
                accounts.revoke(session, row.digest, now)

    # -- which account ------------------------------------------------------------------------

    def _session(self, session: Session, sid: str) -> AccountSession | None:
        now = self.ctx.clock()
        row = session.get(AccountSession, accounts.digest(sid))
        if row is None or not accounts.live(row, now):
            return None
        accounts.touch(row, now)
        return row

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

    # -- passkeys -----------------------------------------------------------------------------

    def passkey_options(self, sid: str | None) -> str | None:
        if sid is None:
            return passkeys.sign_in_options(self.ctx)
        with self.ctx.db.transaction() as session:
            row = self._session(session, sid)
            email = row.email if row is not None else None
        return passkeys.register_options(self.ctx, email) if email else None

    def passkey_register(self, sid: str, credential_json: str) -> bool:
        with self.ctx.db.transaction() as session:
            row = self._session(session, sid)
            email = row.email if row is not None else None
        return passkeys.register(self.ctx, email, credential_json) if email else False

    def passkey_sign_in(self, credential_json: str) -> str | None:
        email = passkeys.sign_in(self.ctx, credential_json)
        if email is None:
            return None
        with self.ctx.db.transaction() as session:
            return self._open(session, self.ctx.clock(), email=email)

    def passkey_remove(self, sid: str, credential_id: str) -> bool:
        with self.ctx.db.transaction() as session:
            row = self._session(session, sid)
            email = row.email if row is not None else None
        return passkeys.remove(self.ctx, email, credential_id) if email else False


def _may_see(row: AccountSession, customer: CustomerRow) -> bool:
    """A person sees a live customer whose billing email is theirs now; an invoice-link session
    sees its one customer."""
    if customer.deleted:
        return False
    if row.email is not None:
        return (customer.email or "").strip().lower() == row.email and customer.active
    return (row.scope_company_id, row.scope_customer_id) == (customer.company_id, customer.qbo_id)


def send_sign_in(ctx: Context, effect: Claimed) -> Done:
    """The sign-in email; the link is derived again from the nonce, never stored."""
    sign_in = SignInEmail.of(effect)
    token = _token_for(ctx, sign_in.nonce)
    b = ctx.settings.company(effect.company_id).branding
    context = {
        "company_name": views.company_name(ctx, effect.company_id),
        "brand_color": b.primary_color,
        "logo_url": b.logo_url,
        "contact_email": b.contact_email,
        "contact_phone": b.contact_phone,
        "sign_in_url": f"{ctx.settings.public_url}/account/link/{token}",
        "minutes": int(accounts.LINK_LIFETIME.total_seconds() // 60),
    }
    return send(ctx, effect, "sign_in", sign_in.to, context)


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
