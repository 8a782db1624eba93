"""Card on file before the job: ``syncd request-card`` emails the customer a link; the link's page
records their consent and opens a setup-mode Checkout, whose events then store the method.

The link token is an HMAC of (company, customer, request id) — recomputed, never stored; the
store keeps its SHA-256 only. The email and the Checkout are effects under deterministic keys.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from syncd.catalog.payloads import SetupCheckout
from syncd.catalog.payloads_email import CardRequestEmail
from syncd.context import Context
from syncd.domain import SetupRequest
from syncd.errors import PermanentError, ThrottledError, TransientError, ValidationError
from syncd.links import Links
from syncd.ports.account_text import TEXT
from syncd.ports.card_request import CardRequestView
from syncd.stages import methods, stripe_customers, views
from syncd.stages.notify import local_now, send
from syncd.store import accounts, effects, mirror
from syncd.store import saved_methods as store
from syncd.store.effects import Claimed
from syncd.store.models import CardRequest, CustomerRow
from syncd.worker import Done, perform_now

LIFETIME = timedelta(days=30)
# A Checkout Session lives 24 h; one this close to its end is not handed out again.
SESSION_LIFETIME = timedelta(hours=23)
REUSE_MARGIN = timedelta(minutes=30)
WAIT_SECONDS = 10.0
SAVABLE = ("card", "us_bank_account")
CONSENT = TEXT["method_consent"]
OWNER = "portal:card-request"
# Presses of a link's "add a card" button within ``accounts.RATE_WINDOW``: a person needs a few
# (a declined card, a changed mind); a script pressing on does not reach Stripe.
PRESSES_PER_LINK = 10
PRESSES_PER_IP = 30


@dataclass(frozen=True, slots=True)
class Requested:
    url: str
    queued: bool
    email: str


def request_key(realm_id: str, customer_id: str, ident: str) -> str:
    return f"card-request:{realm_id}:{customer_id}:{ident}"


ACCOUNT_PREFIX = "account-"


def from_account(key: str) -> bool:
    """Whether the request was opened from the account page (it returns there, not to a link)."""
    return key.split(":", 3)[3].startswith(ACCOUNT_PREFIX)


def token(ctx: Context, realm_id: str, customer_id: str, ident: str) -> str:
    # Invoice ids are numeric, so this derivation never meets an invoice link's.
    return ctx.links.token(realm_id, f"card-request\x00{customer_id}\x00{ident}")


def url(ctx: Context, link_token: str) -> str:
    return f"{ctx.settings.public_url.rstrip('/')}/c/{link_token}"


def link_of(ctx: Context, row: CardRequest) -> str:
    """The request's link, derived again (the token is never stored, not even in an effect)."""
    ident = row.request_key.split(":", 3)[3]
    return url(ctx, token(ctx, row.company_id, row.qbo_customer_id, ident))


def open_request(
    ctx: Context, session: Session, customer: CustomerRow, ident: str, reason: str | None, now: datetime
) -> tuple[str, str]:
    """The request row for (customer, ident), made once; returns (key, link url)."""
    key = request_key(customer.company_id, customer.qbo_id, ident)
    link = token(ctx, customer.company_id, customer.qbo_id, ident)
    digest = Links.digest(link)
    assert digest is not None
    if store.request_by_key(session, key) is None:
        session.add(
            CardRequest(
                digest=digest,
                request_key=key,
                company_id=customer.company_id,
                qbo_customer_id=customer.qbo_id,
                reason=reason,
                created_at=now,
                expires_at=now + LIFETIME,
                attempts=0,
            )
        )
    return key, url(ctx, link)


def request_card(ctx: Context, realm_id: str, customer_id: str, reason: str | None = None) -> Requested:
    """Queue the email (one per customer per local day, however often this runs)."""
    ctx.settings.company(realm_id)
    now = ctx.clock()
    day = local_now(ctx, realm_id).date().isoformat()
    with ctx.db.transaction() as session:
        customer = mirror.get_customer(session, realm_id, customer_id)
        if customer is None or customer.deleted:
            raise ValidationError(
                f"customer {customer_id} is not known in company {realm_id}: check the id, or run syncd once"
            )
        if not customer.email:
            raise ValidationError(
                f"customer {customer_id} has no billing email in QuickBooks: add one to the customer first"
            )
        key, link = open_request(ctx, session, customer, day, reason, now)
        request_email = CardRequestEmail(customer_id=customer_id, ident=day, request_key=key)
        queued = effects.enqueue(session, request_email, company_id=realm_id, now=now)
        email = customer.email
    ctx.wake("worker", None)
    return Requested(url=link, queued=queued, email=email)


def email_context(ctx: Context, session: Session, realm_id: str) -> dict[str, Any]:
    b = ctx.settings.company(realm_id).branding
    return {
        "company_name": views.company_name(ctx, realm_id, session),
        "brand_color": b.primary_color,
        "logo_url": b.logo_url,
        "contact_email": b.contact_email,
        "contact_phone": b.contact_phone,
    }


def send_request(ctx: Context, effect: Claimed) -> Done:
    request = CardRequestEmail.of(effect)
    customer_id, ident = request.customer_id, request.ident
    with ctx.db.transaction() as session:
        customer = mirror.get_customer(session, effect.company_id, customer_id)
        row = store.request_by_key(session, request_key(effect.company_id, customer_id, ident))
        if customer is None or customer.deleted or row is None:
            return Done(remote_id="skipped:no-customer")
        context = email_context(ctx, session, effect.company_id)
        context.update(customer_name=customer.display_name, reason=row.reason, expires_at=row.expires_at)
        to = customer.email
    context["link"] = url(ctx, token(ctx, effect.company_id, customer_id, ident))
    return send(ctx, effect, "card_request", to, context)


class CardRequests:
    """Implements ``syncd.ports.card_request.CardRequestBackend``: the link's page, and opening
    the setup Checkout on the customer's click."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def _row(self, session: Session, link_token: str) -> CardRequest | None:
        digest = Links.digest(link_token)
        return session.get(CardRequest, digest) if digest is not None else None

    def view(self, link_token: str) -> CardRequestView | None:
        with self.ctx.db.transaction() as session:
            row = self._row(session, link_token)
            if row is None:
                return None
            customer = mirror.get_customer(session, row.company_id, row.qbo_customer_id)
            if customer is None or customer.deleted:
                return None
            brand = views.branding(self.ctx, session, row.company_id)
            state = (
                "saved" if row.completed_at else "expired" if row.expires_at <= self.ctx.clock() else "open"
            )
            return CardRequestView(
                branding=brand,
                customer_name=customer.display_name,
                reason=row.reason,
                state=state,
                consent_text=CONSENT.format(company=brand.name),
            )

    def start(self, link_token: str, *, ip: str | None, user_agent: str | None) -> str:
        """Record the consent shown on the page and return the setup Checkout's URL (made once
        per click attempt under its key; a live one is handed out again)."""
        ctx = self.ctx
        now = ctx.clock()
        with ctx.db.transaction() as session:
            row = self._row(session, link_token)
            if row is None or row.expires_at <= now:
                raise PermanentError(TEXT["card_link_invalid"])
            _count_press(ctx, session, row.digest, ip or "", now)
            if row.completed_at is not None:
                raise PermanentError(TEXT["card_link_used"])
            brand = views.branding(ctx, session, row.company_id)
            store.consent(
                session,
                reference=row.request_key,
                realm_id=row.company_id,
                qbo_customer_id=row.qbo_customer_id,
                text=CONSENT.format(company=brand.name),
                ip=ip,
                user_agent=user_agent,
                now=now,
            )
            live = row.checkout_expires_at is not None and row.checkout_expires_at - REUSE_MARGIN > now
            if row.checkout_url and live:
                return row.checkout_url
            row.attempts += 1
            row.checkout_url = row.checkout_session_id = row.checkout_expires_at = None
            setup = SetupCheckout(request_key=row.request_key, attempt=str(row.attempts))
            effects.enqueue(session, setup, company_id=row.company_id, now=now)
            key = setup.key(row.company_id)
            request_key_ = row.request_key
        performed = perform_now(ctx, key, owner=OWNER)
        deadline = time.monotonic() + (0 if performed else WAIT_SECONDS)
        while True:
            with ctx.db.transaction() as session:
                found = store.request_by_key(session, request_key_)
                if found is not None and found.checkout_url:
                    return found.checkout_url
            if time.monotonic() >= deadline:
                raise TransientError(TEXT["card_form_unavailable"])
            time.sleep(0.1)


def _count_press(ctx: Context, session: Session, request_digest: str, ip: str, now: datetime) -> None:
    """Record a press of the link's button, or ThrottledError over the limit per link or per IP
    (the same ledger as the sign-in links; a press over the limit opens nothing at Stripe)."""
    ip_key = accounts.ip_digest(ctx.box.purpose_key(accounts.IP_PURPOSE), ip)
    by_link, by_ip = accounts.recent_requests(
        session, email=request_digest, ip_digest=ip_key, now=now, kind=accounts.TokenKind.CARD_PRESS
    )
    if by_link >= PRESSES_PER_LINK or by_ip >= PRESSES_PER_IP:
        raise ThrottledError(TEXT["card_too_many"], retry_after=accounts.RATE_WINDOW.total_seconds())
    accounts.record_token(
        session,
        token_digest=accounts.digest(accounts.new_secret()),
        kind=accounts.TokenKind.CARD_PRESS,
        now=now,
        lifetime=accounts.RATE_WINDOW,
        email=request_digest,
        ip_digest=ip_key,
    )


def create_setup_checkout(ctx: Context, effect: Claimed) -> Done:
    key = SetupCheckout.of(effect).request_key
    now = ctx.clock()
    with ctx.db.transaction() as session:
        row = store.request_by_key(session, key)
        customer = mirror.get_customer(session, row.company_id, row.qbo_customer_id) if row else None
        if row is None or customer is None:
            raise PermanentError(f"card request {key} or its customer vanished")
        stripe_customer = customer.stripe_customer_id
        # What the customer may pay with today (a credit hold drops bank debit); ACH is USD only.
        offered = methods.offered(ctx, session, row.company_id, row.qbo_customer_id)
        link = link_of(ctx, row)
        if from_account(row.request_key):
            account = f"{ctx.settings.public_url.rstrip('/')}/account"
            success_url, cancel_url = f"{account}?done=method", account
        else:
            success_url, cancel_url = f"{link}/done", link
        qbo_customer_id, name, email = customer.qbo_id, customer.display_name, customer.email
        currency = customer.currency
    if stripe_customer is None:
        stripe_customer = stripe_customers.ensure(
            ctx, effect.company_id, qbo_customer_id, name=name, email=email
        )
    savable = tuple(
        m for m in offered if m in SAVABLE and (m != "us_bank_account" or currency.upper() == "USD")
    ) or ("card",)
    checkout = ctx.stripe.start_setup_checkout(
        SetupRequest(
            company=effect.company_id,
            qbo_customer_id=qbo_customer_id,
            customer_id=stripe_customer,
            request_key=key,
            success_url=success_url,
            cancel_url=cancel_url,
            payment_methods=savable,
            currency=currency,
            expires_at=now + SESSION_LIFETIME,
        ),
        idempotency_key=effect.key,
    )

    def apply(session: Session) -> None:
        stripe_customers.remember(session, effect.company_id, qbo_customer_id, stripe_customer)
        found = store.request_by_key(session, key)
        if found is not None:
            found.checkout_session_id = checkout.id
            found.checkout_url = checkout.url
            found.checkout_expires_at = checkout.expires_at or now + SESSION_LIFETIME

    return Done(remote_id=checkout.id, apply=apply)
