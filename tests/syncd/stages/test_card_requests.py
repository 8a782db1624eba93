"""Card on file before the job, over both simulators: request-card queues one email, its link's
page records consent and opens a setup-mode Checkout on the Stripe simulator's hosted page, and
the events store the method with brand and last 4. Then the expiry notice, once."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from loop_harness import Loop, running_loop
from sqlalchemy import select

from syncd.errors import PermanentError, ValidationError
from syncd.stages import card_requests
from syncd.stages.card_expiry import expiry_notices
from syncd.stages.card_requests import request_card
from syncd.stages.cycle import run_cycle
from syncd.stages.events import ingest
from syncd.store import accounts
from syncd.store.models import CardRequest, CustomerRow, Effect, InboxEvent, MethodConsent, SavedMethodRow

LINK = re.compile(r"https?://[^\s\"'<>]+/c/[A-Za-z0-9_-]{32}")


def _customer(loop: Loop) -> CustomerRow:
    with loop.ctx.db.transaction() as s:
        rows = s.scalars(select(CustomerRow).where(CustomerRow.email.is_not(None))).all()
        return sorted(rows, key=lambda r: r.qbo_id)[0]


def _all_customers(loop: Loop) -> list[CustomerRow]:
    with loop.ctx.db.transaction() as s:
        return list(s.scalars(select(CustomerRow)))


def _form_value(html: str, name: str) -> str:
    found = re.search(rf"name=\"?{name}\"?\s+value=['\"]([^'\"]+)['\"]", html)
    assert found is not None, f"no {name} in page"
    return found.group(1)


def _card_emails(loop: Loop) -> list[str]:
    return [m.text or "" for m in loop.sink.mailbox.all() if "on file" in m.subject]


def _save_card_through_link(loop: Loop, link: str, expiry: tuple[int, int]) -> requests.Response:
    """What the customer does: open the link, agree, save a test card on Stripe's page."""
    browser = requests.Session()
    browser.headers["User-Agent"] = "CardTest/1.0"
    page = browser.get(link, timeout=10)
    assert page.status_code == 200 and "Agree and add a payment method" in page.text
    started = browser.post(
        f"{link}/start",
        data={"csrf_token": _form_value(page.text, "csrf_token")},
        allow_redirects=False,
        timeout=10,
    )
    assert started.status_code == 303, started.text
    hosted = started.headers["location"]
    assert hosted.startswith(loop.stripe.url + "/pay/cs_")
    stripe_page = browser.get(hosted, timeout=10)
    assert "Save a payment method" in stripe_page.text
    form = {
        "token": _form_value(stripe_page.text, "token"),
        "outcome": "card_success",
        "exp_month": str(expiry[0]),
        "exp_year": str(expiry[1]),
    }
    saved = browser.post(hosted, data=form, allow_redirects=False, timeout=10)
    assert saved.status_code == 303 and saved.headers["location"].startswith(f"{link}/done?session_id=cs_")
    done = browser.get(saved.headers["location"], timeout=10)
    browser.close()
    return done


def test_request_card_email_link_setup_checkout_event_stores_the_card(tmp_path: Path) -> None:
    with running_loop(tmp_path) as loop:
        run_cycle(loop.ctx, loop.realm)
        loop.drain()
        customer = _customer(loop)
        first = request_card(loop.ctx, loop.realm, customer.qbo_id, "Remote support on Friday")
        again = request_card(loop.ctx, loop.realm, customer.qbo_id, "Remote support on Friday")
        assert first.queued and not again.queued and first.url == again.url
        loop.drain()
        emails = _card_emails(loop)
        assert len(emails) == 1 and "Remote support on Friday" in emails[0]
        links = LINK.findall(emails[0])
        assert links == [first.url]
        with loop.ctx.db.transaction() as s:
            stored = s.scalars(select(CardRequest)).one()
            assert stored.digest != first.url.rsplit("/", 1)[1]  # the token itself is not stored

        done = _save_card_through_link(loop, first.url, (4, 2031))
        assert done.status_code == 200 and "Thank you" in done.text
        loop.stripe.webhooks.flush()
        ingest(loop.ctx)

        with loop.ctx.db.transaction() as s:
            method = s.scalars(select(SavedMethodRow)).one()
            assert (method.company_id, method.qbo_customer_id) == (loop.realm, customer.qbo_id)
            assert (method.kind, method.brand, method.last4) == ("card", "visa", "4242")
            assert (method.exp_month, method.exp_year, method.detached_at) == (4, 2031, None)
            request = s.scalars(select(CardRequest)).one()
            assert request.completed_at is not None and request.payment_method_id == method.payment_method_id
            consent = s.get(MethodConsent, request.request_key)
            assert consent is not None and consent.payment_method_id == method.payment_method_id
            assert consent.user_agent == "CardTest/1.0" and consent.ip == "127.0.0.1"
            assert "Northwind IT Services" in consent.text
        page = requests.get(first.url, timeout=10)
        assert "Already done" in page.text and "csrf_token" not in page.text
        with loop.ctx.db.transaction() as s:
            bodies = [bytes(e.payload) for e in s.scalars(select(InboxEvent)).all()]
        link_token = first.url.rsplit("/", 1)[1].encode()
        assert any(b"/c/[link]/done" in b for b in bodies)  # the setup session's return URL
        assert not any(link_token in b for b in bodies)  # a link is a capability: never at rest
        with loop.ctx.db.transaction() as s:
            effect_payloads = [str(e.payload) for e in s.scalars(select(Effect)).all()]
            assert any(e.kind == "stripe.setup_checkout" for e in s.scalars(select(Effect)).all())
        assert not any(link_token.decode() in p for p in effect_payloads)


def test_start_without_csrf_is_refused_and_opens_nothing(tmp_path: Path) -> None:
    with running_loop(tmp_path) as loop:
        run_cycle(loop.ctx, loop.realm)
        customer = _customer(loop)
        link = request_card(loop.ctx, loop.realm, customer.qbo_id).url
        refused = requests.post(
            f"{link}/start", data={"csrf_token": "1.forged"}, allow_redirects=False, timeout=10
        )
        assert refused.status_code == 403
        assert loop.stripe.objects("checkout.session") == []
        unknown = requests.get(link[:-4] + "AAAA", timeout=10)
        assert unknown.status_code == 404


def test_unknown_customer_is_one_line_naming_what_to_do(tmp_path: Path) -> None:
    with running_loop(tmp_path) as loop:
        run_cycle(loop.ctx, loop.realm)
        with pytest.raises(ValidationError, match="customer 99999 is not known in company"):
            request_card(loop.ctx, loop.realm, "99999")


def test_default_and_remove_go_to_stripe_once_and_the_table_follows(tmp_path: Path) -> None:
    from syncd.stages.saved_methods import queue_default, queue_detach

    with running_loop(tmp_path) as loop:
        run_cycle(loop.ctx, loop.realm)
        customer = _customer(loop)
        link = request_card(loop.ctx, loop.realm, customer.qbo_id).url
        _save_card_through_link(loop, link, (12, 2034))
        loop.stripe.webhooks.flush()
        ingest(loop.ctx)
        with loop.ctx.db.transaction() as s:
            row = s.scalars(select(SavedMethodRow)).one()
            method_id, stripe_customer = row.payment_method_id, row.stripe_customer_id
            queue_default(loop.ctx, s, loop.realm, customer.qbo_id, method_id, "form-1")
            queue_default(loop.ctx, s, loop.realm, customer.qbo_id, method_id, "form-1")  # a replay
            with pytest.raises(PermanentError, match="not on file"):
                queue_default(loop.ctx, s, loop.realm, "someone-else", method_id, "form-2")
        loop.drain()
        at_stripe = loop.ctx.stripe.saved_methods(stripe_customer)
        assert [(m.id, m.is_default) for m in at_stripe] == [(method_id, True)]
        with loop.ctx.db.transaction() as s:
            assert s.get(SavedMethodRow, method_id).is_default  # type: ignore[union-attr]
            queue_detach(loop.ctx, s, loop.realm, customer.qbo_id, method_id)
        loop.drain()
        assert loop.ctx.stripe.saved_methods(stripe_customer) == []
        loop.stripe.webhooks.flush()
        ingest(loop.ctx)  # the detached event agrees with what was recorded
        with loop.ctx.db.transaction() as s:
            row = s.get(SavedMethodRow, method_id)
            assert row is not None and row.detached_at is not None and not row.is_default
            with pytest.raises(PermanentError, match="removed"):
                queue_detach(loop.ctx, s, loop.realm, customer.qbo_id, method_id)
            kinds = [e.kind for e in s.scalars(select(Effect)).all() if e.kind.startswith("stripe.")]
        assert sorted(kinds) == ["stripe.default_method", "stripe.detach_method", "stripe.setup_checkout"]
        detached_events = [e for e in loop.stripe.objects("event") if e["type"] == "payment_method.detached"]
        assert len(detached_events) == 1


def test_expiring_card_gets_one_notice_about_30_days_before(tmp_path: Path) -> None:
    clock_at = [datetime(2026, 11, 29, 15, 0, tzinfo=UTC)]
    with running_loop(tmp_path, clock=lambda: clock_at[0]) as loop:
        run_cycle(loop.ctx, loop.realm)
        loop.drain()
        customer = _customer(loop)
        link = request_card(loop.ctx, loop.realm, customer.qbo_id).url
        _save_card_through_link(loop, link, (1, 2027))  # usable through 31 January 2027
        loop.stripe.webhooks.flush()
        ingest(loop.ctx)

        assert expiry_notices(loop.ctx, loop.realm) == 0  # 63 days out: too early
        clock_at[0] = datetime(2027, 1, 2, 15, 0, tzinfo=UTC)  # 29 days before
        assert expiry_notices(loop.ctx, loop.realm) == 1
        assert expiry_notices(loop.ctx, loop.realm) == 0
        clock_at[0] += timedelta(days=3)
        run_cycle(loop.ctx, loop.realm)  # the daily cycle asks again: still once
        loop.drain()
        notices = [m for m in loop.sink.mailbox.all() if "expires soon" in m.subject]
        assert len(notices) == 1
        assert notices[0].subject == ("Your Visa ending 4242 on file with Northwind IT Services expires soon")
        assert "January 31, 2027" in (notices[0].text or "")
        new_link = LINK.findall(notices[0].text or "")
        assert len(new_link) == 1 and new_link[0] != link
        page = requests.get(new_link[0], timeout=10)
        assert "The card ending 4242 expires at the end of 01/2027." in page.text


def test_keep_this_card_during_a_payment_stores_it_with_the_recorded_consent(tmp_path: Path) -> None:
    from syncd.ports.portal import Consenting
    from syncd.stages.collect import PortalService
    from syncd.store.models import InvoiceRow, PaymentRow

    with running_loop(tmp_path, save_methods=True) as loop:
        run_cycle(loop.ctx, loop.realm)
        with loop.ctx.db.transaction() as s:
            rows = s.scalars(
                select(InvoiceRow).where(InvoiceRow.status == "open", InvoiceRow.currency == "USD")
            )
            invoice = next(r for r in rows if r.email)
        token = loop.ctx.links.token(loop.realm, invoice.qbo_id)
        portal = PortalService(loop.ctx)
        plain = portal.start_payment(token, None)
        # Ticking "keep this card" is another Checkout (one that saves), with the consent recorded.
        keeping = portal.start_payment(token, None, Consenting("203.0.113.7", "Payer/2.0"))
        assert keeping != plain
        assert portal.start_payment(token, None, Consenting("203.0.113.7", "Payer/2.0")) == keeping
        with loop.ctx.db.transaction() as s:
            payment = s.scalars(select(PaymentRow).where(PaymentRow.status == "open")).one()
            consent = s.get(MethodConsent, payment.key)
            assert consent is not None and consent.text.startswith(
                "Keep this card for next time. I authorise"
            )
            assert (consent.ip, consent.user_agent) == ("203.0.113.7", "Payer/2.0")
            session_id, key = payment.checkout_session_id, payment.key
        assert session_id is not None
        loop.stripe.pay_checkout(session_id, "card_success")
        loop.stripe.webhooks.flush()
        ingest(loop.ctx)
        with loop.ctx.db.transaction() as s:
            method = s.scalars(select(SavedMethodRow)).one()
            assert (method.qbo_customer_id, method.brand, method.last4) == (
                invoice.customer_id,
                "visa",
                "4242",
            )
            consent = s.get(MethodConsent, key)
            assert consent is not None and consent.payment_method_id == method.payment_method_id
            assert s.get(PaymentRow, key).status == "succeeded"  # type: ignore[union-attr]


def test_bank_account_is_offered_to_usd_customers_only(tmp_path: Path) -> None:
    from syncd.stages.card_requests import CardRequests

    with running_loop(tmp_path) as loop:
        run_cycle(loop.ctx, loop.realm)
        offered: dict[str, list[str]] = {}
        with loop.ctx.db.transaction() as s:
            customers = s.scalars(select(CustomerRow).where(CustomerRow.email.is_not(None))).all()
            by_currency = {c.currency: c.qbo_id for c in sorted(customers, key=lambda c: c.qbo_id)}
        for currency in ("USD", "CAD"):
            link = request_card(loop.ctx, loop.realm, by_currency[currency]).url
            CardRequests(loop.ctx).start(link.rsplit("/", 1)[1], ip="127.0.0.1", user_agent="t")
            offered[currency] = loop.stripe.objects("checkout.session")[-1]["payment_method_types"]
        assert offered == {"USD": ["card", "us_bank_account"], "CAD": ["card"]}


def _press(link: str, browser: requests.Session) -> requests.Response:
    page = browser.get(link, timeout=10)
    form = {"csrf_token": _form_value(page.text, "csrf_token")}
    return browser.post(f"{link}/start", data=form, allow_redirects=False, timeout=10)


def test_presses_of_a_link_are_limited_per_link_and_per_ip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with running_loop(tmp_path) as loop:
        run_cycle(loop.ctx, loop.realm)
        loop.drain()
        customers = sorted((c for c in _all_customers(loop) if c.email), key=lambda c: c.qbo_id)[:2]
        first, second = (request_card(loop.ctx, loop.realm, c.qbo_id).url for c in customers)
        browser = requests.Session()
        answers = [_press(first, browser).status_code for _ in range(card_requests.PRESSES_PER_LINK + 1)]
        assert answers == [303] * card_requests.PRESSES_PER_LINK + [429]
        refused = _press(first, browser)
        assert refused.status_code == 429 and refused.headers["retry-after"] == "900"
        assert "too many times" in refused.text
        assert len(loop.stripe.objects("checkout.session")) == 1  # the live one, handed out again
        # Another link is its own count, until this IP's count is reached too.
        monkeypatch.setattr(card_requests, "PRESSES_PER_IP", card_requests.PRESSES_PER_LINK + 1)
        assert _press(second, browser).status_code == 303
        assert _press(second, browser).status_code == 429
        browser.close()
        # Past the window, the link works again (old presses no longer count).
        loop.ctx.clock = lambda: datetime.now(UTC) + accounts.RATE_WINDOW
        assert _press(first, requests.Session()).status_code == 303
