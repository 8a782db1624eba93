"""Autopay scenes for tests: one loop over both simulators (syncd's clock and the Stripe
simulator's moved together), customer ``n`` with one invoice due in five days and test card ``n``
on file, enrolled in autopay unless asked otherwise."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

import requests
from loop_harness import Loop, running_loop
from method_rows import card_on_file

from connectors.stripe.simulator import StripeSimulator
from syncd.stages import stripe_customers
from syncd.stages.cycle import run_cycle
from syncd.store import autopay as store
from syncd.store.models import AutopayCharge, MethodConsent

AUTOPAY = {"enabled": True, "charge_hour": 10, "notice_days": 3, "retry_days": [2]}
SKIP = re.compile(r"https?://[^\s\"'<>]+/autopay/[A-Za-z0-9_-]{32}")


class HasStripe(Protocol):
    @property
    def stripe(self) -> StripeSimulator: ...


class MovableClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Scene:
    """One loop; customer ``n`` has one invoice due in 5 days and card ``n`` on file."""

    loop: Loop
    clock: MovableClock
    invoice_ids: list[str]
    method_ids: list[str]

    @property
    def invoice_id(self) -> str:
        return self.invoice_ids[0]

    @property
    def method_id(self) -> str:
        return self.method_ids[0]

    @property
    def realm(self) -> str:
        return self.loop.realm

    def cycle(self, days: int = 0, hour: int | None = None) -> None:
        """Move both simulators' clocks and syncd's on, then run a company cycle and its effects."""
        if days:
            self.clock.now += timedelta(days=days)
            self.loop.stripe.clock.advance(timedelta(days=days))
        if hour is not None:
            self.clock.now = self.clock.now.replace(hour=hour)
        run_cycle(self.loop.ctx, self.realm)
        self.loop.drain()

    def charges(self, n: int = 0) -> list[AutopayCharge]:
        with self.loop.ctx.db.transaction() as s:
            return store.charges_of(s, self.realm, self.invoice_ids[n])

    def charges_customer(self, n: int) -> str:
        """The QBO customer of invoice ``n``."""
        invoice = self.loop.qbo.entity("Invoice", self.invoice_ids[n])
        assert invoice is not None
        return str(invoice["CustomerRef"]["value"])

    def emails(self, word: str, n: int = 0) -> list[Any]:
        invoice = self.loop.qbo.entity("Invoice", self.invoice_ids[n])
        assert invoice is not None
        number = f" {invoice['DocNumber']}"
        return [m for m in self.loop.sink.mailbox.all() if word in m.subject and number in m.subject]

    def intents(self, n: int | None = None) -> list[dict[str, Any]]:
        found = self.loop.stripe.objects("payment_intent")
        return [i for i in found if n is None or i["metadata"].get("invoice_ids") == self.invoice_ids[n]]

    def qbo_payments(self, n: int = 0) -> list[dict[str, Any]]:
        return [
            p
            for p in self.loop.qbo.entities("Payment")
            if any(
                t.get("TxnId") == self.invoice_ids[n]
                for line in p.get("Line", [])
                for t in line.get("LinkedTxn", [])
            )
        ]


def attach(sims: HasStripe, token: str, stripe_customer: str) -> str:
    """A test card put on file at the Stripe simulator (of a loop or a world), as setup-mode
    Checkout would leave it."""
    answer = requests.post(
        f"{sims.stripe.url}/v1/payment_methods/{token}/attach",
        data={"customer": stripe_customer},
        headers={"Authorization": f"Bearer {sims.stripe.api_key}"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["id"])


@contextmanager
def autopay_scene(tmp_path: Path, *methods: str, enroll: bool = True, **company: Any) -> Iterator[Scene]:
    """``methods``: Stripe test payment methods, one customer each (default one Visa)."""
    clock = MovableClock(datetime.now(UTC).replace(hour=11, minute=0, second=0, microsecond=0))
    with running_loop(tmp_path, invoices=0, clock=clock, timezone="UTC", autopay=AUTOPAY, **company) as loop:
        loop.stripe.webhooks.paused = True  # delivered when a test flushes them
        customers = [c["Id"] for c in loop.qbo.entities("Customer")]
        customers += [
            loop.qbo.create_entity(
                "Customer",
                {"DisplayName": f"Autopay {n}", "PrimaryEmailAddr": {"Address": f"c{n}@example.com"}},
            )
            for n in range(len(customers), len(methods))
        ]
        due = clock.now.date() + timedelta(days=5)
        invoice_ids = [
            loop.qbo.add_invoice(customers[n], Decimal("120.00"), due_date=due, email=f"c{n}@example.com")
            for n in range(len(methods or ("pm_card_visa",)))
        ]
        run_cycle(loop.ctx, loop.realm)
        loop.drain()
        method_ids = []
        for n, token in enumerate(methods or ("pm_card_visa",)):
            customer = customers[n]
            cus = stripe_customers.ensure(loop.ctx, loop.realm, customer, name=f"C{n}", email=None)
            method_id = attach(loop, token, cus)
            method_ids.append(method_id)
            with loop.ctx.db.transaction() as s:
                s.add(card_on_file(method_id, loop.realm, customer, clock.now, stripe_customer_id=cus))
                if enroll:
                    enroll_customer(s, loop.realm, customer, method_id, clock.now)
        yield Scene(loop, clock, invoice_ids, method_ids)


def enroll_customer(
    s: Any, realm: str, customer: str, method_id: str, now: datetime, reference: str | None = None
) -> None:
    reference = reference or f"autopay:test:{customer}"
    s.add(
        MethodConsent(
            reference=reference,
            company_id=realm,
            qbo_customer_id=customer,
            text="I authorise",
            consented_at=now,
        )
    )
    store.enroll(
        s,
        realm_id=realm,
        customer_id=customer,
        method_id=method_id,
        cap=None,
        consent_reference=reference,
        now=now,
    )
