"""Webhook intake: verify, store in the inbox, answer fast. Processing happens in the jobs."""

from __future__ import annotations

from syncd.context import Context
from syncd.store import inbox


def accept_stripe(ctx: Context, body: bytes, signature: str | None) -> str:
    """Verify ``Stripe-Signature`` and keep the raw event; returns its id. A duplicate delivery
    is accepted (Stripe must stop retrying) and changes nothing. The endpoint has refused a body
    over ``web.webhooks.MAX_BODY`` already."""
    event = ctx.stripe.parse_webhook(body, signature)
    with ctx.db.transaction() as session:
        inbox.store(
            session,
            source="stripe",
            event_id=event.id,
            event_type=event.type,
            payload=body,
            now=ctx.clock(),
            company_id=event.metadata.get("company"),
        )
    return event.id


def accept_qbo(ctx: Context, body: bytes, signature: str | None) -> list[str]:
    """Verify ``intuit-signature`` and return the configured realms the notice names."""
    notices = ctx.qbo_app.parse_webhook(body, signature)
    configured = {c.realm_id for c in ctx.settings.companies}
    return sorted({n.realm_id for n in notices if n.realm_id in configured})
