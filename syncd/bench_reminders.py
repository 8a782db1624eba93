"""``syncd bench --reminders``: one reminder run over a big overdue book (10,000 invoices across
5,000 customers by default) plans every customer's message, then the worker renders each one and
sends the texts; seconds for each phase and peak RSS. The mailer counts messages instead of
sending them; texts go to the Twilio simulator (one sender at 1 message a second, as a long code),
which queues them for their turn: the figures say how long its queue then is against the four
hours Twilio keeps a sender's queue, and the narrowest gap between two texts it sent."""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from sqlalchemy import func, insert, select

from connectors.sms.simulator import TwilioSimulator
from syncd.bench_loop import peak_rss_mb
from syncd.bootstrap import build_context
from syncd.catalog import EffectKind
from syncd.config import parse
from syncd.context import Context
from syncd.daemon import configure_logging
from syncd.ports.email import EmailMessage
from syncd.secrets import SecretBox
from syncd.stages.reminders import NO_TEXTS, remind
from syncd.stages.texts import text_channel
from syncd.store import migrate
from syncd.store.models import Company, CustomerRow, Effect, InvoiceRow, PortalLink, TextNumber
from syncd.worker import run_effects

REALM = "4620816365000000001"
STEP_AGO = (11, 4)  # each customer's invoices are 11 and 4 days overdue: +10 and +3 reached
TEXTED_EVERY = 2  # every second customer agreed to texts (the +10 step goes by email and text)
TWILIO_MPS = 1.0  # a long code's rate
TWILIO_QUEUE_SECONDS = 4 * 3600  # Twilio fails what would wait longer in a sender's queue (30001)


class _Counting:
    """A mailer that keeps only a count (the rendering is what is measured)."""

    def __init__(self) -> None:
        self.sent = 0

    def send(self, message: EmailMessage) -> None:
        self.sent += 1


def _seed(ctx: Context, invoices: int, customers: int, now: datetime) -> None:
    today = now.date()
    with ctx.db.transaction() as session:
        session.add(Company(realm_id=REALM, name="Bench Co", timezone="UTC", created_at=now))
        session.flush()
        company = session.get(Company, REALM)
        assert company is not None
        company.last_pull_at = company.first_sync_at = now - timedelta(days=60)
        session.execute(
            insert(CustomerRow),
            [
                {
                    "company_id": REALM,
                    "qbo_id": str(c),
                    "display_name": f"Customer {c}",
                    "email": f"ap{c}@example.com",
                    "currency": "USD",
                    "updated_at": now,
                }
                for c in range(1, customers + 1)
            ],
        )
        rows, links = [], []
        for n in range(invoices):
            customer = n % customers + 1
            due = today - timedelta(days=STEP_AGO[(n // customers) % 2])
            qbo_id = str(100_000 + n)
            rows.append(
                {
                    "company_id": REALM,
                    "qbo_id": qbo_id,
                    "doc_number": str(1000 + n),
                    "customer_id": str(customer),
                    "customer_name": f"Customer {customer}",
                    "currency": "USD",
                    "txn_date": due - timedelta(days=30),
                    "due_date": due,
                    "total": Decimal("120.00"),
                    "balance": Decimal("120.00"),
                    "tax": Decimal(0),
                    "lines": [],
                    "status": "open",
                    "sync_token": "0",
                    "qbo_updated_at": now,
                    "mirrored_at": now,
                }
            )
            links.append(
                {
                    "digest": hashlib.sha256(qbo_id.encode()).hexdigest(),
                    "company_id": REALM,
                    "invoice_id": qbo_id,
                    "created_at": now - timedelta(days=45),
                    "notified_at": now - timedelta(days=45),
                }
            )
        session.execute(insert(InvoiceRow), rows)
        session.execute(insert(PortalLink), links)
        session.execute(
            insert(TextNumber),
            [
                {
                    "company_id": REALM,
                    "customer_id": str(c),
                    "number": f"+1415555{c:04d}",
                    "source": "qbo_mobile",
                    "consent_text": "attested by the company",
                    "consented_at": now - timedelta(days=90),
                    "updated_at": now - timedelta(days=90),
                }
                for c in range(1, customers + 1, TEXTED_EVERY)
            ],
        )


def _gaps(sent: list[float]) -> float | None:
    """The narrowest gap, in seconds, between two consecutive texts of one sender."""
    ordered = sorted(sent)
    return min((b - a for a, b in itertools.pairwise(ordered)), default=None)


def bench_reminders(invoices: int = 10_000, customers: int = 5_000) -> dict[str, Any]:
    """Plan and render a reminder run and send its texts; the figures, with the messages counted."""
    now = datetime.now(UTC).replace(hour=15, minute=0, second=0, microsecond=0)
    with TemporaryDirectory(prefix="syncd-bench-") as state, TwilioSimulator(mps=TWILIO_MPS) as twilio:
        settings = parse(
            {
                "secret_key": SecretBox.generate(),
                "database": {"url": f"sqlite:///{Path(state)}/syncd.db"},
                # Status callbacks go nowhere (port 9, discard): the bench has no web server.
                "web": {"public_url": "http://127.0.0.1:9"},
                "company": [
                    {
                        "realm_id": REALM,
                        "timezone": "UTC",
                        "collections": {"policy": True},
                        "sms": {
                            "enabled": True,
                            "account_sid": twilio.account_sid,
                            "auth_token": twilio.auth_token,
                            "from_number": twilio.number,
                            "api_base": twilio.url,
                        },
                    }
                ],
            }
        )
        mailer = _Counting()
        ctx = dataclasses.replace(build_context(settings, clock=lambda: now), mailer=mailer)
        try:
            migrate.upgrade(ctx.db)
            _seed(ctx, invoices, customers, now)
            started = time.perf_counter()
            queued = remind(ctx, REALM, text_channel(ctx, REALM) or NO_TEXTS)
            planned = time.perf_counter()
            while run_effects(ctx, owner="bench", kinds=[EffectKind.EMAIL_DUNNING], limit=500):
                pass
            rendered = time.perf_counter()
            while run_effects(ctx, owner="bench", kinds=[EffectKind.SMS_MESSAGE], limit=500):
                pass
            texted = time.perf_counter()
            with ctx.db.transaction() as session:
                done = session.scalar(
                    select(func.count()).where(
                        Effect.kind == EffectKind.EMAIL_DUNNING, Effect.done_at.is_not(None)
                    )
                )
                texts = dict(
                    session.execute(
                        select(Effect.status, func.count())
                        .where(Effect.kind == EffectKind.SMS_MESSAGE)
                        .group_by(Effect.status)
                    ).all()
                )
            with twilio.state.lock:
                accepted = [m for m in twilio.state.messages if m.direction == "outbound-api"]
                slots = [m.due for m in accepted]
            sent = [m.due for m in accepted if m.sent is not None]  # released by the simulator so far
        finally:
            ctx.db.dispose()
    return {
        "invoices": invoices,
        "customers": customers,
        "messages_queued": queued,
        "messages_rendered": mailer.sent,
        "effects_done": int(done or 0),
        "texts_queued": sum(texts.values()),
        "texts_accepted_by_twilio": len(accepted),
        "texts_not_done": sum(n for status, n in texts.items() if status != "done"),
        "plan_seconds": round(planned - started, 2),
        "render_seconds": round(rendered - planned, 2),
        "text_send_seconds": round(texted - rendered, 2),
        "total_seconds": round(texted - started, 2),
        "target_seconds": 60,
        "twilio_mps": TWILIO_MPS,
        "twilio_queue_seconds": round(max(slots) - min(slots), 1) if slots else 0,
        "twilio_queue_limit_seconds": TWILIO_QUEUE_SECONDS,
        "twilio_narrowest_gap_seconds": round(gap, 3) if (gap := _gaps(sent)) is not None else None,
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


if __name__ == "__main__":
    configure_logging("error", stream=sys.stderr)  # stdout is the figures
    for key, value in bench_reminders().items():
        print(f"{key:<18} {value}")
