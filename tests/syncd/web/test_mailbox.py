"""The demo mailbox over a real SmtpSink: list, message page with escaped clickable links, HTML part."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.exceptions import StarletteDeprecationWarning
from starlette.middleware import Middleware

from connectors.email.sink import SmtpSink
from connectors.email.smtp import SmtpMailer
from syncd.mail.message import build_message
from syncd.mail.templates import EmailRenderer
from syncd.ports.email import EmailMessage, SmtpSettings
from syncd.web.csrf import Csrf
from syncd.web.mailbox import linkify, mailbox_routes
from syncd.web.portal import portal_routes
from syncd.web.security import SecurityHeadersMiddleware
from syncd.web.templating import Templating

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink() as s:
        yield s


@pytest.fixture
def mailer(sink: SmtpSink) -> SmtpMailer:
    return SmtpMailer(SmtpSettings(host="127.0.0.1", port=sink.port, security="none", timeout_seconds=5))


@pytest.fixture
def client(sink: SmtpSink, backend: Any) -> Iterator[Any]:
    templates = Templating(None)
    routes = mailbox_routes(sink.mailbox, templates) + portal_routes(backend, templates, Csrf(b"m" * 32))
    app = Starlette(routes=routes, middleware=[Middleware(SecurityHeadersMiddleware)])
    with TestClient(app, follow_redirects=False) as c:
        yield c


def invoice_email(portal_url: str, customer: str = "Blue Bottle Bakery") -> EmailMessage:
    rendered = EmailRenderer(None).render(
        "invoice_new",
        {
            "company_name": "Acme Alarm Co",
            "customer_name": customer,
            "invoice_number": "INV-1042",
            "amount_due": Decimal("73.40"),
            "currency": "USD",
            "due_date": date(2026, 4, 4),
            "portal_url": portal_url,
        },
    )
    return build_message(
        rendered=rendered,
        to="bakery@example.org",
        from_addr="billing@acme.example",
        effect_key="email:invoice_new:1",
    )


def test_list_then_open_then_click_through_to_the_portal(
    client: Any, mailer: SmtpMailer, sink: SmtpSink
) -> None:
    mailer.send(invoice_email("http://testserver/i/tok-open"))
    mailer.send(invoice_email("http://testserver/i/tok-open", customer="Second"))
    listing = client.get("/mailbox")
    assert listing.status_code == 200
    assert listing.text.count("bakery@example.org") == 2
    links = re.findall(r'href="/mailbox/(\d+)"', listing.text)
    assert links == ["2", "1"]  # newest first
    assert "Invoice INV-1042 from Acme Alarm Co: $73.40 due April 4, 2026" in listing.text

    page = client.get("/mailbox/1")
    assert page.status_code == 200
    received = sink.mailbox.get("1")
    assert received is not None
    escaped_id = received.message_id.replace("<", "&lt;").replace(">", "&gt;")
    assert "Message-ID" in page.text and escaped_id in page.text
    assert (
        '<a href="http://testserver/i/tok-open" rel="noopener noreferrer">http://testserver/i/tok-open</a>'
        in page.text
    )
    assert 'sandbox="allow-popups allow-top-navigation-by-user-activation"' in page.text
    assert 'src="/mailbox/1/html"' in page.text

    href = re.search(r'<a href="(http://testserver/i/[^"]+)"', page.text)
    assert href is not None
    portal = client.get(href.group(1))
    assert portal.status_code == 200 and "Invoice INV-1042" in portal.text


def test_html_part_is_served_sandboxed_with_its_own_csp(client: Any, mailer: SmtpMailer) -> None:
    mailer.send(invoice_email("http://testserver/i/tok-open"))
    r = client.get("/mailbox/1/html")
    assert r.status_code == 200
    csp = r.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp and "frame-ancestors 'self'" in csp
    assert r.headers["x-frame-options"] == "SAMEORIGIN"
    assert '<base target="_top">' in r.text
    assert 'href="http://testserver/i/tok-open"' in r.text


def test_hostile_text_is_escaped_and_only_urls_become_links(client: Any, mailer: SmtpMailer) -> None:
    hostile = '<script>alert(1)</script> "><img src=x onerror=alert(2)>'
    mailer.send(invoice_email('http://testserver/i/tok-open?a=1&b="><script>x</script>', customer=hostile))
    page = client.get("/mailbox/1").text
    assert "<script>" not in page
    assert "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert '<a href="http://testserver/i/tok-open?a=1&amp;b=" rel="noopener noreferrer">' in page


def test_unknown_message_is_404(client: Any) -> None:
    assert client.get("/mailbox/99").status_code == 404
    assert client.get("/mailbox/99/html").status_code == 404
    assert "No messages yet" in client.get("/mailbox").text


def test_linkify() -> None:
    out = linkify("see https://a.example/x?y=1&z=2. and <b>http://b.example</b>, javascript:alert(1)")
    link = "https://a.example/x?y=1&amp;z=2"
    assert str(out) == (
        f'see <a href="{link}" rel="noopener noreferrer">{link}</a>. '
        'and &lt;b&gt;<a href="http://b.example" rel="noopener noreferrer">http://b.example</a>&lt;/b&gt;, '
        "javascript:alert(1)"
    )
