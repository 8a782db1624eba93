"""Fixtures for the portal tests: an in-memory PortalBackend and a TestClient over the routes."""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.exceptions import StarletteDeprecationWarning
from starlette.middleware import Middleware

from syncd.context import Context
from syncd.domain import InvoiceLine, InvoiceStatus
from syncd.errors import PermanentError, SyncdError
from syncd.ports.portal import Branding, Consenting, InvoiceView, Outcome, PaymentState
from syncd.web.csrf import Csrf
from syncd.web.portal import portal_routes
from syncd.web.security import SecurityHeadersMiddleware
from syncd.web.templating import Templating

with warnings.catch_warnings():
    # starlette 1.x prefers httpx2 for its TestClient; httpx is what the project installs.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

CHECKOUT = "https://checkout.stripe.com/c/pay/cs_test_123"
SECRET = b"k" * 32


@pytest.fixture
def wakes(ctx: Context) -> list[tuple[str, str | None]]:
    """The (job, realm) wake-ups the app asks of ``ctx`` (the test module's own context)."""
    seen: list[tuple[str, str | None]] = []
    ctx.wake = lambda job, realm: seen.append((job, realm))
    return seen


def make_view(token: str = "tok-open", **changes: object) -> InvoiceView:  # noqa: S107
    branding = Branding(
        name="Acme Alarm Co",
        logo_url="https://cdn.example.com/logo.png",
        primary_color="#0b5394",
        accent_color="#38761d",
        contact_email="billing@acme.example",
        contact_phone="+1 (555) 010-0200",
        message="Thanks for being a customer since 2019.",
    )
    view = InvoiceView(
        token=token,
        branding=branding,
        doc_number="INV-1042",
        customer_name="Blue Bottle Bakery",
        txn_date=date(2026, 3, 5),
        due_date=date(2026, 4, 4),
        currency="USD",
        lines=(
            InvoiceLine("Monitoring, March", Decimal("1"), Decimal("49.95"), Decimal("49.95")),
            InvoiceLine("Sensor battery", Decimal("3"), Decimal("12.125"), Decimal("36.38")),
        ),
        tax=Decimal("7.07"),
        total=Decimal("93.40"),
        amount_paid=Decimal("20.00"),
        balance=Decimal("73.40"),
        status=InvoiceStatus.PARTIAL,
        payment_state=PaymentState.NONE,
        overdue=True,
        allow_partial=True,
        min_partial=Decimal("10.00"),
        memo="PO 7781",
    )
    return dataclasses.replace(view, **changes)  # type: ignore[arg-type]


class FakeBackend:
    """In-memory PortalBackend recording what the portal asked of it."""

    def __init__(self) -> None:
        self.views: dict[str, InvoiceView] = {"tok-open": make_view()}
        self.revoked: set[str] = {"tok-revoked"}
        self.started: list[tuple[str, Decimal | None]] = []
        self.refusal: str | None = None
        self.outcomes: dict[str, Outcome] = {}
        self.outcome_calls: list[tuple[str, str | None]] = []
        self.pdfs: dict[str, bytes] = {}
        self.checkout_url = CHECKOUT
        # Raised by start_payment and invoice_pdf: a lost connection, a remote that is down.
        self.error: SyncdError | None = None

    def invoice(self, token: str) -> InvoiceView | None:
        if token in self.revoked:
            return None
        return self.views.get(token)

    def start_payment(self, token: str, amount: Decimal | None, keep: Consenting | None = None) -> str:
        if self.error is not None:
            raise self.error
        if self.refusal is not None:
            raise PermanentError(self.refusal)
        self.started.append((token, amount))
        return self.checkout_url

    def outcome(self, token: str, session_id: str | None) -> Outcome:
        self.outcome_calls.append((token, session_id))
        return self.outcomes.get(token, Outcome.PENDING)

    def invoice_pdf(self, token: str) -> bytes | None:
        if self.error is not None:
            raise self.error
        return self.pdfs.get(token)


def make_app(backend: FakeBackend, override_dir: Path | None = None) -> Starlette:
    routes = portal_routes(backend, Templating(override_dir), Csrf(SECRET))
    return Starlette(routes=routes, middleware=[Middleware(SecurityHeadersMiddleware)])


@pytest.fixture
def backend() -> FakeBackend:
    return FakeBackend()


@pytest.fixture
def client(backend: FakeBackend) -> Iterator[TestClient]:
    with TestClient(make_app(backend), follow_redirects=False) as c:
        yield c


@pytest.fixture
def https_client(backend: FakeBackend) -> Iterator[TestClient]:
    with TestClient(make_app(backend), base_url="https://pay.example.com", follow_redirects=False) as c:
        yield c


@pytest.fixture
def view_factory() -> object:
    return make_view


@pytest.fixture
def client_factory(backend: FakeBackend) -> Iterator[object]:
    """``client_factory(override_dir)`` for tests that customise templates."""
    opened: list[TestClient] = []

    def build(override_dir: Path | None = None) -> TestClient:
        c = TestClient(make_app(backend, override_dir), follow_redirects=False)
        opened.append(c)
        return c

    yield build
    for c in opened:
        c.close()
