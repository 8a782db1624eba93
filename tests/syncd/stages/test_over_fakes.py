"""The loop's first cycle over the in-memory fakes of QuickBooks, Stripe and the mailer (no HTTP,
no simulator): an open invoice gets its payment link, written back on the invoice, and its customer
the email carrying it."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from fakes.context import fakes_context
from fakes.mail import FakeMailer
from fakes.quickbooks import FakeQuickBooks

from syncd.companies import ensure_companies
from syncd.stages.cycle import run_cycle
from syncd.store.engine import Database
from syncd.worker import run_effects

AT = datetime(2026, 5, 4, 15, tzinfo=UTC)  # 11:00 in New York: within sending hours


def test_first_cycle_links_and_emails_an_open_invoice(sqlite_db: Database, tmp_path: Path) -> None:
    qbo = FakeQuickBooks("r1", clock=lambda: AT)
    customer = qbo.add_customer("Acme Ltd", "ap@acme.example")
    invoice = qbo.add_invoice(customer, Decimal("73.40"))
    mailer = FakeMailer()
    ctx = fakes_context(sqlite_db, tmp_path, qbo, at=AT, company={"first_sync": "email_open"}, mailer=mailer)
    ensure_companies(ctx)
    run_cycle(ctx, "r1")
    while run_effects(ctx, owner="test"):
        pass
    [sent] = mailer.sent
    assert sent.to == "ap@acme.example"
    link = qbo.links[invoice.qbo_id]
    assert link.startswith("https://pay.example.com/") and link in sent.text
