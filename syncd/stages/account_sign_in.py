"""The customer account's sessions: sign-in by emailed link, invoice link or passkey, signing out,
and the sign-in email. The link's token is derived from a nonce in the effect's payload with a key
only this installation has, so the database holds nothing that signs anyone in."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime

from sqlalchemy.orm import Session

from syncd.catalog.payloads_email import SignInEmail
from syncd.context import Context
from syncd.ports.account import SignIn
from syncd.stages import passkeys, views
from syncd.stages.collect import OWNER
from syncd.stages.notify import send
from syncd.store import accounts, effects
from syncd.store.effects import Claimed
from syncd.store.models import AccountSession, InvoiceRow, PortalLink
from syncd.worker import Done, perform_now


def _token_for(ctx: Context, nonce: str) -> str:
    mac = hmac.new(ctx.box.purpose_key("account-links"), nonce.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


class AccountSessions:
    """Signing in and out, and the live session behind a cookie (the base of ``AccountService``)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

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

    def _session(self, session: Session, sid: str) -> AccountSession | None:
        now = self.ctx.clock()
        row = session.get(AccountSession, accounts.digest(sid))
        if row is None or not accounts.live(row, now):
            return None
        accounts.touch(row, now)
        return row

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
