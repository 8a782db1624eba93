"""What customers text back (STOP, START, HELP) and the delivery reports Twilio posts.

Both arrive as signed webhooks; the web layer hands the raw form here. A STOP is written before
the webhook is answered, so a text still queued for that number is dropped when its turn comes
(``texts.send_text`` reads consent again right before sending).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import structlog

from syncd.config import CompanySettings
from syncd.context import Context
from syncd.domain.phones import masked
from syncd.errors import SignatureError
from syncd.ports.sms import Sms
from syncd.stages import views
from syncd.store import texts as store

log = structlog.get_logger("syncd.texts")

# Twilio's own opt-out and opt-in keywords (Advanced Opt-Out defaults), matched on the whole body.
STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"})
START_WORDS = frozenset({"START", "YES", "UNSTOP", "OPTIN"})
HELP_WORDS = frozenset({"HELP", "INFO"})


@dataclass(frozen=True, slots=True)
class Signed:
    """A webhook as it reached syncd: the full public URL Twilio posted to, its form, its signature."""

    url: str
    params: Mapping[str, str]
    signature: str | None


def _companies_of(ctx: Context, account: str, to: str | None) -> list[CompanySettings]:
    """The texting companies on Twilio account ``account`` (those sending from ``to`` when given
    and one does; a Messaging Service number is not known here, so then all of the account's)."""
    on_account = [c for c in ctx.settings.companies if c.sms.enabled and c.sms.account_sid == account]
    by_number = [c for c in on_account if to is not None and c.sms.from_number == to]
    return by_number or on_account


def _verified(ctx: Context, hook: Signed, to: str | None) -> tuple[Sms, list[CompanySettings]]:
    """The connector that verified ``hook`` and the companies it is for; SignatureError otherwise
    (an account no company texts from is as unknown as a forged signature)."""
    account = hook.params.get("AccountSid", "")
    companies = _companies_of(ctx, account, to)
    if not companies:
        raise SignatureError(f"no company texts from Twilio account {account!r}")
    sms = ctx.sms(companies[0].realm_id)
    sms.verify(hook.url, hook.params, hook.signature)
    return sms, companies


def answer_inbound(ctx: Context, hook: Signed) -> str:
    """Handle a text a customer sent: STOP words opt the number out of every company on that
    Twilio number at once, START words opt it back in, HELP gets a reply naming the business and
    how to stop. Returns the TwiML to answer with. Raises SignatureError, PermanentError."""
    sms, companies = _verified(ctx, hook, hook.params.get("To"))
    text = sms.inbound_of(hook.params)
    word = text.body.strip().upper()
    realms = [c.realm_id for c in companies]
    business = views.company_name(ctx, realms[0])
    now = ctx.clock()
    reply: str | None = None
    if word in STOP_WORDS:
        with ctx.db.transaction() as session:
            ended = store.opt_out(session, realms, text.sender, now)
        log.info("text.opted_out", number=masked(text.sender), customers=ended)
        reply = f"{business}: you will get no more texts from us. Reply START to get them again."
    elif word in START_WORDS:
        with ctx.db.transaction() as session:
            resumed = store.opt_in(session, realms, text.sender, now)
        log.info("text.opted_in", number=masked(text.sender), customers=resumed)
        if resumed:
            reply = f"{business}: texts are on again. Reply STOP to end them, HELP for help."
    elif word in HELP_WORDS:
        reply = _help(ctx, companies[0], business)
    else:
        log.info("text.inbound", number=masked(text.sender))
    return sms.reply(reply)


def _help(ctx: Context, company: CompanySettings, business: str) -> str:
    contact = company.branding.contact_phone or company.branding.contact_email or company.staff_email
    reach = f" Questions: {contact}." if contact else ""
    return f"{business}: payment reminders with a link to pay.{reach} Reply STOP to end texts."


def record_status(ctx: Context, hook: Signed, key: str | None) -> bool:
    """Record a delivery report (queued, sent, delivered, undelivered, failed + error code) for the
    text of effect ``key``; whether syncd sent that text. Raises SignatureError, PermanentError."""
    sms, _ = _verified(ctx, hook, None)
    report = sms.status_of(hook.params)
    with ctx.db.transaction() as session:
        known = store.report(session, key, report.sid, report.status, report.error_code, ctx.clock())
    if not known:
        log.warning("text.status_unknown", sid=report.sid)
    return known
