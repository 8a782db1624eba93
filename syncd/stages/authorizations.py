"""Card authorisations placed before a job: staff place one (``syncd authorize place``), the
Stripe effect authorises the customer's saved default card with manual capture, and each company
cycle matches a held authorisation to the customer's next invoice (queueing its capture) or
releases it once it has gone unused for ``release_days``.

Every remote step is an effect with its own key (``stripe:authorize:<id>``,
``stripe:capture:<id>:<invoice>``, ``stripe:release:<id>``); the capture and release are in
``authorization_effects``, the emails in ``authorization_mail``.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from syncd.catalog.payloads_authorizations import (
    AuthorizationCapture,
    AuthorizationEmail,
    AuthorizationPlace,
    AuthorizationRelease,
)
from syncd.context import Context
from syncd.domain import InvoiceStatus, MethodKind
from syncd.domain.authorizations import AuthorizationStatus, CardAuthorization
from syncd.domain.money import display_exponent
from syncd.errors import DeclinedError, ValidationError
from syncd.ports.authorizations import HoldItem
from syncd.stages.autopay_mail import describe_method
from syncd.stages.notify import local_now, queue_staff_alert
from syncd.store import authorizations as store
from syncd.store import effects, mirror
from syncd.store import saved_methods as methods
from syncd.store.effects import Claimed
from syncd.store.models import CardAuthorizationRow, CustomerRow, InvoiceRow, SavedMethodRow
from syncd.worker import Done

# Stripe's (and the card networks') limit on an uncaptured online card authorisation.
NETWORK_LIMIT = timedelta(days=7)
_PAYABLE = (InvoiceStatus.OPEN.value, InvoiceStatus.PARTIAL.value)


def payment_key(authorization_id: str) -> str:
    """The syncd payment a capture books (one per authorisation)."""
    return f"authorization:{authorization_id}"


def default_card(session: Session, realm_id: str, customer_id: str) -> SavedMethodRow | None:
    """The customer's default saved card, else their only card on file."""
    cards = [m for m in methods.on_file(session, realm_id, customer_id) if m.kind == MethodKind.CARD.value]
    chosen = [m for m in cards if m.is_default] or (cards if len(cards) == 1 else [])
    return chosen[0] if chosen else None


def _checked(
    session: Session, realm_id: str, customer_id: str, amount: Decimal
) -> tuple[CustomerRow, SavedMethodRow]:
    """Every rule a new hold obeys: the customer and the card it is placed on."""
    if not amount.is_finite() or amount <= 0:
        raise ValidationError(f"the amount must be a positive number, not {amount}")
    customer = mirror.get_customer(session, realm_id, customer_id)
    if customer is None or customer.deleted:
        raise ValidationError(f"no customer {customer_id} in company {realm_id}")
    # What the card can be charged in, and QuickBooks can book (to the cent).
    digits = min(display_exponent(customer.currency), 2)
    if amount != amount.quantize(Decimal(1).scaleb(-digits)):
        raise ValidationError(f"the amount {amount} has more than {digits} decimals for {customer.currency}")
    card = default_card(session, realm_id, customer_id)
    if card is None:
        raise ValidationError(f"customer {customer_id} has no default card on file")
    return customer, card


def preview(ctx: Context, realm_id: str, customer_id: str, amount: Decimal) -> str:
    """The card ``place`` would hold ``amount`` on ("Visa ending 4242"), changing nothing;
    ValidationError (one line) for the same reasons."""
    with ctx.db.transaction() as session:
        _, card = _checked(session, realm_id, customer_id, amount)
        return describe_method(card)


def request_authorization_id(realm_id: str, request_id: str) -> str:
    """The id of the hold a form submission places: the same submission twice places one."""
    return "auth_" + hashlib.sha256(f"{realm_id}:{request_id}".encode()).hexdigest()[:12]


def place(
    ctx: Context,
    realm_id: str,
    customer_id: str,
    amount: Decimal,
    note: str | None,
    *,
    request_id: str | None = None,
) -> str:
    """Record the authorisation and queue its Stripe effect; returns its id. ValidationError (one
    line) for an amount that is not positive, an unknown customer or one with no card on file.
    ``request_id`` (a form submission's): placed once however often it is sent."""
    placed_on = local_now(ctx, realm_id).date()
    release_days = ctx.settings.company(realm_id).authorizations.release_days
    now = ctx.clock()
    with ctx.db.transaction() as session:
        if request_id is not None:
            authorization_id = request_authorization_id(realm_id, request_id)
            if session.get(CardAuthorizationRow, authorization_id) is not None:
                return authorization_id
        else:
            authorization_id = f"auth_{secrets.token_hex(6)}"
        customer, card = _checked(session, realm_id, customer_id, amount)
        known = session.scalars(
            select(InvoiceRow.qbo_id).where(
                InvoiceRow.company_id == realm_id, InvoiceRow.customer_id == customer_id
            )
        )
        session.add(
            CardAuthorizationRow(
                id=authorization_id,
                company_id=realm_id,
                customer_id=customer_id,
                amount=amount,
                currency=customer.currency,
                note=(note or "").strip()[:500] or None,
                status=AuthorizationStatus.PLACING.value,
                payment_method_id=card.payment_method_id,
                stripe_customer_id=card.stripe_customer_id,
                known_invoice_ids=sorted(str(i) for i in known),
                placed_on=placed_on,
                release_at=now + timedelta(days=release_days),
                placed_at=now,
                updated_at=now,
            )
        )
        effects.enqueue(
            session,
            AuthorizationPlace(authorization_id=authorization_id, customer_id=customer_id),
            company_id=realm_id,
            now=now,
        )
    ctx.wake("worker", None)
    return authorization_id


def release_now(ctx: Context, realm_id: str, authorization_id: str) -> None:
    """Staff release a held authorisation (its release effect is queued)."""
    now = ctx.clock()
    with ctx.db.transaction() as session:
        row = session.get(CardAuthorizationRow, authorization_id)
        if row is None or row.company_id != realm_id:
            raise ValidationError(f"no authorisation {authorization_id} in company {realm_id}")
        status = AuthorizationStatus(row.status)
        if status is AuthorizationStatus.PLACING:
            raise ValidationError(
                f"authorisation {authorization_id} is still being placed: try again shortly"
            )
        if status is not AuthorizationStatus.HELD:
            raise ValidationError(f"authorisation {authorization_id} is {status.value}: nothing to release")
        _start_release(session, row, "staff", now)
    ctx.wake("worker", None)


def authorize(ctx: Context, effect: Claimed) -> Done:
    """The ``stripe.authorize`` effect: a manual-capture, off-session intent on the saved card."""
    authorization_id = AuthorizationPlace.of(effect).authorization_id
    with ctx.db.transaction() as session:
        row = session.get(CardAuthorizationRow, authorization_id)
        if row is None or row.status != AuthorizationStatus.PLACING.value:
            return Done(remote_id=f"skipped:{row.status if row else 'gone'}")
        method = session.get(SavedMethodRow, row.payment_method_id)
        usable = method is not None and method.detached_at is None
        stripe_customer, method_id, amount, currency = (
            row.stripe_customer_id,
            row.payment_method_id,
            row.amount,
            row.currency,
        )
        tags = {"company": row.company_id, "qbo_customer": row.customer_id, "authorization": row.id}
    if not usable:
        return Done(
            remote_id="skipped:method-removed", apply=lambda s: _declined(ctx, s, authorization_id, "removed")
        )
    try:
        held = ctx.stripe.authorize_card(
            customer_id=stripe_customer,
            payment_method_id=method_id,
            amount=amount,
            currency=currency,
            metadata=tags,
            idempotency_key=effect.key,
        )
    except DeclinedError as exc:
        code = exc.code or "declined"
        return Done(remote_id=f"declined:{code}", apply=lambda s: _declined(ctx, s, authorization_id, code))
    except ValidationError:
        # Stripe refused the request itself (a method no longer the customer's, say): nothing held.
        return Done(remote_id="refused", apply=lambda s: _declined(ctx, s, authorization_id, "refused"))
    return Done(remote_id=held.id, apply=lambda s: _held(ctx, s, authorization_id, held))


def _held(ctx: Context, session: Session, authorization_id: str, held: CardAuthorization) -> None:
    row = session.get(CardAuthorizationRow, authorization_id)
    assert row is not None
    now = ctx.clock()
    row.payment_intent_id = held.id
    row.expires_at = held.capture_before or row.placed_at + NETWORK_LIMIT
    if held.held:
        store.move(row, AuthorizationStatus.HELD, now=now)
        tell(session, row, "placed", now)
    else:
        store.move(row, AuthorizationStatus.EXPIRED, now=now)


def _declined(ctx: Context, session: Session, authorization_id: str, code: str) -> None:
    """Nothing is held: staff are told (the customer was never told of a hold)."""
    row = session.get(CardAuthorizationRow, authorization_id)
    assert row is not None
    now = ctx.clock()
    row.decline_code = code[:64]
    store.move(row, AuthorizationStatus.DECLINED, now=now)
    customer = mirror.get_customer(session, row.company_id, row.customer_id)
    name = customer.display_name if customer else row.customer_id
    queue_staff_alert(
        ctx,
        session,
        row.company_id,
        f"authorization-declined:{row.id}",
        f"Card hold declined for {name}",
        f"The hold of {row.amount} {row.currency} ({row.id}) on {name}'s card was not authorised "
        f"({row.decline_code}). Nothing is held; ask the customer for another card or take payment "
        "by the invoice link.",
        now,
    )


def tell(session: Session, row: CardAuthorizationRow, event: str, now: datetime) -> None:
    email = AuthorizationEmail(authorization_id=row.id, event=event)
    effects.enqueue(session, email, company_id=row.company_id, now=now)


def run(ctx: Context, realm_id: str) -> int:
    """The cycle step: capture each held authorisation from the customer's next invoice, or
    release it once unused past its release time; returns the effects queued."""
    now = ctx.clock()
    queued = 0
    with ctx.db.transaction() as session:
        held = [AuthorizationStatus.HELD, AuthorizationStatus.CAPTURING]
        for row in store.of_company(session, realm_id, held):
            limit = row.expires_at or row.placed_at + NETWORK_LIMIT
            if row.status == AuthorizationStatus.CAPTURING.value:
                # A capture that never reached Stripe by the network's limit never will: the
                # release reads what Stripe did with the hold. One that may have is left to its
                # effect, whose replay reads the intent back.
                if row.captured_amount is None and now >= limit:
                    queued += _start_release(session, row, "expired", now)
                continue
            if now >= row.release_at or now >= limit - timedelta(hours=12):
                queued += _start_release(session, row, "unused", now)
                continue
            invoice = next_invoice(session, row)
            if invoice is None:
                continue
            row.invoice_id = invoice.qbo_id
            row.payment_key = payment_key(row.id)
            store.move(row, AuthorizationStatus.CAPTURING, now=now)
            capture = AuthorizationCapture(
                authorization_id=row.id, invoice_id=invoice.qbo_id, customer_id=row.customer_id
            )
            queued += effects.enqueue(session, capture, company_id=realm_id, now=now)
    if queued:
        ctx.wake("worker", None)
    return queued


def next_invoice(session: Session, row: CardAuthorizationRow) -> InvoiceRow | None:
    """The customer's oldest payable invoice made after the hold (not mirrored when it was
    placed, dated on or after its day, in its currency) that no authorisation has used."""
    skip = set(row.known_invoice_ids) | store.used_invoices(session, row.company_id, row.customer_id)
    candidates = session.scalars(
        select(InvoiceRow)
        .where(
            InvoiceRow.company_id == row.company_id,
            InvoiceRow.customer_id == row.customer_id,
            InvoiceRow.status.in_(_PAYABLE),
            InvoiceRow.currency == row.currency,
            InvoiceRow.txn_date >= row.placed_on,
        )
        .order_by(InvoiceRow.txn_date, InvoiceRow.qbo_id)
    )
    return next((i for i in candidates if i.qbo_id not in skip and i.balance > 0), None)


def _start_release(session: Session, row: CardAuthorizationRow, reason: str, now: datetime) -> int:
    row.release_reason = reason
    store.move(row, AuthorizationStatus.RELEASING, now=now)
    release = AuthorizationRelease(authorization_id=row.id, customer_id=row.customer_id)
    return int(effects.enqueue(session, release, company_id=row.company_id, now=now))


def hold_items(session: Session, realm_id: str, customer_id: str) -> tuple[HoldItem, ...]:
    """The customer's latest authorisations as the account page and the console show them."""
    items = []
    for row in store.of_customer(session, realm_id, customer_id):
        invoice = mirror.get_invoice(session, realm_id, row.invoice_id) if row.invoice_id else None
        captured = row.status == AuthorizationStatus.CAPTURED.value
        items.append(
            HoldItem(
                id=row.id,
                amount=row.amount,
                currency=row.currency,
                state=row.status,
                placed_at=row.placed_at,
                until=row.release_at,
                note=row.note,
                captured=row.captured_amount if captured else None,
                invoice_number=(invoice.doc_number or invoice.qbo_id) if invoice else row.invoice_id,
                ended_at=row.captured_at or row.released_at,
            )
        )
    return tuple(items)
