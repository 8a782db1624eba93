"""Everything outside syncd, on loopback in the test process: the QBO and Stripe simulators and an
SMTP sink, started and stopped together. The in-process ``Loop`` and the ``syncd run`` ``World``
are both built on it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from connectors.email.sink import SmtpSink
from connectors.quickbooks.simulator import QboSimulator
from connectors.stripe.simulator import StripeSimulator
from syncd.clock import Clock

COMPANY_NAME = "Northwind IT Services"
SENDER = "billing@northwind.test"


@dataclass
class Outside:
    """The simulated QBO company, Stripe account and mail server syncd talks to."""

    qbo: QboSimulator
    stripe: StripeSimulator
    sink: SmtpSink

    @property
    def realm(self) -> str:
        return self.qbo.realm_id


@contextmanager
def outside(
    *,
    invoices: int,
    clock: Clock | None = None,
    currencies: tuple[str, ...] = ("USD", "CAD"),
    settlement_currency: str | None = None,
) -> Iterator[Outside]:
    """QBO (seed 7, ``invoices`` open invoices in ``currencies``, on ``clock``), Stripe and the sink,
    stopped in reverse order afterwards."""
    with (
        QboSimulator(seed=7, invoices=invoices, now=clock, currencies=currencies) as qbo,
        StripeSimulator(settlement_currency=settlement_currency) as stripe,
        SmtpSink() as sink,
    ):
        yield Outside(qbo, stripe, sink)
