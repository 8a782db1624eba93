"""The demo path in a real Chromium: open the email in the mailbox, click through, pay, reach Checkout."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route
from strictness import unavailable

from connectors.email.sink import SmtpSink
from connectors.email.smtp import SmtpMailer
from connectors.serving import ThreadedServer
from syncd.domain import InvoiceLine, InvoiceStatus
from syncd.mail.message import build_message
from syncd.mail.templates import EmailRenderer
from syncd.ports.email import SmtpSettings
from syncd.ports.portal import PaymentState
from syncd.web.csrf import Csrf
from syncd.web.mailbox import mailbox_routes
from syncd.web.portal import portal_routes
from syncd.web.security import SecurityHeadersMiddleware
from syncd.web.templating import Templating

pytestmark = pytest.mark.browser
CHROMIUM = os.environ.get("SYNCD_CHROMIUM", "/usr/bin/chromium")


def _need_chromium() -> None:
    if shutil.which(CHROMIUM) is None:
        unavailable(f"chromium not found at {CHROMIUM}")


async def fake_checkout(request: Request) -> Response:
    return HTMLResponse("<!doctype html><title>Checkout</title><h1>Fake checkout</h1>")


@pytest.fixture
def servers(backend: Any) -> Iterator[tuple[ThreadedServer, ThreadedServer, SmtpSink]]:
    _need_chromium()
    checkout = ThreadedServer(Starlette(routes=[Route("/c/pay", fake_checkout)]))
    with checkout, SmtpSink() as sink:
        backend.checkout_url = f"{checkout.url}/c/pay"
        templates = Templating(None)
        routes = portal_routes(backend, templates, Csrf(b"b" * 32)) + mailbox_routes(sink.mailbox, templates)
        middleware = [Middleware(SecurityHeadersMiddleware, checkout_origin=checkout.url)]
        with ThreadedServer(Starlette(routes=routes, middleware=middleware)) as portal:
            yield portal, checkout, sink


def send_invoice_email(sink: SmtpSink, portal_url: str) -> None:
    rendered = EmailRenderer(None).render(
        "invoice_new",
        {
            "company_name": "Acme Alarm Co",
            "brand_color": "#0b5394",
            "customer_name": "Blue Bottle Bakery",
            "invoice_number": "INV-1042",
            "amount_due": Decimal("73.40"),
            "currency": "USD",
            "due_date": date(2026, 4, 4),
            "portal_url": portal_url,
        },
    )
    message = build_message(
        rendered=rendered, to="bakery@example.org", from_addr="billing@acme.example", effect_key="email:1"
    )
    SmtpMailer(SmtpSettings(host="127.0.0.1", port=sink.port, security="none", timeout_seconds=5)).send(
        message
    )


def test_mailbox_to_portal_to_checkout_without_javascript(servers: Any, backend: Any) -> None:
    from playwright.sync_api import sync_playwright

    portal, checkout, sink = servers
    send_invoice_email(sink, f"{portal.url}/i/tok-open")
    csp_errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            context = browser.new_context(java_script_enabled=False, viewport={"width": 360, "height": 740})
            page = context.new_page()
            page.on(
                "console",
                lambda m: csp_errors.append(m.text) if "Content Security Policy" in m.text else None,
            )
            page.goto(f"{portal.url}/mailbox")
            page.get_by_role("link", name="Invoice INV-1042 from Acme Alarm Co").click()
            frame = page.frame_locator("iframe.html-part")
            frame.get_by_role("link", name="View and pay invoice").click()
            page.wait_for_url(f"{portal.url}/i/tok-open")
            assert page.get_by_role("heading", name="Invoice INV-1042").is_visible()

            page.get_by_label("Amount to pay (USD)").fill("5")
            page.get_by_role("button", name="Continue to payment").click()
            assert page.get_by_role("alert").inner_text().startswith("Enter at least $10.00")

            page.get_by_label("Amount to pay (USD)").fill("25.00")
            page.get_by_role("button", name="Continue to payment").click()
            page.wait_for_url(f"{checkout.url}/c/pay")
            assert page.get_by_role("heading", name="Fake checkout").is_visible()
            assert backend.started == [("tok-open", Decimal("25.00"))]
        finally:
            browser.close()
    assert csp_errors == []


def test_portal_is_styled_by_brand_and_fits_a_phone(servers: Any) -> None:
    from playwright.sync_api import sync_playwright

    portal, _checkout, _sink = servers
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 360, "height": 740})
            page.goto(f"{portal.url}/i/tok-open")
            header_bg = page.eval_on_selector("header.brand", "e => getComputedStyle(e).backgroundColor")
            assert header_bg == "rgb(11, 83, 148)"  # #0b5394 via the theme stylesheet
            button_bg = page.eval_on_selector("form.pay button", "e => getComputedStyle(e).backgroundColor")
            assert button_bg == "rgb(56, 118, 29)"  # accent #38761d
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0
        finally:
            browser.close()


LONG = "Annual maintenance of the fire alarm panel, 22 detectors and the backup battery bank, Building C"
PHONE_STATES: dict[str, dict[str, Any]] = {
    "paid": {"status": InvoiceStatus.PAID, "balance": Decimal("0"), "amount_paid": Decimal("93.40")},
    "processing": {"payment_state": PaymentState.PROCESSING},
    "voided": {"status": InvoiceStatus.VOIDED, "balance": Decimal("0")},
    "contact": {"payment_methods": ()},
    "long": {
        "currency": "KWD",
        "lines": (
            InvoiceLine(LONG, Decimal("12.5"), Decimal("1234.125"), Decimal("15426.563")),
            InvoiceLine("Call-out", Decimal("1"), Decimal("99999.999"), Decimal("99999.999")),
        ),
        "tax": Decimal("0"),
        "total": Decimal("115426.562"),
        "amount_paid": Decimal("0"),
        "balance": Decimal("115426.562"),
        "memo": "PO-" + "7" * 60,
        "doc_number": "INV-2026-000000001042",
    },
}


@pytest.mark.parametrize("state", sorted(PHONE_STATES))
def test_every_page_state_fits_320_px(servers: Any, backend: Any, view_factory: Any, state: str) -> None:
    """No state of the page scrolls sideways or cuts a line item at the narrowest phone width."""
    from playwright.sync_api import sync_playwright

    portal, _checkout, _sink = servers
    backend.views["tok-open"] = view_factory(**PHONE_STATES[state])
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 320, "height": 640})
            page.goto(f"{portal.url}/i/tok-open")
            found = page.evaluate(
                """() => ({
                  overflow: document.documentElement.scrollWidth - window.innerWidth,
                  // A cell is cut when it leaves its card's content box or clips its own text.
                  cut: [...document.querySelectorAll('table.lines th, table.lines td')]
                    .filter((c) => {
                      const card = c.closest('.card');
                      const style = getComputedStyle(card);
                      const edge = card.getBoundingClientRect().right
                        - parseFloat(style.paddingRight) - parseFloat(style.borderRightWidth);
                      const right = c.getBoundingClientRect().right;
                      return right > edge + 0.5 || c.scrollWidth > c.clientWidth + 1;
                    })
                    .map((c) => c.textContent.trim()),
                })"""
            )
            assert found["overflow"] <= 0 and found["cut"] == [], found
        finally:
            browser.close()
