"""The demo's autopay customer and the demo clock that brings its charge day: one customer with a
Visa on file and autopay on, one invoice due ``NOTICE_DAYS`` days ahead (so its notice goes out
at once), and a page that moves syncd's and the Stripe simulator's clocks on a day at a time."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from connectors.quickbooks.simulator import QboSimulator
from connectors.stripe.simulator import StripeSimulator
from syncd.context import Context
from syncd.domain.autopay import ChargeStatus
from syncd.stages.autopay_account import consent_text
from syncd.stages.notify import local_now
from syncd.store import autopay as store
from syncd.store.models import AutopayCharge, MethodConsent, SavedMethodRow

NOTICE_DAYS = 3
CUSTOMER = "Harbor Alarm Co"
EMAIL = "accounts@harbor-alarm.example"
AMOUNT = Decimal("149.00")


class DemoClock:
    """syncd's 'now' in the demo: real time plus the days the demo was moved on."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


def seed_autopay(ctx: Context, qbo: QboSimulator, stripe: StripeSimulator, company: str) -> str:
    """The enrolled customer in QBO, at Stripe and in syncd (consent recorded as the account page
    records it); returns the QBO id of its invoice."""
    realm, now = qbo.realm_id, ctx.clock()
    customer = qbo.create_entity(
        "Customer", {"DisplayName": CUSTOMER, "PrimaryEmailAddr": {"Address": EMAIL}}
    )
    due = local_now(ctx, realm).date() + timedelta(days=NOTICE_DAYS)
    invoice = qbo.add_invoice(customer, AMOUNT, due_date=due, email=EMAIL, description="Alarm monitoring")
    stripe_customer, method = stripe.save_method(CUSTOMER)
    reference = f"autopay:demo:{customer}"
    with ctx.db.transaction() as session:
        session.add(
            SavedMethodRow(
                payment_method_id=method,
                company_id=realm,
                qbo_customer_id=customer,
                stripe_customer_id=stripe_customer,
                kind="card",
                brand="visa",
                last4="4242",
                exp_month=12,
                exp_year=now.year + 3,
                is_default=True,
                attached_at=now,
                updated_at=now,
            )
        )
        session.add(
            MethodConsent(
                reference=reference,
                company_id=realm,
                qbo_customer_id=customer,
                text=consent_text(company, "Visa ending 4242", None, NOTICE_DAYS),
                consented_at=now,
                ip="127.0.0.1",
                user_agent="syncd demo",
                payment_method_id=method,
            )
        )
        store.enroll(
            session,
            realm_id=realm,
            customer_id=customer,
            method_id=method,
            cap=None,
            consent_reference=reference,
            now=now,
        )
    return invoice


def _next_charge(ctx: Context, realm: str) -> str:
    """What the demo's autopay customer is waiting for, in a sentence."""
    with ctx.db.transaction() as session:
        rows = session.execute(
            select(
                AutopayCharge.status, AutopayCharge.charge_on, AutopayCharge.amount, AutopayCharge.currency
            )
            .where(AutopayCharge.company_id == realm)
            .order_by(AutopayCharge.created_at)
        ).all()
    for status, charge_on, _, _ in rows:
        if status == ChargeStatus.SCHEDULED.value:
            return f"The autopay invoice of {CUSTOMER} is charged on {charge_on:%A %d %B}."
    for status, _, amount, currency in rows:
        if status == ChargeStatus.SUCCEEDED.value:
            return f"{CUSTOMER} was charged {amount} {currency}: see the mailbox and QuickBooks."
    if rows:
        return f"The autopay charge of {CUSTOMER} is {rows[-1][0]}."
    return f"The autopay notice to {CUSTOMER} goes out with the first sync."


def clock_routes(
    ctx: Context, realm: str, clock: DemoClock, stripe: StripeSimulator, wake: Callable[[], None]
) -> list[BaseRoute]:
    """``/demo/clock``: the demo's date, the next automatic charge, and a button moving both
    clocks on a day (then the company's cycle runs at once)."""

    async def page(request: Request) -> Response:
        today = local_now(ctx, realm)
        body = (
            "<!doctype html><title>Demo clock</title><h1>Demo clock</h1>"
            f"<p>It is {html.escape(f'{today:%A %d %B %Y, %H:%M}')} for the demo company.</p>"
            f"<p>{html.escape(_next_charge(ctx, realm))}</p>"
            '<form method="post"><button>Move the clock on a day</button></form>'
            '<p><a href="/mailbox">Mailbox</a></p>'
        )
        return HTMLResponse(body)

    async def move(request: Request) -> Response:
        clock.offset += timedelta(days=1)
        stripe.clock.advance(timedelta(days=1))
        wake()
        return RedirectResponse("/demo/clock", status_code=303)

    return [Route("/demo/clock", page, methods=["GET"]), Route("/demo/clock", move, methods=["POST"])]
