"""The account page's payment methods: list them, make one the default, remove one, add one.

Default and remove are the saved-methods effects, performed inline as the portal performs its
Checkout effects (the customer is waiting); the worker picks up whatever the page could not
finish. Adding opens a card request under an ``account-`` ident derived from the form submission,
so the same submission sent twice reuses one setup Checkout, which then returns to the account.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

from sqlalchemy.orm import Session

from syncd.catalog import EffectKind
from syncd.context import Context
from syncd.ports.account import Change, MethodItem
from syncd.stages import card_requests
from syncd.stages import saved_methods as stage
from syncd.store import effects
from syncd.store.models import CustomerRow, SavedMethodRow
from syncd.worker import perform_now

OWNER = "portal:account-methods"


# The effects that change a method at Stripe; the page marks a method while one of them waits.
CHANGING = (EffectKind.STRIPE_DEFAULT_METHOD, EffectKind.STRIPE_DETACH_METHOD)


def items(kept: list[MethodItem], changing: set[str]) -> tuple[MethodItem, ...]:
    """The methods as the page lists them, the default first, marked while a change waits."""
    ordered = sorted(kept, key=lambda k: not k.is_default)
    return tuple(replace(k, changing=k.method_id in changing) for k in ordered)


def _mine(session: Session, customer: CustomerRow, method_id: str) -> bool:
    row = session.get(SavedMethodRow, method_id)
    return (
        row is not None
        and row.detached_at is None
        and (row.company_id, row.qbo_customer_id) == (customer.company_id, customer.qbo_id)
    )


def _ident(request_id: str) -> str:
    return hashlib.sha256(request_id.encode()).hexdigest()[:24]


def queue_default(
    ctx: Context, session: Session, customer: CustomerRow, method_id: str, request_id: str
) -> str | None:
    """The default effect's key, or None when the method is not this customer's (a 404)."""
    if not _mine(session, customer, method_id):
        return None
    return stage.queue_default(
        ctx, session, customer.company_id, customer.qbo_id, method_id, _ident(request_id)
    )


def queue_detach(ctx: Context, session: Session, customer: CustomerRow, method_id: str) -> str | None:
    """The detach effect's key, or None when the method is not this customer's (a 404)."""
    if not _mine(session, customer, method_id):
        return None
    return stage.queue_detach(ctx, session, customer.company_id, customer.qbo_id, method_id)


def run(ctx: Context, key: str | None) -> Change:
    """Perform the effect now when no one else holds it (else the worker does, soon); what became
    of it, so the page says "changed" only when Stripe has changed it."""
    if key is None:
        return Change.NOT_FOUND
    if not perform_now(ctx, key, owner=OWNER):
        ctx.wake("worker", None)
    with ctx.db.transaction() as session:
        row = effects.get(session, key)
        status = row.status if row is not None else None
    if status == effects.EffectStatus.DONE.value:
        return Change.DONE
    if status == effects.EffectStatus.FAILED.value:
        return Change.FAILED
    return Change.QUEUED


def open_setup(ctx: Context, session: Session, customer: CustomerRow, request_id: str) -> str:
    """A card request for this submission (made once); the link token that starts it."""
    ident = f"{card_requests.ACCOUNT_PREFIX}{_ident(request_id)}"
    card_requests.open_request(ctx, session, customer, ident, None, ctx.clock())
    return card_requests.token(ctx, customer.company_id, customer.qbo_id, ident)


def start_setup(ctx: Context, link_token: str, ip: str | None, user_agent: str | None) -> str:
    """Record the consent shown and hand out the setup Checkout's URL."""
    return card_requests.CardRequests(ctx).start(link_token, ip=ip, user_agent=user_agent)
