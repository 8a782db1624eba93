"""Helpers for the books tests: a loop with a payout bank account, paying invoices (one or several
per payment), settling events, and reading what QBO and the audit say."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from loop_harness import Loop, running_loop
from sqlalchemy import select

from syncd.audit import AuditReport, run_audit
from syncd.stages.collect import open_attempt
from syncd.stages.cycle import run_cycle
from syncd.stages.events import ingest
from syncd.store.models import InvoiceRow, PaymentRow

BANK = "Checking"


class FollowStripe:
    """syncd's (and QBO's) clock, following the Stripe simulator's once it runs: tests move time
    days ahead (ACH settlement, payouts) and every party must agree what day it is."""

    def __init__(self) -> None:
        self.stripe: Any = None

    def __call__(self) -> datetime:
        now = datetime.now(UTC)
        if self.stripe is None:
            return now
        # The simulator stands still between advances; real seconds keep leases and retries moving.
        moved: datetime = self.stripe.clock.now() + (now - self.started)
        return max(now, moved)

    def follow(self, stripe: Any) -> None:
        self.started = datetime.now(UTC)
        self.stripe = stripe


@contextmanager
def books_loop(tmp_path: Path, **company: Any) -> Iterator[Loop]:
    accounts = {"bank": BANK, **company.pop("accounts", {})}
    clock = FollowStripe()
    with running_loop(
        tmp_path, invoices=company.pop("invoices", 8), accounts=accounts, clock=clock, **company
    ) as loop:
        clock.follow(loop.stripe)
        run_cycle(loop.ctx, loop.realm)
        yield loop


def settle(loop: Loop) -> None:
    """Deliver pending webhooks, apply them, run every due effect."""
    loop.stripe.webhooks.flush()
    ingest(loop.ctx)
    loop.drain()


def advance(loop: Loop, days: float) -> None:
    loop.stripe.clock.advance(timedelta(days=days))
    settle(loop)


def open_invoices(loop: Loop, currency: str = "USD") -> list[InvoiceRow]:
    with loop.ctx.db.transaction() as s:
        rows = s.scalars(
            select(InvoiceRow)
            .where(InvoiceRow.status == "open", InvoiceRow.currency == currency)
            .order_by(InvoiceRow.qbo_id)
        ).all()
        for r in rows:
            s.expunge(r)
        return list(rows)


def invoice(loop: Loop, invoice_id: str) -> InvoiceRow:
    with loop.ctx.db.transaction() as s:
        row = s.get(InvoiceRow, (loop.realm, invoice_id))
        assert row is not None
        s.expunge(row)
        return row


def pay(
    loop: Loop, invoices: list[InvoiceRow], outcome: str = "card_success", amount: Decimal | None = None
) -> PaymentRow:
    """One Stripe payment for ``invoices`` (of one customer), as the portal would start it."""
    total = amount if amount is not None else sum((i.balance for i in invoices), Decimal(0))
    now = loop.ctx.clock()
    key = f"pay:{loop.realm}:{'+'.join(i.qbo_id for i in invoices)}:{now.timestamp()}"
    with loop.ctx.db.transaction() as s:
        open_attempt(s, key=key, invoices=invoices, amount=total, now=now)
    loop.drain()
    row = payment(loop, key)
    assert row.checkout_session_id is not None
    loop.stripe.pay_checkout(row.checkout_session_id, outcome)
    settle(loop)
    return payment(loop, key)


def refund(loop: Loop, intent_id: str, amount: Decimal | None = None, key: str = "") -> str:
    """A refund through syncd's own Stripe connector, as staff would make it in Stripe (None: in
    full); ``key`` tells apart two refunds of the same amount."""
    made = loop.ctx.stripe.refund(
        payment_intent_id=intent_id, amount=amount, metadata={}, idempotency_key=f"test-refund-{amount}-{key}"
    )
    return str(made.id)


def payment(loop: Loop, key: str) -> PaymentRow:
    with loop.ctx.db.transaction() as s:
        row = s.get(PaymentRow, key)
        assert row is not None
        s.expunge(row)
        return row


def charge_of(loop: Loop, intent_id: str) -> str:
    pi = next(p for p in loop.stripe.objects("payment_intent") if p["id"] == intent_id)
    return str(pi["latest_charge"])


def entity(loop: Loop, name: str, entity_id: str | None) -> dict[str, Any]:
    found = loop.qbo.entity(name, entity_id or "")
    assert found is not None, f"no QBO {name} {entity_id}"
    return found


def balance(loop: Loop, invoice_id: str) -> Decimal:
    return Decimal(str(entity(loop, "Invoice", invoice_id)["Balance"]))


def qbo(loop: Loop, entity: str) -> list[dict[str, Any]]:
    return loop.qbo.entities(entity)


def audit(loop: Loop, start: date | None = None, end: date | None = None) -> AuditReport:
    today = loop.stripe.clock.now().date()
    return run_audit(loop.ctx, loop.realm, start or date(2000, 1, 1), end or today + timedelta(days=30))


def assert_clean(loop: Loop) -> AuditReport:
    report = audit(loop)
    assert report.clean, report.to_text()
    return report
