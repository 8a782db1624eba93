"""Credit hold over the simulators: failed and returned bank debits count against a customer; at
``bank_debit_strikes`` they are offered card only (page, Checkout Session, hostile forms) and staff
are told once, until ``syncd holds --release``."""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from books_loop import advance, books_loop, open_invoices, pay, payment, settle
from loop_harness import Loop
from sqlalchemy import select

from connectors.stripe.simulator.errors import ApiError
from syncd.cli.main import run
from syncd.domain.payments import PaymentStatus
from syncd.errors import PermanentError
from syncd.stages.collect import PortalService
from syncd.store import holds
from syncd.store.models import Effect, InvoiceRow, PaymentRow

BANK = "us_bank_account"
STAFF = "staff@northwind.test"
CSRF = re.compile(r'name="csrf_token"\s+value="([^"]+)"')
CHECKOUT = re.compile(r"/pay/(cs_[A-Za-z0-9_]+)")


def _one_customers_invoices(loop: Loop, count: int) -> list[InvoiceRow]:
    """``count`` open USD invoices of one customer (the seeded company has such a customer)."""
    invoices = open_invoices(loop)
    customer, found = Counter(i.customer_id for i in invoices).most_common(1)[0]
    assert found >= count, "the seeded company has no customer with enough open invoices"
    return [i for i in invoices if i.customer_id == customer][:count]


def _page(portal: Any, loop: Loop, invoice: InvoiceRow) -> str:
    answer = portal.http.get(loop.ctx.links.url(loop.realm, invoice.qbo_id), timeout=10)
    answer.raise_for_status()
    return str(answer.text)


def _session(loop: Loop, session_id: str) -> dict[str, Any]:
    return next(s for s in loop.stripe.objects("checkout.session") if s["id"] == session_id)


def _hostile_pay(portal: Any, loop: Loop, invoice: InvoiceRow) -> str:
    """A Pay form submitted with every field a forger might hope selects bank debit."""
    url = loop.ctx.links.url(loop.realm, invoice.qbo_id)
    token = CSRF.search(_page(portal, loop, invoice))
    assert token, "no Pay form"
    form = {
        "csrf_token": token.group(1),
        "payment_method": BANK,
        "payment_method_types": BANK,
        "allowed_payment_method_types": BANK,
        "method": BANK,
    }
    answer = portal.http.post(f"{url}/pay", data=form, allow_redirects=False, timeout=30)
    assert answer.status_code == 303, answer.text[:300]
    found = CHECKOUT.search(answer.headers["location"])
    assert found, answer.headers["location"]
    return found.group(1)


def _config(loop: Loop, tmp_path: Path) -> str:
    """A configuration for the CLI over the loop's own database."""
    path = tmp_path / "cli.toml"
    path.write_text(
        f'secret_key = "{loop.ctx.settings.secret_key}"\n'
        f'[database]\nurl = "{loop.ctx.settings.database_url}"\n'
        f'[[company]]\nrealm_id = "{loop.realm}"\npayment_methods = ["card", "{BANK}"]\n'
    )
    return str(path)


def _hold_alerts(loop: Loop) -> list[Any]:
    return [m for m in loop.sink.mailbox.all() if STAFF in m.to and "credit hold" in m.subject.lower()]


def test_two_bank_debit_strikes_mean_card_only_until_staff_release(
    tmp_path: Path, portal: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    with books_loop(tmp_path) as loop:
        failing, returning, other = _one_customers_invoices(loop, 3)
        customer = other.customer_id
        failed = pay(loop, [failing], "ach_failure")
        returned = pay(loop, [returning], "ach_return")
        advance(loop, 7)  # the first debit fails, the second succeeds
        assert payment(loop, failed.key).status == PaymentStatus.FAILED.value
        with loop.ctx.db.transaction() as s:
            assert holds.active(s, loop.realm, customer) is None  # one strike is not enough
        assert "by card or bank account" in _page(portal, loop, other)

        # The return is on its way while the customer opens a Checkout Session that offers bank
        # debit: the hold must close it (its own expiry is a day away).
        loop.stripe.webhooks.paused = True
        loop.stripe.clock.advance(timedelta(days=7))
        before = portal.start_payment(loop.ctx.links.url(loop.realm, other.qbo_id))
        assert set(_session(loop, before)["payment_method_types"]) == {"card", BANK}
        loop.stripe.webhooks.paused = False
        settle(loop)
        assert payment(loop, returned.key).status == PaymentStatus.RETURNED.value

        with loop.ctx.db.transaction() as s:
            hold = holds.active(s, loop.realm, customer)
            assert hold is not None and hold.strikes_at_placement == 2 and hold.seq == 1
            keys = list(s.scalars(select(Effect.key).where(Effect.key.startswith("email:staff:hold:"))))
            stale = s.scalar(select(PaymentRow).where(PaymentRow.checkout_session_id == before))
            assert stale is not None and stale.status == PaymentStatus.EXPIRED.value
        assert keys == [f"email:staff:hold:{loop.realm}:{customer}:1"]
        (alert,) = _hold_alerts(loop)
        assert other.customer_name in (alert.text or "") and "--release" in (alert.text or "")
        assert _session(loop, before)["status"] == "expired"
        told = [m for m in loop.sink.mailbox.all() if other.email and other.email in m.to]
        assert any("made by card" in (m.text or "") for m in told)

        page = _page(portal, loop, other)
        assert "You can pay by card on the next page." in page and "bank account" not in page
        card_only = portal.start_payment(loop.ctx.links.url(loop.realm, other.qbo_id))
        assert card_only != before
        assert _session(loop, card_only)["payment_method_types"] == ["card"]
        assert _session(loop, card_only)["allowed_payment_method_types"] == ["card"]
        with pytest.raises(ApiError, match="does not offer"):
            loop.stripe.pay_checkout(card_only, "ach_success")
        forged = _hostile_pay(portal, loop, other)
        assert _session(loop, forged)["payment_method_types"] == ["card"]
        # Even a session made for the invoices outside the portal (the worker's path) is card only.
        attempt = pay(loop, [failing], "card_declined")
        assert _session(loop, attempt.checkout_session_id or "")["payment_method_types"] == ["card"]

        config = _config(loop, tmp_path)
        capsys.readouterr()
        assert run(["--config", config, "holds", "--company", loop.realm]) == 0
        listing = capsys.readouterr().out
        row = rf"^{customer}\s+{re.escape(other.customer_name[:30])}\s+2\s"
        assert re.search(row, listing, re.M), listing
        assert "1 customer(s) on credit hold" in listing
        assert run(["--config", config, "holds", "--company", loop.realm, "--release", customer]) == 0
        assert run(["--config", config, "holds", "--company", loop.realm, "--release", customer]) == 1
        assert "is not on credit hold" in capsys.readouterr().err

        assert "by card or bank account" in _page(portal, loop, other)
        again = portal.start_payment(loop.ctx.links.url(loop.realm, other.qbo_id))
        assert again != card_only
        assert set(_session(loop, again)["payment_method_types"]) == {"card", BANK}
        settle(loop)
        assert len(_hold_alerts(loop)) == 1


def test_bank_debit_only_company_asks_a_held_customer_to_get_in_touch(tmp_path: Path, portal: Any) -> None:
    with books_loop(
        tmp_path,
        payment_methods=[BANK],
        bank_debit_strikes=1,
        branding={"name": "Northwind IT Services", "contact_email": "accounts@northwind.test"},
    ) as loop:
        failing, other = _one_customers_invoices(loop, 2)
        assert "from your bank account" in _page(portal, loop, other)
        pay(loop, [failing], "ach_failure")
        advance(loop, 7)
        with loop.ctx.db.transaction() as s:
            assert holds.active(s, loop.realm, other.customer_id) is not None
        page = _page(portal, loop, other)
        assert "please contact Northwind IT Services" in page and "accounts@northwind.test" in page
        assert "csrf_token" not in page and "Continue to payment" not in page
        with loop.ctx.db.transaction() as s:
            before = len(s.scalars(select(PaymentRow)).all())
        with pytest.raises(PermanentError, match="contact"):
            PortalService(loop.ctx).start_payment(loop.ctx.links.token(loop.realm, other.qbo_id), None)
        with loop.ctx.db.transaction() as s:
            assert len(s.scalars(select(PaymentRow)).all()) == before  # no session, not even an attempt
        assert len(_hold_alerts(loop)) == 1
        told = [m for m in loop.sink.mailbox.all() if other.email and other.email in m.to]
        assert not any("made by card" in (m.text or "") for m in told)


def test_zero_strikes_never_holds(tmp_path: Path, portal: Any) -> None:
    with books_loop(tmp_path, bank_debit_strikes=0) as loop:
        first, second, other = _one_customers_invoices(loop, 3)
        pay(loop, [first], "ach_failure")
        pay(loop, [second], "ach_failure")
        advance(loop, 7)
        with loop.ctx.db.transaction() as s:
            assert holds.strikes(s, loop.realm, other.customer_id) == 2
            assert holds.current(s, loop.realm) == []
        assert "by card or bank account" in _page(portal, loop, other)
        assert _hold_alerts(loop) == []
