"""Collect: the portal's backend — a Pay press becomes a Stripe Checkout Session, lazily.

Publishing costs Stripe nothing; the session (and the Stripe Customer) is created when a customer
presses Pay, as an effect performed inline under a deterministic key, so a double click, a retry
or a crash mid-way reuses the same session instead of opening a second way to pay.
"""

from __future__ import annotations

import os
import socket
import time
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session

from syncd.catalog.payloads import StripeCheckout
from syncd.companies import pause
from syncd.context import Context
from syncd.domain import CheckoutRequest, CheckoutStatus, InvoiceStatus
from syncd.domain.payments import PaymentStatus
from syncd.errors import AuthError, Credential, PermanentError, SyncdError, TransientError
from syncd.formatting import format_money
from syncd.ports.portal import Consenting, InvoiceView, Outcome, PaymentState
from syncd.stages import checkouts, hooks, methods, payment_status, stripe_customers, views
from syncd.store import autopay, effects, mirror, payments, saved_methods
from syncd.store.effects import Claimed
from syncd.store.models import Company, InvoiceRow, MethodConsent, PaymentRow, PortalLink
from syncd.worker import Done, perform_now

CHECKOUT_WAIT_SECONDS = 10.0
SESSION_LIFETIME = timedelta(hours=23)
REUSE_MARGIN = timedelta(minutes=30)
OWNER = f"{socket.gethostname()}:{os.getpid()}:portal"


class PortalService:
    """Implements ``syncd.ports.portal.PortalBackend`` over the store and the Stripe connector."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def _link(self, session: Session, token: str) -> PortalLink | None:
        digest = self.ctx.links.digest(token)
        if digest is None:
            return None
        link = session.get(PortalLink, digest)
        if link is None or link.revoked_at is not None:
            return None
        return link

    def invoice(self, token: str) -> InvoiceView | None:
        with self.ctx.db.transaction() as session:
            link = self._link(session, token)
            if link is None:
                return None
            invoice = mirror.get_invoice(session, link.company_id, link.invoice_id)
            if invoice is None or invoice.status == InvoiceStatus.DELETED.value:
                return None
            return views.invoice_view(self.ctx, session, invoice, token)

    def start_payment(self, token: str, amount: Decimal | None, keep: Consenting | None = None) -> str:
        ctx = self.ctx
        now = ctx.clock()
        with ctx.db.transaction() as session:
            link = self._link(session, token)
            if link is None:
                raise PermanentError("This payment link is no longer valid.")
            invoice = session.scalar(
                select(InvoiceRow)
                .where(InvoiceRow.company_id == link.company_id, InvoiceRow.qbo_id == link.invoice_id)
                .with_for_update()
            )
            if invoice is None:
                raise PermanentError("This payment link is no longer valid.")
            refused = _stripe_refused(session, invoice.company_id)
            if refused is not None:
                raise refused
            view = views.invoice_view(ctx, session, invoice, token)
            if view.payment_state is PaymentState.REVIEW:
                raise PermanentError(
                    f"A payment on this invoice is being reviewed. Please contact {view.branding.name}."
                )
            charge = _amount_to_charge(view, amount)
            if not view.payment_methods:
                raise PermanentError(f"Please contact {view.branding.name} to arrange payment.")
            keeping = keep if view.keep_offer else None
            reuse = _reusable(session, invoice, charge, view.payment_methods, now, keeping is not None)
            key = reuse.key if reuse is not None else _new_attempt(ctx, session, invoice, charge)
            if keeping is not None and view.keep_offer:
                record_keep(
                    session, key, invoice.company_id, invoice.customer_id, view.keep_offer, keeping, now
                )
            row = session.get(PaymentRow, key)
            assert row is not None
            waiting = checkouts.supersede(session, row, now)
        # Every other session for the invoice is expired before this one is handed out.
        checkouts.settle(ctx, waiting, owner=OWNER)
        if waiting:
            self._still_owed(token, key)
        return self._checkout_url(key)

    def _still_owed(self, token: str, key: str) -> None:
        """A session being closed may have been paid meanwhile: then this one is closed too."""
        ctx = self.ctx
        with ctx.db.transaction() as session:
            row = session.get(PaymentRow, key)
            link = self._link(session, token)
            invoice = mirror.get_invoice(session, link.company_id, link.invoice_id) if link else None
            if row is None or invoice is None:
                raise PermanentError("This payment link is no longer valid.")
            view = views.invoice_view(ctx, session, invoice, token)
            if view.status.payable and view.payment_state is PaymentState.NONE and row.amount <= view.balance:
                return
            if row.checkout_session_id:
                hooks.queue_checkout_expiry(session, row, ctx.clock())
            else:
                payments.advance(row, PaymentStatus.EXPIRED, now=ctx.clock())
        raise PermanentError(
            "A payment for this invoice has just come in. Please reload the page to see what is left to pay."
        )

    def _checkout_url(self, key: str) -> str:
        ctx = self.ctx
        with ctx.db.transaction() as session:
            row = session.get(PaymentRow, key)
            if row is not None and row.checkout_url and row.status == PaymentStatus.OPEN.value:
                return row.checkout_url
        performed = perform_now(ctx, f"stripe:checkout:{key}", owner=OWNER)
        # If the background worker holds the effect, it is creating the session right now.
        deadline = time.monotonic() + (0 if performed else CHECKOUT_WAIT_SECONDS)
        while True:
            with ctx.db.transaction() as session:
                row = session.get(PaymentRow, key)
                if row is not None and row.checkout_url and row.status == PaymentStatus.OPEN.value:
                    return row.checkout_url
                superseded = row is None or row.status == PaymentStatus.EXPIRED.value
                # Stripe refused the key just now: the worker paused the company (and said so).
                refused = _stripe_refused(session, row.company_id) if row is not None else None
            if refused is not None:
                raise refused
            if superseded or time.monotonic() >= deadline:
                raise TransientError("We could not start the payment just now. Please try again in a minute.")
            time.sleep(0.1)

    def outcome(self, token: str, session_id: str | None) -> Outcome:
        ctx = self.ctx
        with ctx.db.transaction() as session:
            link = self._link(session, token)
            row = payments.by_session(session, session_id) if session_id else None
            if link is None or row is None or link.invoice_id not in row.invoice_ids:
                return Outcome.CANCELLED
            status = PaymentStatus(row.status)
            realm = link.company_id
        known = {
            PaymentStatus.SUCCEEDED: Outcome.PAID,
            PaymentStatus.PROCESSING: Outcome.PROCESSING,
            PaymentStatus.FAILED: Outcome.FAILED,
            PaymentStatus.EXPIRED: Outcome.CANCELLED,
            PaymentStatus.RETURNED: Outcome.FAILED,
        }
        if status in known:
            return known[status]
        assert session_id is not None
        try:
            checkout = ctx.stripe_for(realm).get_checkout_session(session_id)
        except AuthError as exc:
            # The payer may well have paid: the webhook still arrives and is stored, so "pending"
            # is the honest answer; the company pauses and staff hear of it once.
            pause(ctx, realm, exc)
            return Outcome.PENDING
        except SyncdError:
            return Outcome.PENDING
        # The redirect can beat the webhook: record what Stripe says through the same
        # idempotent path the webhook takes.
        if checkout.status is CheckoutStatus.COMPLETE:
            observed = (
                PaymentStatus.SUCCEEDED if checkout.payment_status == "paid" else PaymentStatus.PROCESSING
            )
            payment_status.observe(ctx, checkout.id, None, observed, checkout.payment_intent_id)
            return Outcome.PAID if observed is PaymentStatus.SUCCEEDED else Outcome.PROCESSING
        if checkout.status is CheckoutStatus.EXPIRED:
            return Outcome.CANCELLED
        return Outcome.PENDING

    def invoice_pdf(self, token: str) -> bytes | None:
        with self.ctx.db.transaction() as session:
            link = self._link(session, token)
            if link is None:
                return None
            realm, invoice_id = link.company_id, link.invoice_id
        try:
            return self.ctx.qbo(realm).invoice_pdf(invoice_id)
        except PermanentError:
            return None
        except AuthError as exc:
            pause(self.ctx, realm, exc)  # logs and tells staff once, however many payers ask
            raise


def _stripe_refused(session: Session, realm: str) -> AuthError | None:
    """The refusal that keeps a company from taking payments now (Stripe refused its key), if any.
    A lost QBO connection does not: payments are taken and booked once it is reconnected."""
    company = session.get(Company, realm)
    if company is None or company.pause_credential != Credential.STRIPE_KEY.value:
        return None
    return AuthError(company.status_reason or "Stripe refused the API key", credential=Credential.STRIPE_KEY)


def _amount_to_charge(view: InvoiceView, amount: Decimal | None) -> Decimal:
    if not view.status.payable or view.balance <= 0:
        raise PermanentError("This invoice has nothing left to pay.")
    if view.payment_state.value == "processing":
        raise PermanentError("A bank payment for this invoice is already processing.")
    if amount is None or not view.allow_partial:
        return view.balance
    try:
        if amount != amount.quantize(Decimal("0.001")) or amount <= 0:
            raise PermanentError("Please enter an amount greater than zero.")
    except InvalidOperation:
        raise PermanentError("Please enter a valid amount.") from None
    if amount > view.balance:
        most = format_money(view.balance, view.currency, locale=view.branding.locale)
        raise PermanentError(f"The most you can pay is {most}.")
    if amount < min(view.min_partial, view.balance):
        least = format_money(view.min_partial, view.currency, locale=view.branding.locale)
        raise PermanentError(f"The smallest payment accepted is {least}.")
    return amount


def record_keep(
    session: Session,
    key: str,
    realm_id: str,
    customer_id: str,
    text: str,
    who: Consenting,
    now: datetime,
) -> None:
    """The payer's "keep this card" consent, under the payment key the Checkout is made for."""
    saved_methods.consent(
        session,
        reference=key,
        realm_id=realm_id,
        qbo_customer_id=customer_id,
        text=text,
        ip=who.ip,
        user_agent=who.user_agent,
        now=now,
    )


def _reusable(
    session: Session,
    invoice: InvoiceRow,
    amount: Decimal,
    allowed: tuple[str, ...],
    now: datetime,
    keep: bool = False,
) -> PaymentRow | None:
    """The live attempt for exactly this invoice and amount that a second tab or a double click
    is sent back to. One offering other methods than the customer may use now (bank debit while
    on credit hold, or not since released), too old, or already being closed (the invoice changed
    in QBO) is not reused: the new attempt supersedes it."""
    for row in payments.for_invoice(
        session, invoice.company_id, invoice.qbo_id, [PaymentStatus.CREATING, PaymentStatus.OPEN]
    ):
        if row.invoice_ids != [invoice.qbo_id] or row.amount != amount:
            continue
        if row.key.startswith(autopay.KEY_PREFIX):
            continue  # an automatic charge in flight has no Checkout to send the payer to
        if (session.get(MethodConsent, row.key) is not None) != keep:
            continue  # saves the card when it should not, or does not when it should
        if row.checkout_session_id and not methods.offers_exactly(row.offered_methods, allowed):
            continue
        if row.created_at + SESSION_LIFETIME - REUSE_MARGIN <= now or checkouts.expiring(session, row):
            continue
        return row
    return None


def _new_attempt(ctx: Context, session: Session, invoice: InvoiceRow, amount: Decimal) -> str:
    seq = payments.attempts_for(session, invoice.company_id, invoice.qbo_id) + 1
    key = f"pay:{invoice.company_id}:{invoice.qbo_id}:{seq}"
    open_attempt(session, key=key, invoices=[invoice], amount=amount, now=ctx.clock())
    return key


def open_attempt(
    session: Session, *, key: str, invoices: list[InvoiceRow], amount: Decimal, now: datetime
) -> None:
    """A payment attempt for ``invoices`` (one customer, one currency) and the effect that opens
    its Checkout Session, in the caller's transaction. Checkout returns the customer to the first
    invoice's page; its token is derived again when the session is made, never stored."""
    first = invoices[0]
    session.add(
        PaymentRow(
            key=key,
            company_id=first.company_id,
            customer_id=first.customer_id,
            invoice_ids=[i.qbo_id for i in invoices],
            amount=amount,
            currency=first.currency,
            status=PaymentStatus.CREATING.value,
            created_at=now,
            updated_at=now,
        )
    )
    effects.enqueue(session, StripeCheckout(payment_key=key), company_id=first.company_id, now=now)


def create_checkout(ctx: Context, effect: Claimed) -> Done:
    key = StripeCheckout.of(effect).payment_key
    company = ctx.settings.company(effect.company_id)
    with ctx.db.transaction() as session:
        row = session.get(PaymentRow, key)
        if row is None:
            raise PermanentError(f"payment {key} vanished")
        customer = mirror.get_customer(session, row.company_id, row.customer_id)
        invoice = mirror.get_invoice(session, row.company_id, row.invoice_ids[0])
        stripe_customer = customer.stripe_customer_id if customer else None
        email = views.recipient(session, invoice) if invoice else None
        description = f"Invoice {invoice.doc_number}" if invoice else "Invoice payment"
        amount, currency, invoice_ids, created = (
            row.amount,
            row.currency,
            tuple(row.invoice_ids),
            row.created_at,
        )
        customer_name = customer.display_name if customer else (invoice.customer_name if invoice else "")
        customer_id = row.customer_id
        superseded = row.status == PaymentStatus.EXPIRED.value
        # Opt-in: the method is kept only when the payer ticked "keep this card" for this payment.
        keep = session.get(MethodConsent, key) is not None
        # Decided when the session is made, so a hold placed since the Pay press still applies.
        offered = methods.offered(ctx, session, row.company_id, customer_id)

    def expire(session: Session) -> None:
        row = session.get(PaymentRow, key)
        if row is not None:
            payments.advance(row, PaymentStatus.EXPIRED, now=ctx.clock())

    if superseded and effect.attempts == 1:
        # A newer attempt replaced this one before any session was made for it.
        return Done(remote_id="skipped:superseded")
    if created + SESSION_LIFETIME - REUSE_MARGIN <= ctx.clock():
        # Too old to open now (Stripe refuses a past expires_at). Any session an earlier attempt
        # did create has expired by itself, so nobody can pay through it any more.
        return Done(remote_id="skipped:stale", apply=expire)
    if not offered:
        # On credit hold with bank debit the only method: the portal asks them to contact the
        # business instead.
        return Done(remote_id="skipped:credit-hold", apply=expire)
    if stripe_customer is None:
        stripe_customer = stripe_customers.ensure(
            ctx, effect.company_id, customer_id, name=customer_name, email=email
        )
    base = ctx.links.url(effect.company_id, invoice_ids[0])
    checkout = ctx.stripe.create_checkout_session(
        CheckoutRequest(
            company=effect.company_id,
            invoice_ids=invoice_ids,
            amount=amount,
            currency=currency,
            description=description,
            customer_id=stripe_customer,
            customer_email=None if stripe_customer else email,
            success_url=f"{base}/return",
            cancel_url=f"{base}/cancelled",
            payment_methods=offered,
            payment_key=key,
            save_method=keep,
            expires_at=created + SESSION_LIFETIME,
        ),
        # A replay with other methods (a hold placed meanwhile) must not meet Stripe's check that a
        # key is reused with the same parameters.
        idempotency_key=effect.key if offered == company.payment_methods else f"{effect.key}:held",
        first_attempt_at=created,
    )

    def apply(session: Session) -> None:
        row = session.get(PaymentRow, key)
        stripe_customers.remember(session, effect.company_id, customer_id, stripe_customer)
        if row is not None:
            row.checkout_session_id = checkout.id
            row.checkout_url = checkout.url
            row.offered_methods = list(offered)
            row.payment_intent_id = row.payment_intent_id or checkout.payment_intent_id
            payments.advance(row, PaymentStatus.OPEN, now=ctx.clock())
            if row.status == PaymentStatus.EXPIRED.value:
                # Superseded while Stripe made it: nobody was given its URL; close it anyway.
                row.checkout_url = None
                hooks.queue_checkout_expiry(session, row, ctx.clock())

    return Done(remote_id=checkout.id, apply=apply)
