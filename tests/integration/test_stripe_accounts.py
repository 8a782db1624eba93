"""Issue 14, many Stripe accounts, over both simulators in one process: four QBO companies, two on
Stripe accounts of their own (own key, own webhook secret) and a pair on Stripe Connect accounts of
the ``[stripe]`` platform (its key plus ``Stripe-Account``; events named by ``account``, signed by
the platform's Connect endpoint), all paid at the same moment. Each payout is booked in its own
company's QuickBooks only, each company's audit reads its own account and comes out clean, and a
webhook signed with no configured secret is refused."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import requests
from books_loop import BANK, FollowStripe, payment, settle
from loop_harness import WEBHOOK_SECRET, Loop, _Late, settings_data
from outside import outside
from qbo_tokens import tokens_from
from sqlalchemy import select

from connectors.serving import ThreadedServer
from connectors.stripe.webhooks import sign
from syncd import config
from syncd.audit import run_audit
from syncd.bootstrap import build_context
from syncd.companies import ensure_companies
from syncd.context import token_store
from syncd.stages.collect import open_attempt
from syncd.stages.cycle import run_cycle
from syncd.stages.events import backfill
from syncd.store.migrate import upgrade
from syncd.store.models import InvoiceRow, PaymentRow
from syncd.web.app import create_app

PLATFORM_SECRET = WEBHOOK_SECRET  # the [stripe] account's endpoint
CONNECT_SECRET = "whsec_platform_connect"
OWN = {"1111": ("sk_test_own_first", "whsec_own_first"), "2222": ("sk_test_own_second", "whsec_own_second")}
CONNECTED = ("3333", "4444")


@dataclass
class Firm(Loop):
    """An accounting firm's syncd: four companies, each on a Stripe account of its own."""

    accounts: dict[str, str]  # realm -> simulator account id

    def payouts(self, realm: str) -> list[dict[str, Any]]:
        return self.stripe.objects("payout", self.accounts[realm])

    def transfers(self, realm: str) -> list[dict[str, Any]]:
        return self.qbo.entities("Transfer", realm_id=realm)


def _company(realm: str) -> dict[str, Any]:
    company: dict[str, Any] = {"realm_id": realm, "accounts": {"bank": BANK}, "notify_new_invoices": False}
    if realm in OWN:
        company["stripe"] = {"api_key": OWN[realm][0], "webhook_secret": OWN[realm][1]}
    return company


@contextmanager
def firm(tmp_path: Path, database_url: str) -> Iterator[Firm]:
    late = _Late()
    server = ThreadedServer(late)
    clock = FollowStripe()
    realms = [*OWN, *CONNECTED]
    with outside(invoices=4, clock=clock, currencies=("USD",)) as out:
        qbo, stripe = out.qbo, out.stripe
        for i, realm in enumerate(realms):
            qbo.add_company(realm, seed=11 + i, invoices=4, company_name=f"Client {realm}")
        accounts = {realm: stripe.add_account(OWN[realm][0]) for realm in OWN}
        accounts.update({realm: stripe.add_account(connected=True) for realm in CONNECTED})
        companies = [_company(realm) for realm in realms]
        for realm in CONNECTED:
            companies[realms.index(realm)]["stripe_account"] = accounts[realm]
            companies[realms.index(realm)]["stripe"] = {"webhook_secret": CONNECT_SECRET}
        data = settings_data(server.url, qbo, stripe, out.sink, database_url)
        settings = config.parse({**data, "company": companies})
        ctx = build_context(settings, clock=clock)
        upgrade(ctx.db)
        ensure_companies(ctx)
        for realm in realms:
            token_store(ctx).save(realm, tokens_from(qbo.mint_tokens(realm)))
        late.app = create_app(ctx, mailbox=out.sink.mailbox)
        hook = f"{server.url}/webhooks/stripe"
        stripe.add_webhook_endpoint(hook, PLATFORM_SECRET)
        stripe.add_webhook_endpoint(hook, CONNECT_SECRET, connect=True)
        for realm in OWN:
            stripe.add_webhook_endpoint(hook, OWN[realm][1], account=accounts[realm])
        with server:
            try:
                clock.follow(stripe)
                for realm in realms:
                    run_cycle(ctx, realm)
                yield Firm(qbo=qbo, stripe=stripe, sink=out.sink, ctx=ctx, url=server.url, accounts=accounts)
            finally:
                ctx.db.dispose()


def _open(loop: Firm, realm: str) -> InvoiceRow:
    with loop.ctx.db.transaction() as s:
        row = s.scalars(
            select(InvoiceRow)
            .where(InvoiceRow.company_id == realm, InvoiceRow.status == "open")
            .order_by(InvoiceRow.qbo_id)
        ).first()
        assert row is not None, realm
        s.expunge(row)
        return row


def _pay_all_at_once(loop: Firm, realms: list[str]) -> dict[str, PaymentRow]:
    """One invoice of each company paid in the same moment: sessions first, then every payer."""
    now = loop.ctx.clock()
    keys: dict[str, str] = {}
    invoices = {realm: _open(loop, realm) for realm in realms}
    with loop.ctx.db.transaction() as s:
        for realm, inv in invoices.items():
            keys[realm] = f"pay:{realm}:{inv.qbo_id}:{now.timestamp()}"
            open_attempt(s, key=keys[realm], invoices=[inv], amount=inv.balance, now=now)
    loop.drain()
    rows = {realm: payment(loop, key) for realm, key in keys.items()}
    for row in rows.values():
        assert row.checkout_session_id is not None
        loop.stripe.pay_checkout(row.checkout_session_id, "card_success")
    settle(loop)
    return {realm: payment(loop, key) for realm, key in keys.items()}


def test_each_company_books_its_own_accounts_payouts_and_audits_clean(
    tmp_path: Path, database_url: str
) -> None:
    with firm(tmp_path, database_url) as loop:
        realms = [*OWN, *CONNECTED]
        paid = _pay_all_at_once(loop, realms)
        for realm, row in paid.items():
            # Each checkout was made on the company's own account, and nowhere else.
            sessions = {s["id"] for s in loop.stripe.objects("checkout.session", loop.accounts[realm])}
            assert row.checkout_session_id in sessions
            assert row.qbo_payment_id is not None, realm
            assert loop.qbo.entity("Payment", row.qbo_payment_id, realm_id=realm) is not None
        assert loop.stripe.objects("checkout.session") == []  # the platform's own account took nothing

        loop.stripe.clock.advance(timedelta(days=5))
        settle(loop)
        for realm in realms:
            [payout] = loop.payouts(realm)
            assert payout["status"] == "paid"
            transfers = loop.transfers(realm)
            assert len(transfers) == 1 and payout["id"] in transfers[0]["PrivateNote"], realm
            assert Decimal(str(transfers[0]["Amount"])) == Decimal(payout["amount"]) / 100
        # No payout went anywhere but to its own company's books: one Transfer each, all different.
        assert len({loop.transfers(r)[0]["PrivateNote"] for r in realms}) == len(realms)
        assert loop.qbo.entities("Transfer") == []  # the seeded first company has no account here

        today = loop.stripe.clock.now().date()
        for realm in realms:
            report = run_audit(loop.ctx, realm, date(2000, 1, 1), today + timedelta(days=30))
            assert report.clean, report.to_text()
            # Its own account's movements only: the payment, its fee netted, and its payout.
            assert report.totals["USD"].transactions == 2, (realm, report.to_text())


def test_a_webhook_signed_with_no_configured_secret_is_refused(tmp_path: Path, database_url: str) -> None:
    with firm(tmp_path, database_url) as loop:
        body = (
            b'{"id": "evt_1", "object": "event", "type": "customer.created", "created": 1, "livemode": false,'
            b' "data": {"object": {"id": "cus_1", "object": "customer", "metadata": {}}}}'
        )
        now = int(time.time())
        forged = requests.post(
            f"{loop.url}/webhooks/stripe",
            data=body,
            headers={"Stripe-Signature": sign(body, "whsec_someone_else", now)},
            timeout=5,
        )
        assert forged.status_code == 400
        own = requests.post(
            f"{loop.url}/webhooks/stripe",
            data=body,
            headers={"Stripe-Signature": sign(body, OWN["2222"][1], now)},
            timeout=5,
        )
        assert own.status_code == 200


def test_the_backfill_lists_each_accounts_events(tmp_path: Path, database_url: str) -> None:
    with firm(tmp_path, database_url) as loop:
        loop.stripe.webhooks.paused = True  # nothing is delivered: only the backfill can find them
        realm = CONNECTED[1]
        now = loop.ctx.clock()
        inv = _open(loop, realm)
        key = f"pay:{realm}:{inv.qbo_id}:backfill"
        with loop.ctx.db.transaction() as s:
            open_attempt(s, key=key, invoices=[inv], amount=inv.balance, now=now)
        loop.drain()
        session_id = payment(loop, key).checkout_session_id
        assert session_id is not None
        loop.stripe.pay_checkout(session_id, "card_success")
        assert backfill(loop.ctx) > 0
        loop.drain()
        row = payment(loop, key)
        assert row.status == "succeeded" and row.qbo_payment_id is not None
        assert loop.qbo.entity("Payment", row.qbo_payment_id, realm_id=realm) is not None
