"""The customer account over real HTTP and both simulators: sign in by emailed link, pay three
invoices in one Checkout payment (one QBO Payment, three lines), and no route reaching another
customer's data."""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from books_loop import books_loop, open_invoices, settle
from loop_harness import Loop
from method_rows import card_on_file
from sqlalchemy import select

from syncd.ports.account_text import TEXT
from syncd.ports.portal import PaymentState
from syncd.stages.account import AccountService
from syncd.stages.collect import PortalService
from syncd.stages.cycle import run_cycle
from syncd.store import accounts
from syncd.store.models import (
    AccountSession,
    AccountToken,
    CardRequest,
    CustomerRow,
    Effect,
    InvoiceRow,
    Passkey,
    PaymentRow,
    RecurringRow,
    SavedMethodRow,
    TextNumber,
)
from syncd.web.account import account_routes
from syncd.web.csrf import Csrf
from syncd.web.templating import Templating

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _csrf(page: httpx.Response) -> str:
    found = CSRF.search(page.text)
    assert found, page.text
    return found.group(1)


def _customer_with(loop: Loop, count: int, email: str) -> tuple[str, list[InvoiceRow]]:
    """A customer with ``count`` open USD invoices, its billing email set to ``email``."""
    invoices = open_invoices(loop)
    customer = invoices[0].customer_id
    mine = [i for i in invoices if i.customer_id == customer]
    for n in range(count - len(mine)):
        loop.qbo.add_invoice(customer, Decimal("40.00") + n)
    if len(mine) < count:
        run_cycle(loop.ctx, loop.realm)
        mine = [i for i in open_invoices(loop) if i.customer_id == customer]
    with loop.ctx.db.transaction() as s:
        row = s.get(CustomerRow, (loop.realm, customer))
        assert row is not None
        row.email = email
    return customer, mine[:count]


def _sign_in(loop: Loop, client: httpx.Client, email: str) -> None:
    form = client.get("/account/sign-in")
    before = len(loop.sink.mailbox)
    sent = client.post("/account/sign-in", data={"csrf_token": _csrf(form), "email": email})
    assert sent.status_code == 200 and "Check your email" in sent.text
    assert loop.sink.mailbox.wait_for(before + 1, timeout=5)
    message = loop.sink.mailbox.all()[0]
    assert message.to == email.lower()
    link = re.search(r"(http://\S+/account/link/[A-Za-z0-9_-]+)", message.text or "")
    assert link
    confirm = client.get(link.group(1))
    assert confirm.status_code == 200
    done = client.post(link.group(1), data={"csrf_token": _csrf(confirm)})
    assert done.status_code == 303 and done.headers["location"].endswith("/account")


@pytest.fixture
def loop(tmp_path: Path) -> Iterator[Loop]:
    with books_loop(tmp_path, invoices=12) as running:
        yield running


def test_sign_in_by_email_then_pay_three_invoices_as_one_qbo_payment(loop: Loop) -> None:
    customer, three = _customer_with(loop, 3, "owner@bakery.test")
    with httpx.Client(base_url=loop.url, follow_redirects=False) as client:
        _sign_in(loop, client, "Owner@Bakery.test")
        page = client.get("/account")
        assert page.status_code == 200
        for inv in three:
            assert inv.doc_number in page.text
        paid = client.post(
            "/account/pay", data={"csrf_token": _csrf(page), "invoice": [i.qbo_id for i in three]}
        )
        assert paid.status_code == 303, paid.text
    with loop.ctx.db.transaction() as s:
        row = s.scalars(select(PaymentRow)).one()
        session_id, key = row.checkout_session_id, row.key
        assert sorted(row.invoice_ids) == sorted(i.qbo_id for i in three)
        assert row.amount == sum((i.balance for i in three), Decimal(0))
    assert session_id is not None
    loop.stripe.pay_checkout(session_id, "card_success")
    settle(loop)
    with loop.ctx.db.transaction() as s:
        booked = s.get(PaymentRow, key)
        assert booked is not None and booked.qbo_payment_id
        qbo_payment_id = booked.qbo_payment_id
    entry = loop.qbo.entity("Payment", qbo_payment_id)
    assert entry is not None
    linked = sorted(line["LinkedTxn"][0]["TxnId"] for line in entry["Line"])
    assert linked == sorted(i.qbo_id for i in three)
    assert entry["CustomerRef"]["value"] == customer


def test_unknown_address_gets_the_same_answer_and_no_email(loop: Loop) -> None:
    _customer_with(loop, 1, "known@bakery.test")
    with httpx.Client(base_url=loop.url, follow_redirects=False) as client:
        form = client.get("/account/sign-in")
        known = client.post(
            "/account/sign-in", data={"csrf_token": _csrf(form), "email": "known@bakery.test"}
        )
        unknown = client.post(
            "/account/sign-in", data={"csrf_token": _csrf(form), "email": "nobody@else.test"}
        )
    assert known.status_code == unknown.status_code == 200
    assert known.text == unknown.text
    assert loop.sink.mailbox.wait_for(1, timeout=5)
    assert [m.to for m in loop.sink.mailbox.all()] == ["known@bakery.test"]
    with loop.ctx.db.transaction() as s:
        rows = list(s.scalars(select(AccountToken)))
    # Only digests: nothing in the table is a link anyone could use, and the unknown address
    # someone typed is not kept.
    assert all(len(r.digest) == 64 for r in rows)
    assert sorted(str(r.email) for r in rows) == ["None", "known@bakery.test"]
    assert all(r.ip_digest and "127.0.0.1" not in r.ip_digest for r in rows)
    message = loop.sink.mailbox.all()[0]
    token = (message.text or "").split("/account/link/")[1].split()[0]
    assert token not in {r.digest for r in rows}


def test_rate_limit_per_address_sends_no_more_links(loop: Loop) -> None:
    _customer_with(loop, 1, "busy@bakery.test")
    with httpx.Client(base_url=loop.url, follow_redirects=False) as client:
        form = client.get("/account/sign-in")
        for _ in range(5):
            answer = client.post(
                "/account/sign-in", data={"csrf_token": _csrf(form), "email": "busy@bakery.test"}
            )
            assert answer.status_code == 200
    loop.sink.mailbox.wait_for(5, timeout=2)
    assert len(loop.sink.mailbox) == 3


def test_link_is_single_use_and_bound_to_the_browser_that_asked(loop: Loop) -> None:
    _customer_with(loop, 1, "once@bakery.test")
    with httpx.Client(base_url=loop.url, follow_redirects=False) as asker:
        form = asker.get("/account/sign-in")
        asker.post("/account/sign-in", data={"csrf_token": _csrf(form), "email": "once@bakery.test"})
        assert loop.sink.mailbox.wait_for(1, timeout=5)
        link = re.search(r"(http://\S+/account/link/[A-Za-z0-9_-]+)", loop.sink.mailbox.all()[0].text or "")
        assert link
        with httpx.Client(base_url=loop.url, follow_redirects=False) as other:
            page = other.get(link.group(1))
            refused = other.post(link.group(1), data={"csrf_token": _csrf(page)})
            assert refused.status_code == 403 and "account" not in refused.cookies
        page = asker.get(link.group(1))
        assert asker.post(link.group(1), data={"csrf_token": _csrf(page)}).status_code == 303
        again = asker.post(link.group(1), data={"csrf_token": _csrf(page)})
        assert again.status_code == 404


def test_sign_in_rotates_the_session_id(loop: Loop) -> None:
    _customer_with(loop, 1, "fix@bakery.test")
    planted = "A" * 43
    with httpx.Client(base_url=loop.url, follow_redirects=False) as client:
        client.cookies.set("syncd_account", planted, domain="127.0.0.1")
        _sign_in(loop, client, "fix@bakery.test")
        values = [c.value for c in client.cookies.jar if c.name == "syncd_account"]
        assert values and planted not in values
        assert client.get("/account").status_code == 200
        with loop.ctx.db.transaction() as s:
            rows = list(s.scalars(select(AccountSession)))
        # Only the digest of the new id is stored; the planted id never became a session.
        assert [r.digest for r in rows] == [hashlib.sha256(values[0].encode()).hexdigest()]


WALKED = {
    "/account",
    "/account/sign-in",
    "/account/link/{token}",
    "/i/{token}/account",
    "/account/choose",
    "/account/pay",
    "/account/methods/add",
    "/account/methods/default",
    "/account/methods/remove",
    "/account/receipts/{ref:path}",
    "/account/invoices/{invoice_id}/pdf",
    "/account/contact",
    "/account/recurring/{template}/{action}",
    "/account/sign-out",
    "/account/passkeys",
    "/account/switch",
    "/account/passkeys/{purpose}/options",
    "/account/passkeys/register",
    "/account/passkeys/sign-in",
    "/account/passkeys/remove",
    "/account/help",
    "/assets/account.js",
}


def _b_has_everything(loop: Loop, b: str, b_invoice: InvoiceRow) -> tuple[str, str]:
    """Customer B gets a paid payment (with a receipt), a passkey and a live session."""
    now = loop.ctx.clock()
    with loop.ctx.db.transaction() as s:
        s.add(
            PaymentRow(
                key=f"pay:{loop.realm}:{b_invoice.qbo_id}:9",
                company_id=loop.realm,
                customer_id=b,
                invoice_ids=[b_invoice.qbo_id],
                amount=Decimal("1.00"),
                currency="USD",
                status="succeeded",
                method="card",
                created_at=now,
                updated_at=now,
            )
        )
        s.add(Passkey(credential_id="b-credential-id", email="b@two.test", public_key=b"k", created_at=now))
        s.add(
            card_on_file(
                "pm_b_card", loop.realm, b, now, last4="4444", exp_month=1, exp_year=2031, is_default=True
            )
        )
        accounts.open_session(s, session_digest=accounts.digest("b" * 43), now=now, email="b@two.test")
        s.add(
            RecurringRow(
                company_id=loop.realm,
                qbo_id="9999",
                customer_id=b,
                name="B's secret trial",
                amount=Decimal("9.00"),
                currency="USD",
                active=True,
                automated=True,
                interval="Monthly",
                every=1,
                start_date=now.date() + timedelta(days=5),
                next_date=now.date() + timedelta(days=5),
                kind="trial",  # a trial can always be cancelled: only ownership stands in the way
                sync_token="0",
                pulled_at=now,
            )
        )
    return f"pay:{loop.realm}:{b_invoice.qbo_id}:9", "b-credential-id"


def test_no_account_route_reaches_another_customers_data(loop: Loop) -> None:
    """Every account route, walked with customer A's session (signed in by email, then opened
    from A's invoice link), never shows or changes customer B's data."""
    app_paths = {
        r.path
        for r in account_routes(AccountService(loop.ctx), Templating(None), Csrf(b"k" * 32), "http://x")
    }
    assert app_paths == WALKED  # a new route must be added to this walk
    invoices = open_invoices(loop)
    by_customer: dict[str, list[InvoiceRow]] = {}
    for inv in invoices:
        by_customer.setdefault(inv.customer_id, []).append(inv)
    (a, a_invoices), (b, b_invoices) = list(by_customer.items())[:2]
    with loop.ctx.db.transaction() as s:
        for cid, email in ((a, "a@one.test"), (b, "b@two.test")):
            row = s.get(CustomerRow, (loop.realm, cid))
            assert row is not None
            row.email = email
            if cid == b:
                b_name = row.display_name
    receipt, credential = _b_has_everything(loop, b, b_invoices[0])
    b_texts = {f">{i.doc_number}<" for i in b_invoices} | {
        b_name,
        "b@two.test",
        credential,
        "pm_b_card",
        "secret trial",
    }
    with httpx.Client(base_url=loop.url, follow_redirects=False) as client:
        for how in ("email", "invoice"):
            client.cookies.clear()
            if how == "email":
                _sign_in(loop, client, "a@one.test")
            else:
                token = loop.ctx.links.token(loop.realm, a_invoices[0].qbo_id)
                assert client.get(f"/i/{token}/account").status_code == 303
            page = client.get("/account")
            assert page.status_code == 200
            csrf = _csrf(page)
            seen = [
                page,
                client.get("/account/sign-in"),
                client.get("/account/help"),
                client.get("/assets/account.js"),
                client.get("/account/passkeys"),
                client.get("/account/switch"),
                client.get(f"/account/link/{'x' * 43}"),
                client.post(
                    "/account/passkeys/register/options", headers={"x-csrf-token": csrf}, content=b""
                ),
            ]
            for answer in seen:
                assert not any(text in answer.text for text in b_texts), (how, answer.url)
            assert client.get(f"/account/receipts/{receipt}").status_code == 404
            assert client.get("/account/recurring/9999/cancel").status_code == 404
            stopped = client.post("/account/recurring/9999/cancel", data={"csrf_token": csrf})
            assert stopped.status_code == 404 and "secret trial" not in stopped.text
            mine = client.get(f"/account/invoices/{a_invoices[0].qbo_id}/pdf")
            assert mine.status_code == 200 and mine.content.startswith(b"%PDF-")
            for b_invoice in b_invoices:
                theirs = client.get(f"/account/invoices/{b_invoice.qbo_id}/pdf")
                assert theirs.status_code == 404 and not theirs.content.startswith(b"%PDF"), how
            paid = client.post("/account/pay", data={"csrf_token": csrf, "invoice": [b_invoices[0].qbo_id]})
            assert paid.status_code == 400
            chose = client.post("/account/choose", data={"csrf_token": csrf, "account": f"{loop.realm}/{b}"})
            assert chose.status_code == 303 and chose.headers["location"].endswith("/sign-in")
            for change in ("default", "remove"):
                answer = client.post(
                    f"/account/methods/{change}",
                    data={"csrf_token": csrf, "method": "pm_b_card", "request": "r" * 22},
                )
                assert answer.status_code == 404 and "4444" not in answer.text, change
            added = client.post("/account/methods/add", data={"csrf_token": csrf, "request": how * 8})
            assert added.status_code == 303 and added.headers["location"].startswith(loop.stripe.url)
            removed = client.post(
                "/account/passkeys/remove", data={"csrf_token": csrf, "credential": credential}
            )
            assert removed.status_code == 303
            signed = client.post(
                "/account/passkeys/sign-in",
                headers={"x-csrf-token": csrf},
                content=b'{"id": "b-credential-id"}',
            )
            assert signed.status_code == 400
            registered = client.post(
                "/account/passkeys/register", headers={"x-csrf-token": csrf}, content=b"{}"
            )
            assert registered.status_code in (400, 403)
            assert (
                client.post("/account/contact", data={"csrf_token": csrf, "phone": "+1 555 0199"}).status_code
                == 303
            )
            assert (
                client.post("/account/sign-out", data={"csrf_token": csrf, "everywhere": "1"}).status_code
                == 200
            )
    with loop.ctx.db.transaction() as s:
        assert [p.key for p in s.scalars(select(PaymentRow))] == [receipt]
        assert s.get(Passkey, credential) is not None
        b_method = s.get(SavedMethodRow, "pm_b_card")
        assert b_method is not None and b_method.detached_at is None and b_method.is_default
        assert not [e for e in s.scalars(select(Effect)) if e.kind.endswith("_method")]
        assert {r.qbo_customer_id for r in s.scalars(select(CardRequest))} == {a}
        b_session = s.get(AccountSession, accounts.digest("b" * 43))
        assert b_session is not None and b_session.revoked_at is None
        changed = {
            str(e.payload["customer_id"])
            for e in s.scalars(select(Effect).where(Effect.kind == "qbo.customer_contact"))
        }
        assert changed == {a}
        trial = s.get(RecurringRow, (loop.realm, "9999"))
        assert trial is not None and trial.action is None
        assert not list(s.scalars(select(Effect).where(Effect.kind == "qbo.recurring_update")))


def test_every_account_post_refuses_a_missing_csrf_token(loop: Loop) -> None:
    _customer_with(loop, 1, "csrf@bakery.test")
    with httpx.Client(base_url=loop.url, follow_redirects=False) as client:
        _sign_in(loop, client, "csrf@bakery.test")
        for path in (
            "/account/sign-in",
            "/account/choose",
            "/account/pay",
            "/account/methods/add",
            "/account/methods/default",
            "/account/methods/remove",
            "/account/contact",
            "/account/recurring/1/cancel",
            "/account/sign-out",
            "/account/passkeys/remove",
            "/account/link/whatever",
        ):
            assert client.post(path, data={"email": "x@y.test"}).status_code == 403, path
        for path in (
            "/account/passkeys/register/options",
            "/account/passkeys/register",
            "/account/passkeys/sign-in",
        ):
            assert client.post(path, content=b"{}").status_code in (401, 403), path
        assert client.get("/account").status_code == 200  # still signed in: nothing happened


def test_sign_out_everywhere_ends_every_session_of_the_person(loop: Loop) -> None:
    _customer_with(loop, 1, "two@bakery.test")
    with (
        httpx.Client(base_url=loop.url, follow_redirects=False) as laptop,
        httpx.Client(base_url=loop.url, follow_redirects=False) as phone,
    ):
        _sign_in(loop, laptop, "two@bakery.test")
        loop.sink.mailbox.clear()
        _sign_in(loop, phone, "two@bakery.test")
        page = laptop.get("/account")
        laptop.post("/account/sign-out", data={"csrf_token": _csrf(page), "everywhere": "1"})
        assert phone.get("/account").status_code == 303


def test_contact_change_is_written_to_the_qbo_customer_and_staff_are_told(loop: Loop) -> None:
    customer, _ = _customer_with(loop, 1, "old@bakery.test")
    with httpx.Client(base_url=loop.url, follow_redirects=False) as client:
        _sign_in(loop, client, "old@bakery.test")
        page = client.get("/account")
        done = client.post(
            "/account/contact",
            data={"csrf_token": _csrf(page), "email": "new@bakery.test", "phone": "+1 555 0100"},
        )
        assert done.status_code == 303
    loop.drain()
    qbo_customer = loop.qbo.entity("Customer", customer)
    assert qbo_customer is not None
    assert qbo_customer["PrimaryEmailAddr"]["Address"] == "new@bakery.test"
    assert qbo_customer["PrimaryPhone"]["FreeFormNumber"] == "+1 555 0100"
    assert any(m.to == "staff@northwind.test" for m in loop.sink.mailbox.all())


def test_text_me_reminders_records_consent_and_refuses_a_number_that_is_none(loop: Loop) -> None:
    customer, _ = _customer_with(loop, 1, "texts@bakery.test")
    with httpx.Client(
        base_url=loop.url, follow_redirects=False, headers={"User-Agent": "Phone/1.0"}
    ) as client:
        _sign_in(loop, client, "texts@bakery.test")
        page = client.get("/account")
        assert 'name="texts"' in page.text and "Reply STOP to end" in page.text
        form = {"csrf_token": _csrf(page), "email": "texts@bakery.test", "texts": "on"}
        refused = client.post("/account/contact", data={**form, "phone": "555 0100"})
        assert refused.status_code == 400 and "555 0100" in refused.text
        with loop.ctx.db.transaction() as s:
            assert s.get(TextNumber, (loop.realm, customer)) is None
        assert client.post("/account/contact", data={**form, "phone": "(415) 555-0123"}).status_code == 303
    with loop.ctx.db.transaction() as s:
        row = s.get(TextNumber, (loop.realm, customer))
        assert row is not None
        assert (row.number, row.source, row.ip, row.user_agent) == (
            "+14155550123",
            "portal",
            "127.0.0.1",
            "Phone/1.0",
        )
        assert row.consent_text.startswith("Text me payment reminders")


def test_qbo_strings_are_escaped_and_the_invoice_page_leads_into_the_account(loop: Loop) -> None:
    hostile = "<script>alert(1)</script>"
    customer, mine = _customer_with(loop, 1, "esc@bakery.test")
    with loop.ctx.db.transaction() as s:
        row = s.get(CustomerRow, (loop.realm, customer))
        invoice = s.get(InvoiceRow, (loop.realm, mine[0].qbo_id))
        assert row is not None and invoice is not None
        row.display_name = hostile
        invoice.doc_number = hostile
    token = loop.ctx.links.token(loop.realm, mine[0].qbo_id)
    with httpx.Client(base_url=loop.url, follow_redirects=False) as client:
        invoice_page = client.get(f"/i/{token}")
        assert f'href="/i/{token}/account"' in invoice_page.text
        assert client.get(f"/i/{token}/account").status_code == 303
        page = client.get("/account")
    assert page.status_code == 200
    assert hostile not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "script-src 'none'" in page.headers["content-security-policy"]


def test_a_billing_contact_of_several_customers_picks_one(loop: Loop) -> None:
    invoices = open_invoices(loop)
    customers = sorted({i.customer_id for i in invoices})[:2]
    with loop.ctx.db.transaction() as s:
        for cid in customers:
            row = s.get(CustomerRow, (loop.realm, cid))
            assert row is not None
            row.email = "shared@bakery.test"
        names = {cid: s.get(CustomerRow, (loop.realm, cid)).display_name for cid in customers}  # type: ignore[union-attr]
    with httpx.Client(base_url=loop.url, follow_redirects=False) as client:
        _sign_in(loop, client, "shared@bakery.test")
        chooser = client.get("/account")
        assert "Which account?" in chooser.text
        assert all(name in chooser.text for name in names.values())
        chose = client.post(
            "/account/choose", data={"csrf_token": _csrf(chooser), "account": f"{loop.realm}/{customers[1]}"}
        )
        assert chose.status_code == 303
        page = client.get("/account")
        assert names[customers[1]] in page.text and "Switch account" in page.text


def test_rate_limit_per_ip_covers_every_address(loop: Loop, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accounts, "PER_IP", 2)
    with loop.ctx.db.transaction() as s:
        customers = list(s.scalars(select(CustomerRow.qbo_id).where(CustomerRow.active.is_(True))))[:3]
    assert len(customers) == 3
    with loop.ctx.db.transaction() as s:
        for n, cid in enumerate(customers):
            row = s.get(CustomerRow, (loop.realm, cid))
            assert row is not None
            row.email = f"ip{n}@bakery.test"
    with httpx.Client(base_url=loop.url, follow_redirects=False) as client:
        form = client.get("/account/sign-in")
        for n in range(len(customers)):
            client.post("/account/sign-in", data={"csrf_token": _csrf(form), "email": f"ip{n}@bakery.test"})
    loop.sink.mailbox.wait_for(3, timeout=2)
    assert sorted(m.to for m in loop.sink.mailbox.all()) == ["ip0@bakery.test", "ip1@bakery.test"]


def test_an_invoice_paid_together_with_others_is_not_payable_again_before_it_is_booked(loop: Loop) -> None:
    _, two = _customer_with(loop, 2, "twice@bakery.test")
    now = loop.ctx.clock()
    with loop.ctx.db.transaction() as s:
        s.add(
            PaymentRow(
                key="pay:together",
                company_id=loop.realm,
                customer_id=two[0].customer_id,
                invoice_ids=[i.qbo_id for i in two],
                amount=sum((i.balance for i in two), Decimal(0)),
                currency="USD",
                status="succeeded",
                created_at=now,
                updated_at=now,
            )
        )
    portal = PortalService(loop.ctx)
    for inv in two:
        view = portal.invoice(loop.ctx.links.token(loop.realm, inv.qbo_id))
        assert view is not None and view.payment_state is PaymentState.PAID and view.balance == 0


def test_over_https_the_session_cookie_is_host_only_secure_and_http_only(loop: Loop) -> None:
    from starlette.testclient import TestClient

    from syncd.web.app import create_app

    _, mine = _customer_with(loop, 1, "https@bakery.test")
    token = loop.ctx.links.token(loop.realm, mine[0].qbo_id)
    with TestClient(
        create_app(loop.ctx), base_url="https://pay.example.com", follow_redirects=False
    ) as client:
        opened = client.get(f"/i/{token}/account")
        assert opened.status_code == 303
        cookie = opened.headers["set-cookie"]
        assert cookie.startswith("__Host-syncd_account=")
        for flag in ("Secure", "HttpOnly", "Path=/", "SameSite=lax"):
            assert flag in cookie
        assert "Domain" not in cookie
        page = client.get("/account")
        assert page.status_code == 200 and mine[0].doc_number in page.text
        passkeys = client.get("/account/passkeys")
        assert passkeys.status_code == 303  # an invoice link proves no person: no passkeys


def test_processing_bank_payments_show_as_processing_and_are_not_offered(loop: Loop) -> None:
    customer, two = _customer_with(loop, 2, "ach@bakery.test")
    now = loop.ctx.clock()
    with loop.ctx.db.transaction() as s:
        s.add(
            PaymentRow(
                key="pay:ach",
                company_id=loop.realm,
                customer_id=customer,
                invoice_ids=[two[0].qbo_id],
                amount=two[0].balance,
                currency="USD",
                status="processing",
                method="us_bank_account",
                created_at=now,
                updated_at=now,
            )
        )
    with httpx.Client(base_url=loop.url, follow_redirects=False) as client:
        _sign_in(loop, client, "ach@bakery.test")
        page = client.get("/account")
    assert f'value="{two[0].qbo_id}"' not in page.text
    assert f'value="{two[1].qbo_id}"' in page.text
    assert page.text.count("badge-processing") == 2  # the invoice, and the payment in the history
    assert "Bank account" in page.text


def test_invoice_pdfs_of_open_and_paid_invoices_come_from_quickbooks(loop: Loop) -> None:
    _, mine = _customer_with(loop, 3, "pdf@bakery.test")
    with httpx.Client(base_url=loop.url, follow_redirects=False) as client:
        _sign_in(loop, client, "pdf@bakery.test")
        page = client.get("/account")
        paid = client.post("/account/pay", data={"csrf_token": _csrf(page), "invoice": [mine[0].qbo_id]})
        with loop.ctx.db.transaction() as s:
            row = s.scalars(
                select(PaymentRow).where(PaymentRow.checkout_url == paid.headers["location"])
            ).one()
            assert row.checkout_session_id is not None
            session_id = row.checkout_session_id
        loop.stripe.pay_checkout(session_id, "card_success")
        settle(loop)
        page = client.get("/account")
        links = re.findall(r'href="(/account/invoices/([^/"]+)/pdf)"', page.text)
        # Each open invoice has its PDF, and so has the paid one, from the payment history.
        assert {i.qbo_id for i in mine} <= {invoice for _, invoice in links}
        for invoice in mine:
            answer = client.get(f"/account/invoices/{invoice.qbo_id}/pdf")
            assert answer.status_code == 200 and answer.headers["content-type"] == "application/pdf"
            assert answer.content.startswith(b"%PDF-1.4") and answer.content.rstrip().endswith(b"%%EOF")
            assert f"Invoice {invoice.doc_number}".encode() in answer.content
            disposition = answer.headers["content-disposition"]
            assert disposition.startswith("attachment;") and invoice.doc_number in disposition
        assert client.get("/account/invoices/no-such-invoice/pdf").status_code == 404
    with httpx.Client(base_url=loop.url, follow_redirects=False) as stranger:
        # Without a session there is no PDF, only the way to sign in.
        answer = stranger.get(f"/account/invoices/{mine[1].qbo_id}/pdf")
        assert answer.status_code == 303 and answer.headers["location"].endswith("/account/sign-in")


def test_the_help_page_answers_every_question_from_the_text_table(loop: Loop) -> None:
    with httpx.Client(base_url=loop.url) as client:
        page = client.get("/account/help")
    topics = [key for key in TEXT if key.startswith("help_") and key.endswith("_title")]
    assert len(topics) == 6 and page.text.count("<h2>") == len(topics)
    shown = html.unescape(page.text)
    for key in topics:
        assert f"<h2>{TEXT[key]}</h2>" in shown and TEXT[key.removesuffix("_title")] in shown, key
