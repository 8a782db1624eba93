"""The portal pages over a fake backend: content, escaping, CSRF, amounts, states, 404s, headers."""

from __future__ import annotations

import dataclasses
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.testclient import TestClient

from syncd.domain import InvoiceLine, InvoiceStatus
from syncd.errors import AuthError, Credential, TransientError
from syncd.ports.portal import Outcome, PaymentState
from syncd.web.csrf import Csrf
from syncd.web.portal import portal_routes
from syncd.web.security import SecurityHeadersMiddleware
from syncd.web.templating import Templating

HOSTILE = ["<script>alert(1)</script>", '"><img src=x onerror=alert(2)>', "{{7*7}}"]


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF field on the page"
    return match.group(1)


def test_invoice_page_shows_every_field(client: Any) -> None:
    r = client.get("/i/tok-open")
    assert r.status_code == 200
    page = r.text
    for expected in [
        "Acme Alarm Co",
        'src="https://cdn.example.com/logo.png"',
        "Thanks for being a customer since 2019.",
        "billing@acme.example",
        'href="tel:+15550100200"',
        "Invoice INV-1042",
        "Blue Bottle Bakery",
        "March 5, 2026",
        "April 4, 2026",
        "(overdue)",
        "Monitoring, March",
        "$49.95",
        "Sensor battery",
        "$12.125",  # a unit price keeps its precision
        "$36.38",
        "$7.07",  # tax
        "$93.40",  # total
        "$20.00",  # paid
        "$73.40",  # balance
        "PO 7781",
        "Overdue",
        'action="/i/tok-open/pay"',
        'name="amount"',
        'value="73.40"',
        "/i/tok-open/pdf",
        "/assets/theme.css?p=0b5394&amp;a=38761d",
    ]:
        assert expected in page, expected


@pytest.mark.parametrize("hostile", HOSTILE)
def test_qbo_strings_are_escaped_everywhere(
    client: Any, backend: Any, view_factory: Any, hostile: str
) -> None:
    view = view_factory()
    branding = dataclasses.replace(view.branding, name=hostile, message=hostile, contact_email=hostile)
    backend.views["tok-open"] = dataclasses.replace(
        view,
        branding=branding,
        doc_number=hostile,
        customer_name=hostile,
        memo=hostile,
        lines=(InvoiceLine(hostile, Decimal("1"), Decimal("5"), Decimal("5")),),
    )
    for path in ["/i/tok-open", "/i/tok-open/cancelled", "/i/tok-open/return?session_id=cs_1"]:
        page = client.get(path).text
        assert "<script>alert" not in page
        assert "<img src=x" not in page
        # {{7*7}} was not evaluated (random CSRF tokens may contain "49", so look for it as text)
        assert not re.search(r"(?<![\w-])49(?![\w-])", page.replace("$", ""))
        if hostile.startswith("<script"):
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        if hostile == "{{7*7}}":
            assert "{{7*7}}" in page


def test_logo_and_colours_are_validated(client: Any, backend: Any, view_factory: Any) -> None:
    view = view_factory()
    branding = dataclasses.replace(
        view.branding, logo_url="javascript:alert(1)", primary_color="red;}body{x", accent_color="#12345g"
    )
    backend.views["tok-open"] = dataclasses.replace(view, branding=branding)
    page = client.get("/i/tok-open").text
    assert "javascript:" not in page
    assert "<img" not in page
    assert "/assets/theme.css?p=1f4e79&amp;a=2e8540" in page  # the defaults


def test_theme_css_only_emits_hex_colours(client: Any) -> None:
    r = client.get("/assets/theme.css", params={"p": "ff0000", "a": "}body{display:none"})
    assert r.headers["content-type"].startswith("text/css")
    assert "--brand-primary:#ff0000" in r.text
    assert "--brand-on-primary:#000000" in r.text
    assert "display" not in r.text
    css = client.get("/assets/portal.css")
    assert css.status_code == 200 and "--brand-primary" in css.text


def pay(client: Any, token: str = "tok-open", **data: str) -> Any:  # noqa: S107
    return client.post(f"/i/{token}/pay", data=data)


def test_post_without_csrf_token_is_forbidden(client: Any, backend: Any) -> None:
    client.get("/i/tok-open")  # has the cookie, but submits no token
    r = pay(client, amount="10.00")
    assert r.status_code == 403
    assert backend.started == []


def test_post_with_bad_or_foreign_csrf_token_is_forbidden(
    client: Any, backend: Any, view_factory: Any
) -> None:
    backend.views["tok-other"] = view_factory("tok-other")
    other = csrf_token(client.get("/i/tok-other").text)
    good = csrf_token(client.get("/i/tok-open").text)
    assert pay(client, csrf_token=good[:-2] + "xx").status_code == 403
    assert pay(client, csrf_token=other).status_code == 403  # minted for another invoice's form
    client.cookies.clear()
    assert pay(client, csrf_token=good).status_code == 403  # token without its cookie
    assert backend.started == []


def test_good_token_redirects_to_checkout_with_the_amount(client: Any, backend: Any) -> None:
    token = csrf_token(client.get("/i/tok-open").text)
    r = pay(client, csrf_token=token, amount="25.5")
    assert r.status_code == 303
    assert r.headers["location"] == "https://checkout.stripe.com/c/pay/cs_test_123"
    assert backend.started == [("tok-open", Decimal("25.5"))]


def test_full_balance_only_sends_no_amount(client: Any, backend: Any, view_factory: Any) -> None:
    backend.views["tok-open"] = view_factory(allow_partial=False)
    page = client.get("/i/tok-open").text
    assert 'name="amount"' not in page
    assert "Pay $73.40" in page
    r = pay(client, csrf_token=csrf_token(page), amount="1.00")
    assert r.status_code == 303
    assert backend.started == [("tok-open", None)]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("abc", "Enter an amount as a number"),
        ("", "Enter an amount as a number"),
        ("1e3", "Enter an amount as a number"),
        ("NaN", "Enter an amount as a number"),
        ("-5", "Enter an amount as a number"),
        ("0", "greater than zero"),
        ("73.41", "The most you can pay is the balance of $73.40"),
        ("12.345", "at most"),
        ("9.99", "Enter at least $10.00, or the full balance of $73.40"),
    ],
)
def test_bad_amount_rerenders_the_page_with_400(client: Any, backend: Any, raw: str, message: str) -> None:
    token = csrf_token(client.get("/i/tok-open").text)
    r = pay(client, csrf_token=token, amount=raw)
    assert r.status_code == 400
    assert message in r.text
    assert 'role="alert"' in r.text and 'aria-invalid="true"' in r.text
    assert "Invoice INV-1042" in r.text
    assert backend.started == []
    # the re-rendered form still works
    assert pay(client, csrf_token=csrf_token(r.text), amount="$10").status_code == 303


@pytest.mark.parametrize("raw", ["73.40", "$73.40", "USD 73.4", " 10 ", "10.00"])
def test_accepted_amount_spellings(client: Any, backend: Any, raw: str) -> None:
    token = csrf_token(client.get("/i/tok-open").text)
    assert pay(client, csrf_token=token, amount=raw).status_code == 303
    assert backend.started[0][1] == Decimal(raw.replace("$", "").replace("USD", "").strip())


def test_grouped_amount_in_large_invoice(client: Any, backend: Any, view_factory: Any) -> None:
    backend.views["tok-open"] = view_factory(balance=Decimal("5000.00"), total=Decimal("5000.00"))
    token = csrf_token(client.get("/i/tok-open").text)
    assert pay(client, csrf_token=token, amount="1,234.50").status_code == 303
    assert backend.started == [("tok-open", Decimal("1234.50"))]


def test_a_balance_below_the_minimum_can_still_be_paid(client: Any, backend: Any, view_factory: Any) -> None:
    backend.views["tok-open"] = view_factory(balance=Decimal("4.00"))
    token = csrf_token(client.get("/i/tok-open").text)
    assert pay(client, csrf_token=token, amount="4.00").status_code == 303


def test_backend_refusal_is_shown_with_400(client: Any, backend: Any) -> None:
    backend.refusal = "This invoice was just paid."
    token = csrf_token(client.get("/i/tok-open").text)
    r = pay(client, csrf_token=token, amount="20")
    assert r.status_code == 400
    assert "This invoice was just paid." in r.text


def test_a_lost_connection_is_an_honest_503_with_retry_after(client: Any, backend: Any) -> None:
    backend.error = AuthError("Invalid API Key provided", credential=Credential.STRIPE_KEY)
    token = csrf_token(client.get("/i/tok-open").text)
    r = pay(client, csrf_token=token, amount="20")
    assert (r.status_code, r.headers["retry-after"]) == (503, "1800")
    assert "Payments can&#39;t be taken right now" in r.text and "Nothing was charged" in r.text
    assert "Invalid API Key" not in r.text
    r = client.get("/i/tok-open/pdf")
    assert (r.status_code, r.headers["retry-after"]) == (503, "1800")


def test_a_remote_that_is_down_is_a_503_with_its_retry_hint(client: Any, backend: Any) -> None:
    backend.error = TransientError("Stripe answered 503", retry_after=7)
    token = csrf_token(client.get("/i/tok-open").text)
    r = pay(client, csrf_token=token, amount="20")
    assert (r.status_code, r.headers["retry-after"]) == (503, "7")
    assert "briefly unavailable" in r.text
    backend.error = TransientError("QuickBooks timed out")
    r = client.get("/i/tok-open/pdf")
    assert (r.status_code, r.headers["retry-after"]) == (503, "60")


@pytest.mark.parametrize(
    ("changes", "shown", "badge"),
    [
        ({"status": InvoiceStatus.PAID, "balance": Decimal("0")}, "paid in full", "Paid"),
        ({"payment_state": PaymentState.PROCESSING}, "being processed", "Processing"),
        ({"payment_state": PaymentState.PAID}, "paid in full", "Paid"),
        ({"status": InvoiceStatus.VOIDED}, "has been voided", "Voided"),
        ({"payment_state": PaymentState.REVIEW}, "is being reviewed", "In review"),
    ],
)
def test_settled_states_have_no_pay_button(
    client: Any, backend: Any, view_factory: Any, changes: dict[str, object], shown: str, badge: str
) -> None:
    backend.views["tok-open"] = view_factory(**changes)
    r = client.get("/i/tok-open")
    assert r.status_code == 200
    assert shown in r.text
    assert f">{badge}</p>" in r.text
    assert "<form" not in r.text and "csrf_token" not in r.text
    assert "set-cookie" not in r.headers


def test_unknown_and_revoked_links_get_the_same_404(client: Any) -> None:
    bodies = set()
    for path in [
        "/i/tok-unknown",
        "/i/tok-revoked",
        "/i/tok-revoked/cancelled",
        "/i/tok-unknown/return?session_id=cs_1",
        "/i/tok-revoked/pdf",
    ]:
        r = client.get(path)
        assert r.status_code == 404, path
        assert "tok-" not in r.text
        bodies.add(r.text)
    assert len(bodies) == 1


def test_pay_on_revoked_link_is_404_after_a_valid_csrf_check(client: Any, backend: Any) -> None:
    token = csrf_token(client.get("/i/tok-open").text)
    backend.revoked.add("tok-open")
    r = pay(client, csrf_token=token)
    assert r.status_code == 404
    assert r.text == client.get("/i/nope").text


@pytest.mark.parametrize(
    ("outcome", "expected", "refresh"),
    [
        (Outcome.PAID, "Thank you for your payment", False),
        (Outcome.PROCESSING, "Your bank payment is processing", False),
        (Outcome.PENDING, "Confirming your payment", True),
        (Outcome.CANCELLED, "Payment cancelled. You have not been charged.", False),
        (Outcome.FAILED, "did not go through", False),
    ],
)
def test_return_page_per_outcome(
    client: Any, backend: Any, outcome: Outcome, expected: str, refresh: bool
) -> None:
    backend.outcomes["tok-open"] = outcome
    r = client.get("/i/tok-open/return", params={"session_id": "cs_test_abc"})
    assert r.status_code == 200
    assert expected in r.text
    assert ('http-equiv="refresh"' in r.text) is refresh
    assert backend.outcome_calls == [("tok-open", "cs_test_abc")]
    if outcome in (Outcome.CANCELLED, Outcome.FAILED):
        assert "Invoice INV-1042" in r.text and 'name="csrf_token"' in r.text


def test_cancelled_page_shows_invoice_with_notice(client: Any) -> None:
    r = client.get("/i/tok-open/cancelled")
    assert r.status_code == 200
    assert "You have not been charged" in r.text
    assert 'action="/i/tok-open/pay"' in r.text


def test_pdf_is_served_with_a_safe_filename(client: Any, backend: Any, view_factory: Any) -> None:
    backend.views["tok-open"] = view_factory(doc_number='A/1"\r\nX: y')
    backend.pdfs["tok-open"] = b"%PDF-1.4 test"
    r = client.get("/i/tok-open/pdf")
    assert r.status_code == 200
    assert r.content == b"%PDF-1.4 test"
    assert r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"] == 'attachment; filename="invoice-A-1-X-y.pdf"'
    assert "x" not in {k.lower() for k in r.headers}


def test_missing_pdf_is_the_plain_404(client: Any) -> None:
    r = client.get("/i/tok-open/pdf")
    assert r.status_code == 404
    assert r.text == client.get("/i/tok-unknown").text


def test_security_headers_on_portal_pages(client: Any) -> None:
    r = client.get("/i/tok-open")
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp
    assert "img-src 'self' https: data:" in csp
    assert "form-action 'self' https: https://checkout.stripe.com" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["cache-control"] == "no-store"
    assert "strict-transport-security" not in r.headers
    assert client.get("/i/tok-unknown").headers["cache-control"] == "no-store"


def test_https_adds_hsts_and_secure_cookie(https_client: Any) -> None:
    r = https_client.get("/i/tok-open")
    assert r.headers["strict-transport-security"].startswith("max-age=")
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("__Host-syncd_csrf=")
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    token = csrf_token(r.text)
    assert https_client.post("/i/tok-open/pay", data={"csrf_token": token, "amount": "10"}).status_code == 303


def test_http_cookie_is_httponly_lax_not_secure(client: Any) -> None:
    cookie = client.get("/i/tok-open").headers["set-cookie"]
    assert cookie.startswith("syncd_csrf=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    # a browser that already has the cookie is not sent a new one
    assert "set-cookie" not in client.get("/i/tok-open").headers


@pytest.mark.parametrize(
    ("currency", "balance", "shown", "field"),
    [
        ("JPY", Decimal("12345"), "¥12,345", "12345"),
        ("KWD", Decimal("1234.5"), "KWD\u00a01,234.500", "1234.500"),
        ("EUR", Decimal("0.5"), "€0.50", "0.50"),
    ],
)
def test_currency_decimals(
    client: Any, backend: Any, view_factory: Any, currency: str, balance: Decimal, shown: str, field: str
) -> None:
    backend.views["tok-open"] = view_factory(currency=currency, balance=balance, min_partial=Decimal("0"))
    page = client.get("/i/tok-open").text
    assert shown in page
    assert f'value="{field}"' in page


def test_jpy_amount_with_decimals_is_refused(client: Any, backend: Any, view_factory: Any) -> None:
    backend.views["tok-open"] = view_factory(
        currency="JPY", balance=Decimal("5000"), min_partial=Decimal("100")
    )
    token = csrf_token(client.get("/i/tok-open").text)
    r = pay(client, csrf_token=token, amount="1000.5")
    assert r.status_code == 400
    assert "JPY amounts have no decimal places." in r.text
    assert pay(client, csrf_token=csrf_token(r.text), amount="¥1,000").status_code == 303
    assert backend.started == [("tok-open", Decimal("1000"))]


def test_override_dir_wins(client_factory: Any, tmp_path: Path) -> None:
    (tmp_path / "portal").mkdir()
    (tmp_path / "portal" / "not_found.html").write_text("custom 404 {{ '<b>' }}")
    c = client_factory(tmp_path)
    r = c.get("/i/none")
    assert r.status_code == 404 and r.text == "custom 404 &lt;b&gt;"
    assert "Invoice INV-1042" in c.get("/i/tok-open").text  # everything else still packaged


@pytest.mark.parametrize(
    ("methods", "hint"),
    [
        (("card", "us_bank_account"), "You can pay by card or bank account on the next page."),
        (("card",), "You can pay by card on the next page."),
        (("us_bank_account",), "You can pay from your bank account on the next page."),
    ],
)
def test_pay_hint_names_only_the_methods_this_payer_may_use(
    client: Any, backend: Any, view_factory: Any, methods: tuple[str, ...], hint: str
) -> None:
    backend.views["tok-open"] = view_factory(payment_methods=methods)
    page = client.get("/i/tok-open").text
    assert hint in page
    assert page.count("You can pay") == 1


def test_no_usable_method_asks_the_payer_to_contact_the_business(
    client: Any, backend: Any, view_factory: Any
) -> None:
    backend.views["tok-open"] = view_factory(payment_methods=())
    page = client.get("/i/tok-open").text
    assert "To pay this invoice, please contact Acme Alarm Co" in page
    assert 'href="mailto:billing@acme.example"' in page and 'href="tel:+15550100200"' in page
    assert 'action="/i/tok-open/pay"' not in page and 'name="csrf_token"' not in page
    assert "hold" not in page.lower()  # neutral: nothing about why


def test_https_public_url_gives_secure_cookie_and_hsts_over_a_plain_hop(backend: Any) -> None:
    """Behind a TLS proxy uvicorn does not trust, requests arrive as http; an https public_url
    still makes the cookie Secure (and __Host-), sends HSTS, and the form post works."""
    routes = portal_routes(backend, Templating(None), Csrf(b"k" * 32))
    app = Starlette(routes=routes, middleware=[Middleware(SecurityHeadersMiddleware, public_https=True)])
    with TestClient(app, base_url="http://pay.example.com", follow_redirects=False) as plain:
        r = plain.get("/i/tok-open")
        assert r.headers["strict-transport-security"].startswith("max-age=")
        cookie = r.headers["set-cookie"]
        assert cookie.startswith("__Host-syncd_csrf=") and "Secure" in cookie
        name, value = cookie.split(";", 1)[0].split("=", 1)
        plain.cookies.set(name, value)
        posted = plain.post("/i/tok-open/pay", data={"csrf_token": csrf_token(r.text), "amount": "10"})
    assert posted.status_code == 303


def test_the_page_shows_money_and_dates_in_the_companys_locale(
    client: Any, backend: Any, view_factory: Any
) -> None:
    view = view_factory()
    branding = dataclasses.replace(view.branding, locale="de_DE")
    backend.views["tok-open"] = dataclasses.replace(view, branding=branding)
    page = client.get("/i/tok-open").text
    assert "5. März 2026" in page and "4. April 2026" in page
    assert "49,95\u00a0$" in page and "$49.95" not in page
