"""A company whose QuickBooks or Stripe connection is lost: the payer gets an honest 503 with
Retry-After (never a 404 that says the link is wrong), the company pauses, and it is said once."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
import structlog
from loop_harness import Loop, running_loop
from sqlalchemy import select

from syncd.errors import AuthError, Credential
from syncd.ports.portal import Outcome
from syncd.stages.collect import PortalService
from syncd.stages.cycle import run_cycle
from syncd.store.models import Company, InvoiceRow


def _open_token(loop: Loop) -> str:
    run_cycle(loop.ctx, loop.realm)
    with loop.ctx.db.transaction() as s:
        invoice = s.scalars(select(InvoiceRow).where(InvoiceRow.status == "open")).first()
        assert invoice is not None
        return loop.ctx.links.token(loop.realm, invoice.qbo_id)


def _company(loop: Loop) -> tuple[str, str | None]:
    with loop.ctx.db.transaction() as s:
        row = s.get(Company, loop.realm)
        assert row is not None
        return row.status, row.pause_credential


def test_a_lost_quickbooks_connection_is_a_503_for_the_pdf_and_pauses_the_company_once(
    tmp_path: Path,
) -> None:
    with running_loop(tmp_path) as loop:
        token = _open_token(loop)
        loop.qbo.faults.unauthorized_next(1000)  # every call refused, the refresh too
        with structlog.testing.capture_logs() as logs:
            answers = [requests.get(f"{loop.url}/i/{token}/pdf", timeout=30) for _ in range(2)]
        assert [(r.status_code, r.headers.get("retry-after")) for r in answers] == [(503, "1800")] * 2
        assert "try again later" in answers[0].text
        assert _company(loop) == ("reconnect_needed", Credential.QBO_CONNECTION.value)
        assert [e["event"] for e in logs].count("company_paused") == 1
        # The invoice page itself is served from the mirror: the payer still sees what is owed.
        assert requests.get(f"{loop.url}/i/{token}", timeout=30).status_code == 200


def test_a_refused_stripe_key_stops_new_payments_with_an_honest_answer(tmp_path: Path) -> None:
    with running_loop(tmp_path) as loop:
        token = _open_token(loop)
        loop.stripe.roll_api_key("sk_test_rolled")
        portal = PortalService(loop.ctx)
        with pytest.raises(AuthError) as refused:
            portal.start_payment(token, None)
        assert refused.value.credential is Credential.STRIPE_KEY
        assert _company(loop) == ("paused", Credential.STRIPE_KEY.value)
        # The next payer is told at once, without another attempt at Stripe.
        checkouts = len(loop.stripe.objects("checkout.session"))
        with pytest.raises(AuthError):
            portal.start_payment(token, None)
        assert len(loop.stripe.objects("checkout.session")) == checkouts


def test_a_payer_back_from_checkout_while_the_key_is_refused_is_told_pending(tmp_path: Path) -> None:
    with running_loop(tmp_path) as loop:
        token = _open_token(loop)
        portal = PortalService(loop.ctx)
        session_id = portal.start_payment(token, None).rsplit("/", 1)[-1]
        loop.stripe.pay_checkout(session_id, "card_success")
        loop.stripe.roll_api_key("sk_test_rolled")
        # Stripe took the money; its webhook still arrives and is kept, so "pending" is the truth.
        assert portal.outcome(token, session_id) is Outcome.PENDING
        assert _company(loop) == ("paused", Credential.STRIPE_KEY.value)
