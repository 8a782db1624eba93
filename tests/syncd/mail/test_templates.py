"""EmailRenderer: every kind renders branded and escaped, overrides win, subjects stay one line."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from syncd.errors import ConfigError, PermanentError
from syncd.mail.templates import KINDS, PACKAGE_TEMPLATES, EmailRenderer, single_line

REPO = Path(__file__).resolve().parents[3]


def context(**changes: object) -> dict[str, object]:
    ctx: dict[str, object] = {
        "company_name": "Acme Alarm Co",
        "brand_color": "#0b5394",
        "logo_url": "https://cdn.example.com/logo.png",
        "contact_email": "billing@acme.example",
        "contact_phone": "+1 555 010 0200",
        "customer_name": "Blue Bottle Bakery",
        "invoice_number": "INV-1042",
        "amount_due": Decimal("73.40"),
        "currency": "USD",
        "due_date": date(2026, 4, 4),
        "portal_url": "https://pay.acme.example/i/tok_abc",
        "amount_paid": Decimal("20.00"),
        "paid_at": date(2026, 3, 9),
        "amount": Decimal("20.00"),
        "title": "QuickBooks connection lost",
        "body": "Reconnect the company in QuickBooks.",
        "link": "https://pay.acme.example/c/tok_card",
        "reason": "Remote support session on Friday",
        "expires_at": date(2026, 5, 4),
        "brand": "Visa",
        "last4": "4242",
        "expires_on": date(2026, 4, 30),
        "sign_in_url": "https://pay.acme.example/account/link/tok_xyz",
        "minutes": 15,
        "topic": "trial",
        "service_name": "Alarm monitoring",
        "first_date": date(2026, 4, 19),
        "ends_on": date(2027, 1, 31),
        "account_url": "https://pay.acme.example/account",
        "continue_link": "https://pay.acme.example/t/tok_trial?choice=continue",
        "cancel_link": "https://pay.acme.example/t/tok_trial?choice=cancel",
        "charge_on": date(2026, 4, 4),
        "method": "Visa ending 4242",
        "skip_link": "https://pay.acme.example/autopay/tok_skip",
        "stop_link": "https://pay.acme.example/autopay/tok_stop",
        "pay_link": "https://pay.acme.example/i/tok_abc",
        "card_link": "https://pay.acme.example/c/tok_card",
        "outcome": "retry",
        "installment": "2 of 4",
        "due_on": date(2026, 4, 4),
        "event": "placed",
        "held": Decimal("150.00"),
        "release_on": date(2026, 4, 10),
        "collector": "Ana",
        "accounts": [
            {
                "name": "Blue Bottle Bakery",
                "owed": Decimal("73.40"),
                "currency": "USD",
                "days_overdue": 3,
                "promise": None,
                "on_hold": False,
                "url": "https://pay.acme.example/staff/c/1/collect/7",
                "installments": [
                    {
                        "amount": Decimal("25.00"),
                        "currency": "USD",
                        "due_on": date(2026, 4, 4),
                        "missed": True,
                    }
                ],
            }
        ],
        "invoices": [
            {
                "invoice_number": "INV-1042",
                "amount_due": Decimal("73.40"),
                "currency": "USD",
                "due_date": date(2026, 4, 4),
                "portal_url": "https://pay.acme.example/i/tok_abc",
                "new": True,
                "days_overdue": 0,
            },
            {
                "invoice_number": "INV-0977",
                "amount_due": Decimal("1001.50"),
                "currency": "USD",
                "due_date": date(2026, 3, 1),
                "portal_url": "https://pay.acme.example/i/tok_def",
                "new": False,
                "days_overdue": 34,
            },
        ],
    }
    ctx.update(changes)
    return ctx


CARD_KINDS = ("card_request", "card_expiry")
AUTOPAY_KINDS = ("autopay_notice", "autopay_outcome")
DUNNING_KINDS = ("reminder_before", "reminder_due", "reminder_after", "final_notice")


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_renders_branded(kind: str) -> None:
    email = EmailRenderer(None).render(kind, context())
    assert email.subject and "\n" not in email.subject
    for body in (email.text, email.html):
        assert "Acme Alarm Co" in body
    assert "#0b5394" in email.html
    assert 'src="https://cdn.example.com/logo.png"' in email.html
    if kind in CARD_KINDS:
        for body in (email.text, email.html):
            assert "https://pay.acme.example/c/tok_card" in body and "billing@acme.example" in body
    elif kind == "recurring":
        for body in (email.text, email.html):
            assert "Alarm monitoring" in body and "https://pay.acme.example/t/tok_trial?choice=cancel" in body
    elif kind == "sign_in":
        assert "https://pay.acme.example/account/link/tok_xyz" in email.text
    elif kind in DUNNING_KINDS:  # one message for all of the customer's invoices at the step
        for body in (email.text, email.html):
            assert "INV-1042" in body and "INV-0977" in body and "https://pay.acme.example/i/tok_abc" in body
    elif kind == "collector_digest":
        for body in (email.text, email.html):
            assert "Blue Bottle Bakery" in body and "/staff/c/1/collect/7" in body
    elif kind == "authorization":
        for body in (email.text, email.html):
            assert "$150.00" in body and "Visa ending 4242" in body and "April 10, 2026" in body
            assert "https://pay.acme.example/account" in body
    elif kind in AUTOPAY_KINDS:
        for body in (email.text, email.html):
            assert "INV-1042" in body and "Visa ending 4242" in body and "April 4, 2026" in body
            assert "/autopay/tok_skip" in body and "/autopay/tok_stop" in body
        assert "INV-1042" in email.subject
    elif kind == "plan":  # an installment: its own amount, not the invoice's balance
        for body in (email.text, email.html):
            assert "INV-1042" in body and "2 of 4" in body and "$20.00" in body and "/i/tok_abc" in body
        assert "INV-1042" in email.subject
    elif kind != "staff_alert":
        assert "billing@acme.example" in email.html and "billing@acme.example" in email.text
        for body in (email.text, email.html):
            assert "INV-1042" in body
            assert "https://pay.acme.example/i/tok_abc" in body
            assert "$73.40" in body  # the amount due
            assert "April 4, 2026" in body  # the due date
        assert "INV-1042" in email.subject


def test_invoice_email_has_amount_due_date_and_link() -> None:
    email = EmailRenderer(None).render("invoice_new", context())
    assert email.subject == "Invoice INV-1042 from Acme Alarm Co: $73.40 due April 4, 2026"
    assert "Amount due: $73.40" in email.text
    assert "April 4, 2026" in email.text and "April 4, 2026" in email.html
    assert 'href="https://pay.acme.example/i/tok_abc"' in email.html


def test_reminder_mentions_overdue_days() -> None:
    email = EmailRenderer(None).render("reminder", context(days_overdue=3))
    assert email.subject.startswith("Overdue:")
    assert "3 days overdue" in email.text and "3 days overdue" in email.html
    assert EmailRenderer(None).render("reminder", context()).subject.startswith("Reminder:")


def test_combined_message_lists_each_invoice_with_its_own_link() -> None:
    email = EmailRenderer(None).render("invoices", context())
    assert email.subject == "2 invoices from Acme Alarm Co: INV-1042 and INV-0977"
    for body in (email.text, email.html):
        assert "1 of them overdue" in body and "34 days overdue" in body
        assert "$1,001.50" in body and "$73.40" in body
    assert 'href="https://pay.acme.example/i/tok_abc"' in email.html
    assert 'href="https://pay.acme.example/i/tok_def"' in email.html
    assert "Pay online: https://pay.acme.example/i/tok_def" in email.text


def test_receipt_paid_in_full_and_partly() -> None:
    full = EmailRenderer(None).render(
        "receipt", context(amount_due=Decimal("0"), amount_paid=Decimal("73.40"))
    )
    assert "paid in full" in full.text and "$73.40" in full.subject
    part = EmailRenderer(None).render("receipt", context())
    assert "Remaining balance: $73.40" in part.text


def test_html_is_escaped_and_text_is_not() -> None:
    hostile = '<script>alert(1)</script>"><img onerror=x>'
    email = EmailRenderer(None).render(
        "invoice_new", context(customer_name=hostile, company_name="A&B {{7*7}}")
    )
    assert "<script>" not in email.html and "&lt;script&gt;" in email.html
    assert "<img onerror" not in email.html
    assert "A&amp;B {{7*7}}" in email.html and "49" not in email.html
    assert hostile in email.text and "A&B {{7*7}}" in email.text


def test_subject_header_injection_is_flattened() -> None:
    email = EmailRenderer(None).render("staff_alert", context(title="Down\r\nBcc: victim@example.org\x00"))
    assert email.subject == "[syncd] Acme Alarm Co: Down Bcc: victim@example.org"
    assert single_line("a\u2028b\rc\n\nd\te") == "a b c d e"


def test_bad_colour_and_logo_are_dropped() -> None:
    email = EmailRenderer(None).render(
        "invoice_new", context(brand_color="red;background:url(x)", logo_url="javascript:alert(1)")
    )
    assert "url(x)" not in email.html and "javascript:" not in email.html
    assert "#1f4e79" in email.html  # the default


def test_zero_and_three_decimal_currencies() -> None:
    jpy = EmailRenderer(None).render("invoice_new", context(currency="JPY", amount_due=Decimal("12000")))
    assert "¥12,000" in jpy.text and "¥12,000.00" not in jpy.text
    kwd = EmailRenderer(None).render("invoice_new", context(currency="KWD", amount_due=Decimal("1.5")))
    assert "KWD\u00a01.500" in kwd.text


def test_override_dir_takes_precedence(tmp_path: Path) -> None:
    (tmp_path / "email").mkdir()
    (tmp_path / "email" / "invoice_new.subject.txt").write_text("Custom {{ invoice_number }}\n")
    (tmp_path / "email" / "_layout.html").write_text(
        "<div>{{ company_name }}|{% block body %}{% endblock %}</div>"
    )
    renderer = EmailRenderer(tmp_path)
    email = renderer.render("invoice_new", context(company_name="<Acme>"))
    assert email.subject == "Custom INV-1042"
    assert email.html.startswith("<div>&lt;Acme&gt;|")
    assert "Amount due: $73.40" in email.text  # not overridden: packaged default
    for kind in KINDS:
        renderer.render(kind, context())


@pytest.mark.parametrize("outcome", ["retry", "failed", "hard", "action", "over_cap"])
def test_autopay_outcome_says_what_to_do(outcome: str) -> None:
    email = EmailRenderer(None).render("autopay_outcome", context(outcome=outcome, amount=Decimal("73.40")))
    expected = {
        "retry": "https://pay.acme.example/autopay/tok_skip",
        "failed": "https://pay.acme.example/i/tok_abc",
        "hard": "https://pay.acme.example/c/tok_card",
        "action": "https://pay.acme.example/i/tok_abc",
        "over_cap": "https://pay.acme.example/i/tok_abc",
    }[outcome]
    assert expected in email.text and expected in email.html and "\n" not in email.subject
    assert ("try again on April 4, 2026" in email.text) is (outcome == "retry")


@pytest.mark.parametrize("topic", ["due", "retry", "missed"])
def test_an_installment_email_names_the_installment_and_links_its_invoice(topic: str) -> None:
    email = EmailRenderer(None).render("plan", context(topic=topic, amount=Decimal("30.00")))
    for body in (email.text, email.html):
        assert "2 of 4" in body and "INV-1042" in body and "https://pay.acme.example/i/tok_abc" in body
    assert "INV-1042" in email.subject and "\n" not in email.subject
    assert ("try again on April 4, 2026" in email.text) is (topic == "retry")


def test_an_installment_notice_is_autopays_notice_with_the_installment_and_no_skip_link() -> None:
    email = EmailRenderer(None).render("autopay_notice", context(skip_link=None, stop_link=None))
    for body in (email.text, email.html):
        assert "2 of 4" in body and "Visa ending 4242" in body and "/i/tok_abc" in body
        assert "/autopay/" not in body
    plain = context()
    del plain["installment"]
    assert "Installment" not in EmailRenderer(None).render("autopay_notice", plain).text


def test_missing_value_is_a_permanent_error() -> None:
    ctx = context()
    del ctx["portal_url"]
    with pytest.raises(PermanentError, match="portal_url"):
        EmailRenderer(None).render("invoice_new", ctx)


def test_broken_override_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "email").mkdir()
    (tmp_path / "email" / "reminder.txt").write_text("{% if %}")
    with pytest.raises(ConfigError) as err:
        EmailRenderer(tmp_path).render("reminder", context())
    assert err.value.setting == "templates.email.reminder"


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError):
        EmailRenderer(None).render("../../etc/passwd", context())


def test_every_kind_has_its_three_templates() -> None:
    packaged = PACKAGE_TEMPLATES / "email"
    for kind in KINDS:
        for suffix in (".subject.txt", ".txt", ".html"):
            assert (packaged / f"{kind}{suffix}").is_file()


def test_card_request_says_who_asks_why_and_until_when() -> None:
    email = EmailRenderer(None).render("card_request", context(reason="<b>Job #7</b>"))
    assert email.subject == "Acme Alarm Co asks you to put a payment method on file"
    assert "Their note: <b>Job #7</b>" in email.text
    assert "&lt;b&gt;Job #7&lt;/b&gt;" in email.html
    assert "May 4, 2026" in email.text and "Stripe" in email.text


def test_card_expiry_names_the_card_and_its_last_day() -> None:
    email = EmailRenderer(None).render("card_expiry", context())
    assert email.subject == "Your Visa ending 4242 on file with Acme Alarm Co expires soon"
    assert "expires on April 30, 2026" in email.text


@pytest.mark.parametrize("kind", ["invoice_new", "reminder", "invoices"])
def test_invoice_emails_lead_into_the_account(kind: str) -> None:
    email = EmailRenderer(None).render(kind, context())
    for body in (email.text, email.html):
        assert "https://pay.acme.example/i/tok_abc/account" in body


def test_an_email_speaks_the_companys_locale() -> None:
    email = EmailRenderer(None).render("invoice_new", context(locale="de_DE", currency="EUR"))
    # A subject is one plain line: the no-break space becomes a space there.
    assert email.subject == "Invoice INV-1042 from Acme Alarm Co: 73,40 € due 4. April 2026"
    assert "4. April 2026" in email.text and "73,40\u00a0€" in email.html


@pytest.mark.parametrize(
    ("topic", "subject", "text"),
    [
        (
            "trial",
            "first charge on April 19, 2026",
            "Cancel: https://pay.acme.example/t/tok_trial?choice=cancel",
        ),
        ("contract_end", "ends on January 31, 2027", "ends on January 31, 2027"),
        ("cancel", "is cancelled", "makes no more invoices"),
        ("pause", "is paused", "until it is resumed"),
    ],
)
def test_recurring_emails_say_what_happens_and_escape_the_service_name(
    topic: str, subject: str, text: str
) -> None:
    email = EmailRenderer(None).render("recurring", context(topic=topic, service_name="<b>Alarm</b>"))
    assert subject in email.subject and text in email.text
    assert "<b>Alarm</b>" not in email.html and "&lt;b&gt;Alarm&lt;/b&gt;" in email.html


@pytest.mark.parametrize("event", ["placed", "captured", "released"])
def test_authorization_email_says_what_happened_to_the_hold(event: str) -> None:
    email = EmailRenderer(None).render(
        "authorization", context(event=event, amount=Decimal("90.00"), held=Decimal("150.00"))
    )
    said = {
        "placed": "hold (an authorisation, not a charge) of $150.00",
        "captured": "$90.00 was charged. The rest of the hold ($60.00) is released.",
        "released": "is released: nothing was charged",
    }[event]
    assert said in email.text and "\n" not in email.subject
    assert ("INV-1042" in email.subject) is (event == "captured")
