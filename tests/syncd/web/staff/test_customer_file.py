"""The customer page shows everything staff ask about a customer (invoices, payments, methods on
file, autopay, plans, card holds, promises, messages and texts sent, collectors' notes and calls)
in the same number of queries however long the customer's history."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from method_rows import card_on_file
from sqlalchemy import event
from staff_console import A, seed_company, signed_in

from syncd.context import Context
from syncd.domain.collections import CallOutcome
from syncd.domain.plans import Cadence, due_dates, split
from syncd.domain.staff import StaffRole
from syncd.stages import collectors
from syncd.store import autopay, effects, plans
from syncd.store.models import CardAuthorizationRow, InvoiceRow, PaymentRow

PAGE = f"/staff/c/{A}/customers/c1"


@contextmanager
def counted(ctx: Context) -> Iterator[list[str]]:
    seen: list[str] = []

    def note(*args: Any) -> None:
        if not str(args[2]).startswith("BEGIN"):  # SQLite's BEGIN IMMEDIATE is no query
            seen.append(str(args[2]))

    event.listen(ctx.db.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(ctx.db.engine, "before_cursor_execute", note)


def _history(ctx: Context, first: int, many: int) -> None:
    """``many`` more invoices from number ``first``, each with a payment, a plan, a captured card
    hold and an email about it."""
    now = ctx.clock()
    with ctx.db.transaction() as s:
        for n in range(first, first + many):
            qbo_id = str(n)
            s.add(
                InvoiceRow(
                    company_id=A,
                    qbo_id=qbo_id,
                    doc_number=f"INV-{n}",
                    customer_id="c1",
                    customer_name="Blue Bottle Bakery",
                    currency="USD",
                    txn_date=now.date() - timedelta(days=5),
                    due_date=now.date() + timedelta(days=25),
                    total=Decimal("100.00"),
                    balance=Decimal("100.00"),
                    tax=Decimal(0),
                    lines=[],
                    status="open",
                    sync_token="0",
                    qbo_updated_at=now,
                    mirrored_at=now,
                )
            )
            s.add(
                PaymentRow(
                    key=f"pay:{n}",
                    company_id=A,
                    customer_id="c1",
                    invoice_ids=[qbo_id],
                    amount=Decimal("5.00"),
                    currency="USD",
                    status="succeeded",
                    created_at=now,
                    updated_at=now,
                )
            )
            plans.create(
                s,
                realm_id=A,
                customer_id="c1",
                invoice_id=qbo_id,
                currency="USD",
                total=Decimal("100.00"),
                balance=Decimal("100.00"),
                amounts=split(Decimal("100.00"), Decimal("10.00"), 3, "USD"),
                dates=due_dates(date(2026, 12, 1), Cadence.MONTH, 3),
                every=Cadence.MONTH,
                now=now,
            )
            s.add(
                CardAuthorizationRow(
                    id=f"auth_{n}",
                    company_id=A,
                    customer_id="c1",
                    amount=Decimal("50.00"),
                    currency="USD",
                    status="captured",
                    payment_method_id="pm_1",
                    stripe_customer_id="cus_1",
                    known_invoice_ids=[],
                    placed_on=now.date(),
                    release_at=now + timedelta(days=6),
                    invoice_id=qbo_id,
                    captured_amount=Decimal("50.00"),
                    placed_at=now,
                    captured_at=now,
                    updated_at=now,
                )
            )
            effects.insert(
                s,
                key=f"email:test:{n}",
                kind="email.invoice",
                company_id=A,
                payload={"invoice_id": qbo_id},
                now=now,
            )


def test_the_customer_page_shows_every_section(ctx: Context) -> None:
    seed_company(ctx, A)
    now = ctx.clock()
    with ctx.db.transaction() as s:
        s.add(card_on_file("pm_1", A, "c1", now, is_default=True))
        autopay.enroll(
            s, realm_id=A, customer_id="c1", method_id="pm_1", cap=None, consent_reference="r", now=now
        )
        effects.insert(
            s, key="sms:test:1", kind="sms.message", company_id=A, payload={"customer_id": "c1"}, now=now
        )
    collectors.note(ctx, A, "c1", "Asked for a copy of INV-1", by="ana@firm.test")
    collectors.call(ctx, A, "c1", CallOutcome.VOICEMAIL, "left a message", by="ana@firm.test")
    collectors.promise(
        ctx, A, "c1", on=now.date() + timedelta(days=3), amount=Decimal("60.00"), by="ana@firm.test"
    )
    _history(ctx, 10, 1)
    client = signed_in(ctx, "reader@firm.test", {A: StaffRole.READ_ONLY})
    page = client.get(PAGE)
    assert page.status_code == 200
    text = page.text
    for title in (
        "Invoices",
        "Payments",
        "Methods on file",
        "Autopay",
        "Installment plans",
        "Card holds",
        "Promises to pay",
        "Messages sent",
        "Notes and calls",
    ):
        assert f"<h2>{title}</h2>" in text, title
    assert "On since" in text and "Visa ending 4242" in text and "no cap" in text
    assert "Asked for a copy of INV-1" in text and "call (voicemail)" in text and "left a message" in text
    assert "$60.00" in text and "open" in text
    assert "sms.message" in text and "email.invoice" in text
    assert "$50.00 paid invoice INV-10" in text
    assert "Turn off autopay" not in text  # a reader only sees


def test_the_customer_page_reads_in_the_same_queries_however_long_the_history(ctx: Context) -> None:
    seed_company(ctx, A)
    with ctx.db.transaction() as s:
        s.add(card_on_file("pm_1", A, "c1", ctx.clock(), is_default=True))
        autopay.enroll(
            s,
            realm_id=A,
            customer_id="c1",
            method_id="pm_1",
            cap=None,
            consent_reference="r",
            now=ctx.clock(),
        )
    _history(ctx, 10, 1)
    client = signed_in(ctx, "owner@firm.test", {A: StaffRole.OWNER})
    client.get(PAGE)
    with counted(ctx) as short:
        assert client.get(PAGE).status_code == 200
    _history(ctx, 20, 30)
    with counted(ctx) as long:
        page = client.get(PAGE)
    assert page.status_code == 200 and "INV-49" in page.text
    assert len(long) == len(short), (len(short), len(long))
    assert len(long) <= 16, long
