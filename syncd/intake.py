"""Webhook intake: verify, store in the inbox, answer fast. Processing happens in the jobs."""

from __future__ import annotations

import dataclasses

from sqlalchemy.orm import Session

from syncd.config import DEFAULT_ACCOUNT, StripeAccount
from syncd.context import Context
from syncd.domain import StripeEvent
from syncd.errors import SignatureError
from syncd.store import inbox, inbox_gather


def accept_stripe(ctx: Context, body: bytes, signature: str | None) -> str:
    """Verify ``Stripe-Signature`` and keep the raw event; returns its id. A duplicate delivery
    is accepted (Stripe must stop retrying) and changes nothing. The endpoint has refused a body
    over ``web.webhooks.MAX_BODY`` already.

    The inbox row names the company when the event's account pays one company only (its own
    account, or the connected account Connect's ``account`` field names); ``stages.events`` reads
    the account back from it. On the shared ``[stripe]`` account it names the object's company."""
    event = stripe_event(ctx, body, signature)
    account = ctx.stripe_account_named(event.account)
    if account is not None and not account.shared and account.companies:
        company: str | None = account.companies[0]
    else:
        company = event.metadata.get("company")
    now = ctx.clock()

    def write(session: Session) -> None:
        inbox.store(
            session,
            source="stripe",
            event_id=event.id,
            event_type=event.type,
            payload=body,
            now=now,
            company_id=company,
        )

    # A payment's first step: stored before a first sync's pages (see ``turnstile``), together
    # with the deliveries that arrive with it (see ``inbox_gather``).
    inbox_gather.of(ctx.db).store(write)
    return event.id


def inbox_account(ctx: Context, event: StripeEvent, company_id: str | None) -> StripeEvent:
    """An event read back from the inbox with its account, which ``accept_stripe`` recorded as the
    row's company when that company has an account of its own (Connect events name theirs)."""
    if event.account is not None or company_id is None:
        return event
    account = ctx.stripe_account(company_id)
    if account.key == DEFAULT_ACCOUNT or account.shared:
        return event
    return dataclasses.replace(event, account=account.key)


def _secret_of(ctx: Context, account: StripeAccount) -> str:
    """What the account's webhooks are checked against ("" when nothing): accounts on the
    ``[stripe]`` key without a secret of their own use the one ``syncd connect stripe`` stored."""
    unused = account.key == DEFAULT_ACCOUNT and not account.companies
    if not account.settings.api_key and (unused or account.key != DEFAULT_ACCOUNT):
        return ""
    stored = account.settings.api_key == ctx.settings.stripe.api_key
    return account.settings.webhook_secret or ("<stored>" if stored else "")


def stripe_event(ctx: Context, body: bytes, signature: str | None) -> StripeEvent:
    """The event, verified with the webhook secret of each account in turn (each secret once);
    SignatureError when none signed it. ``account`` is Connect's field when the body has it, else
    the account whose secret signed it (None for the ``[stripe]`` account)."""
    refused: SignatureError | None = None
    tried: set[str] = set()
    for account in ctx.stripe_accounts():
        secret = _secret_of(ctx, account)
        if not secret or secret in tried:
            continue
        tried.add(secret)
        try:
            event = ctx.stripe_of(account).parse_webhook(body, signature)
        except SignatureError as exc:
            refused = refused or exc
            continue
        if event.account is None and account.key != DEFAULT_ACCOUNT:
            return dataclasses.replace(event, account=account.key)
        return event
    raise refused or SignatureError(
        "no webhook secret: run `syncd connect stripe` or set stripe.webhook_secret"
    )


def accept_qbo(ctx: Context, body: bytes, signature: str | None) -> list[str]:
    """Verify ``intuit-signature`` and return the configured realms the notice names."""
    notices = ctx.qbo_app.parse_webhook(body, signature)
    configured = {c.realm_id for c in ctx.settings.companies}
    return sorted({n.realm_id for n in notices if n.realm_id in configured})
