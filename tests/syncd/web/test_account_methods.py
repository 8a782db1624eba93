"""Payment methods on the account page over real HTTP and the Stripe simulator's hosted setup page:
add a card (consent recorded as shown), list it, make another the default, remove one (detached
at Stripe), each change once."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from books_loop import books_loop, open_invoices, settle
from loop_harness import Loop
from method_rows import card_on_file
from sqlalchemy import select

from syncd.ports.account_text import TEXT
from syncd.stages import card_requests
from syncd.stages.events import ingest
from syncd.store.models import CardRequest, CustomerRow, Effect, MethodConsent, PaymentRow, SavedMethodRow

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
AGENT = "AccountMethodsTest/1.0"


def _value(html: str, name: str) -> str:
    found = re.search(rf"name=\"?{name}\"?\s+value=['\"]([^'\"]+)['\"]", html)
    assert found is not None, f"no {name} in page"
    return found.group(1)


def _csrf(page: httpx.Response) -> str:
    found = CSRF.search(page.text)
    assert found, page.text
    return found.group(1)


def _signed_in(loop: Loop, client: httpx.Client, email: str) -> str:
    """Customer with billing email ``email`` signed in by emailed link; their QBO id."""
    customer = open_invoices(loop)[0].customer_id
    with loop.ctx.db.transaction() as s:
        row = s.get(CustomerRow, (loop.realm, customer))
        assert row is not None
        row.email = email
    form = client.get("/account/sign-in")
    before = len(loop.sink.mailbox)
    assert (
        client.post("/account/sign-in", data={"csrf_token": _csrf(form), "email": email}).status_code == 200
    )
    assert loop.sink.mailbox.wait_for(before + 1, timeout=5)
    link = re.search(r"(http://\S+/account/link/[A-Za-z0-9_-]+)", loop.sink.mailbox.all()[-1].text or "")
    assert link
    confirm = client.get(link.group(1))
    assert client.post(link.group(1), data={"csrf_token": _csrf(confirm)}).status_code == 303
    return customer


def _add_card(loop: Loop, client: httpx.Client, exp: tuple[int, int]) -> httpx.Response:
    """Press "Add a card or bank account", save a test card on Stripe's page, come back."""
    page = client.get("/account")
    started = client.post(
        "/account/methods/add", data={"csrf_token": _csrf(page), "request": _value(page.text, "request")}
    )
    assert started.status_code == 303, started.text
    hosted = started.headers["location"]
    assert hosted.startswith(loop.stripe.url + "/pay/cs_")
    with httpx.Client(follow_redirects=False) as stripe_browser:
        stripe_page = stripe_browser.get(hosted)
        assert "Save a payment method" in stripe_page.text
        form = {
            "token": _value(stripe_page.text, "token"),
            "outcome": "card_success",
            "exp_month": str(exp[0]),
            "exp_year": str(exp[1]),
        }
        saved = stripe_browser.post(hosted, data=form)
    assert saved.status_code == 303
    assert saved.headers["location"].startswith(f"{loop.url}/account?done=method")
    loop.stripe.webhooks.flush()
    ingest(loop.ctx)
    return client.get("/account?done=method")


@pytest.fixture
def loop(tmp_path: Path) -> Iterator[Loop]:
    with books_loop(tmp_path, invoices=4) as running:
        yield running


def _listed(page: httpx.Response) -> list[str]:
    return re.findall(r'data-method="([^"]+)"', page.text)


def test_add_list_make_default_and_remove_from_the_account_page(loop: Loop) -> None:
    with httpx.Client(base_url=loop.url, follow_redirects=False, headers={"User-Agent": AGENT}) as client:
        customer = _signed_in(loop, client, "cards@bakery.test")
        empty = client.get("/account")
        assert TEXT["no_methods"] in empty.text
        first_page = _add_card(loop, client, (12, 2034))
        assert TEXT["notice_method"] in first_page.text
        assert "Visa ending 4242" in first_page.text and "Expires 12/2034" in first_page.text
        (first,) = _listed(first_page)
        with loop.ctx.db.transaction() as s:
            request = s.scalars(select(CardRequest)).one()
            assert (request.company_id, request.qbo_customer_id) == (loop.realm, customer)
            consent = s.get(MethodConsent, request.request_key)
            assert consent is not None and consent.payment_method_id == first
            assert consent.user_agent == AGENT and consent.ip == "127.0.0.1"
            assert consent.text in first_page.text.replace("&#39;", "'")
            stripe_customer = s.get(SavedMethodRow, first).stripe_customer_id  # type: ignore[union-attr]

        second_page = _add_card(loop, client, (3, 2031))
        listed = _listed(second_page)
        assert len(listed) == 2 and first in listed and "Expires 03/2031" in second_page.text
        (second,) = [m for m in listed if m != first]

        made = client.post(
            "/account/methods/default",
            data={
                "csrf_token": _csrf(second_page),
                "method": second,
                "request": _value(second_page.text, "request"),
            },
        )
        assert made.status_code == 303 and made.headers["location"].endswith("/account?done=default")
        at_stripe = {m.id: m.is_default for m in loop.ctx.stripe.saved_methods(stripe_customer)}
        assert at_stripe == {first: False, second: True}
        # Back and forth: each page view's press is its own change.
        for target, other in ((first, second), (second, first)):
            page = client.get("/account")
            form = {"csrf_token": _csrf(page), "method": target, "request": _value(page.text, "request")}
            assert client.post("/account/methods/default", data=form).status_code == 303
            at_stripe = {m.id: m.is_default for m in loop.ctx.stripe.saved_methods(stripe_customer)}
            assert at_stripe == {target: True, other: False}
        after = client.get("/account?done=default")
        assert _listed(after) == [second, first]  # the default first, marked
        assert after.text.count(f">{TEXT['method_default']}<") == 1

        removed = client.post("/account/methods/remove", data={"csrf_token": _csrf(after), "method": first})
        assert removed.status_code == 303 and removed.headers["location"].endswith("/account?done=removed")
        assert [m.id for m in loop.ctx.stripe.saved_methods(stripe_customer)] == [second]
        assert _listed(client.get("/account")) == [second]
        # Removing it again is a 404: it is no longer on file.
        again = client.post("/account/methods/remove", data={"csrf_token": _csrf(after), "method": first})
        assert again.status_code == 404
    loop.stripe.webhooks.flush()
    ingest(loop.ctx)
    with loop.ctx.db.transaction() as s:
        kinds = sorted(
            e.kind for e in s.scalars(select(Effect)) if e.kind.startswith("stripe.") and "method" in e.kind
        )
        assert kinds == ["stripe.default_method"] * 3 + ["stripe.detach_method"]
        assert s.get(SavedMethodRow, first).detached_at is not None  # type: ignore[union-attr]


def test_the_same_add_form_sent_twice_opens_one_setup_checkout(loop: Loop) -> None:
    with httpx.Client(base_url=loop.url, follow_redirects=False) as client:
        _signed_in(loop, client, "twice@bakery.test")
        page = client.get("/account")
        form = {"csrf_token": _csrf(page), "request": _value(page.text, "request")}
        one = client.post("/account/methods/add", data=form)
        two = client.post("/account/methods/add", data=form)
        assert one.status_code == two.status_code == 303
        assert one.headers["location"] == two.headers["location"]
    assert len(loop.stripe.objects("checkout.session")) == 1


def _pay(loop: Loop, answer: httpx.Response) -> str:
    """Pay the Checkout a Pay press opened; the payment's key."""
    assert answer.status_code == 303, answer.text
    with loop.ctx.db.transaction() as s:
        row = s.scalars(select(PaymentRow).where(PaymentRow.checkout_url == answer.headers["location"])).one()
        session_id, key = row.checkout_session_id, row.key
    assert session_id is not None
    loop.stripe.pay_checkout(session_id, "card_success")
    settle(loop)
    return key


def test_keep_this_card_on_the_invoice_page_and_when_paying_several(tmp_path: Path) -> None:
    with (
        books_loop(tmp_path, invoices=6, save_methods=True) as loop,
        httpx.Client(base_url=loop.url, follow_redirects=False, headers={"User-Agent": AGENT}) as client,
    ):
        customer = _signed_in(loop, client, "keep@bakery.test")
        mine = [i for i in open_invoices(loop) if i.customer_id == customer and i.currency == "USD"]
        assert len(mine) >= 3, mine
        token = loop.ctx.links.token(loop.realm, mine[0].qbo_id)
        invoice_page = client.get(f"/i/{token}")
        assert (
            'name="keep"' in invoice_page.text
            and "checked" not in invoice_page.text.split('name="keep"')[1][:40]
        )
        kept = _pay(
            loop, client.post(f"/i/{token}/pay", data={"csrf_token": _csrf(invoice_page), "keep": "1"})
        )
        with loop.ctx.db.transaction() as s:
            consent = s.get(MethodConsent, kept)
            assert consent is not None and consent.user_agent == AGENT and consent.payment_method_id
            assert consent.text in invoice_page.text.replace("&#39;", "'")
            first = consent.payment_method_id
        page = client.get("/account")
        assert _listed(page) == [first] and "Visa ending 4242" in page.text

        # Paying several without the box ticked keeps nothing; with it ticked, the card is kept.
        rest = [i.qbo_id for i in mine[1:]]
        plain = _pay(loop, client.post("/account/pay", data={"csrf_token": _csrf(page), "invoice": rest[:1]}))
        page = client.get("/account")
        assert _listed(page) == [first]
        with loop.ctx.db.transaction() as s:
            assert s.get(MethodConsent, plain) is None
        form = {"csrf_token": _csrf(page), "invoice": rest[1:], "keep": "1"}
        several = _pay(loop, client.post("/account/pay", data=form))
        with loop.ctx.db.transaction() as s:
            consent = s.get(MethodConsent, several)
            assert consent is not None and consent.payment_method_id
            second = consent.payment_method_id
        assert sorted(_listed(client.get("/account"))) == sorted([first, second])


def test_keep_is_not_offered_when_the_company_does_not_save_methods(loop: Loop) -> None:
    invoice = open_invoices(loop)[0]
    token = loop.ctx.links.token(loop.realm, invoice.qbo_id)
    with httpx.Client(base_url=loop.url, follow_redirects=False) as client:
        page = client.get(f"/i/{token}")
        assert 'name="keep"' not in page.text
        key = _pay(loop, client.post(f"/i/{token}/pay", data={"csrf_token": _csrf(page), "keep": "1"}))
    with loop.ctx.db.transaction() as s:
        assert s.get(MethodConsent, key) is None
        assert s.scalars(select(SavedMethodRow)).all() == []


def test_a_change_stripe_has_not_made_is_shown_as_being_updated_and_a_refused_one_as_an_error(
    loop: Loop,
) -> None:
    with httpx.Client(base_url=loop.url, follow_redirects=False) as client:
        _signed_in(loop, client, "down@bakery.test")
        first = _listed(_add_card(loop, client, (12, 2034)))[0]
        page = _add_card(loop, client, (3, 2031))
        (second,) = [m for m in _listed(page) if m != first]
        # A change Stripe refuses outright is an error page, never "changed": here a method our
        # records hold that Stripe does not know.
        with loop.ctx.db.transaction() as s:
            row = s.get(SavedMethodRow, second)
            assert row is not None
            at_stripe = {"stripe_customer_id": row.stripe_customer_id, "last4": "0005"}
            s.add(
                card_on_file(
                    "pm_unknown_at_stripe", row.company_id, row.qbo_customer_id, row.attached_at, **at_stripe
                )
            )
        page = client.get("/account")
        form = {
            "csrf_token": _csrf(page),
            "method": "pm_unknown_at_stripe",
            "request": _value(page.text, "request"),
        }
        refused = client.post("/account/methods/default", data=form)
        assert refused.status_code == 502 and TEXT["method_failed_text"].split(",")[0] in refused.text
        assert TEXT["notice_default"] not in refused.text

        page = client.get("/account")
        loop.stripe.faults.error_rate = 1.0  # Stripe answers nothing but 500s
        try:
            removed = client.post(
                "/account/methods/remove", data={"csrf_token": _csrf(page), "method": first}
            )
            assert removed.status_code == 303
            assert removed.headers["location"].endswith("/account?done=updating")
            shown = client.get(removed.headers["location"])
            assert TEXT["notice_updating"] in shown.text and TEXT["notice_removed"] not in shown.text
            assert first in _listed(shown)  # still on file until Stripe has detached it
            # The method itself says so, on every view until Stripe has made the change.
            again = client.get("/account")
            assert TEXT["notice_updating"] not in again.text
            marked = re.findall(
                r'data-method="([^"]+)"(?:(?!</li>).)*data-testid="method-changing"', again.text, re.S
            )
            assert marked == [first]
        finally:
            loop.stripe.faults.reset()
    with loop.ctx.db.transaction() as s:
        effect = s.scalars(select(Effect).where(Effect.key == "stripe:detach-method:" + first)).one()
        assert effect.status == "pending" and effect.last_error


def test_adding_methods_past_the_limit_is_told_and_opens_nothing(
    loop: Loop, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(card_requests, "PRESSES_PER_IP", 1)
    with httpx.Client(base_url=loop.url, follow_redirects=False) as client:
        _signed_in(loop, client, "many@bakery.test")
        first = client.get("/account")
        form = {"csrf_token": _csrf(first), "request": _value(first.text, "request")}
        assert client.post("/account/methods/add", data=form).status_code == 303
        again = client.get("/account")
        form = {"csrf_token": _csrf(again), "request": _value(again.text, "request")}
        limited = client.post("/account/methods/add", data=form)
    assert limited.status_code == 429 and limited.headers["retry-after"] == "900"
    assert "too many times" in limited.text
    assert len(loop.stripe.objects("checkout.session")) == 1
