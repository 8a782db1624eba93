"""``syncd bench --autopay N``: autopay notices for N enrolled customers' invoices planned and
queued (one company cycle's autopay step), then rendered and handed to a mailer that keeps
nothing (the effect worker, without SMTP), on SQLite in a temporary directory. Target: 10,000
notices in < 60 s."""

from __future__ import annotations

import dataclasses
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from syncd import config
from syncd.bootstrap import build_context
from syncd.ports.email import EmailMessage
from syncd.secrets import SecretBox
from syncd.stages import autopay
from syncd.store.migrate import upgrade
from syncd.store.models import (
    AutopayEnrollment,
    Company,
    CustomerRow,
    InvoiceRow,
    SavedMethodRow,
)
from syncd.worker import run_effects

REALM = "9130350000000001"
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
CHUNK = 2_000


class _Discard:
    """A mailer that keeps nothing: the figure is syncd's own work, not an SMTP server's."""

    def __init__(self) -> None:
        self.sent = 0

    def send(self, message: EmailMessage) -> None:
        self.sent += 1


def _seed(session: Any, first: int, last: int) -> None:
    due = NOW.date() + timedelta(days=3)
    for n in range(first, last):
        customer, pm = str(1000 + n), f"pm_bench_{n}"
        session.add(
            CustomerRow(
                company_id=REALM,
                qbo_id=customer,
                display_name=f"Customer {n}",
                email=f"c{n}@example.com",
                currency="USD",
                updated_at=NOW,
            )
        )
        session.add(
            InvoiceRow(
                company_id=REALM,
                qbo_id=str(50_000 + n),
                doc_number=f"A-{n}",
                customer_id=customer,
                customer_name=f"Customer {n}",
                currency="USD",
                txn_date=NOW.date(),
                due_date=due,
                total=Decimal("99.00"),
                balance=Decimal("99.00"),
                tax=Decimal("0"),
                lines=[],
                status="open",
                sync_token="0",  # noqa: S106 (a QBO SyncToken, not a secret)
                qbo_updated_at=NOW,
                mirrored_at=NOW,
            )
        )
        session.add(
            SavedMethodRow(
                payment_method_id=pm,
                company_id=REALM,
                qbo_customer_id=customer,
                stripe_customer_id=f"cus_bench_{n}",
                kind="card",
                brand="visa",
                last4="4242",
                exp_month=8,
                exp_year=2030,
                is_default=True,
                attached_at=NOW,
                updated_at=NOW,
            )
        )
        session.add(
            AutopayEnrollment(
                company_id=REALM,
                customer_id=customer,
                payment_method_id=pm,
                consent_reference=f"autopay:bench:{n}",
                enrolled_at=NOW,
                updated_at=NOW,
            )
        )


def bench_autopay(charges: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = config.parse(
            {
                "secret_key": SecretBox.generate(),
                "database": {"url": f"sqlite:///{Path(tmp) / 'bench.db'}"},
                "web": {"public_url": "https://pay.example.com"},
                "company": [{"realm_id": REALM, "timezone": "UTC", "autopay": {"enabled": True}}],
            }
        )
        mailer = _Discard()
        ctx = dataclasses.replace(build_context(settings, clock=lambda: NOW), mailer=mailer)
        upgrade(ctx.db)
        with ctx.db.transaction() as session:
            session.add(Company(realm_id=REALM, name="Bench Co", created_at=NOW))
        for first in range(0, charges, CHUNK):
            with ctx.db.transaction() as session:
                _seed(session, first, min(first + CHUNK, charges))
        started = time.perf_counter()
        queued = autopay.run(ctx, REALM)
        planned = time.perf_counter() - started
        while run_effects(ctx, owner="bench", limit=500, kinds=["email.autopay_notice"]):
            pass
        total = time.perf_counter() - started
        ctx.db.dispose()
    return {
        "charges": charges,
        "notices_queued": queued,
        "planned_and_queued_s": round(planned, 2),
        "notices_rendered": mailer.sent,
        "planned_queued_rendered_s": round(total, 2),
        "target_s": 60,
    }
