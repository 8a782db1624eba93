"""Which Stripe account each company is paid into, and how a webhook finds its company: by the
secret that signed it, or by Connect's ``account`` field."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from connectors.stripe.webhooks import sign
from syncd import config
from syncd.bootstrap import build_context
from syncd.config import DEFAULT_ACCOUNT
from syncd.context import Context
from syncd.domain import BalanceTxn
from syncd.errors import ConfigError, SignatureError
from syncd.intake import accept_stripe, inbox_account
from syncd.secrets import SecretBox
from syncd.stages.books.payouts import payout_company
from syncd.store.migrate import upgrade
from syncd.store.models import InboxEvent, MoneyMovement

PLATFORM = ("sk_test_platform", "whsec_platform")
OWN = ("sk_test_own", "whsec_own")
CONNECT_SECRET = "whsec_connect"


def _settings(companies: list[dict[str, Any]], database_url: str = "sqlite://") -> config.Settings:
    return config.parse(
        {
            "secret_key": SecretBox.generate(),
            "database": {"url": database_url},
            "stripe": {"api_key": PLATFORM[0], "webhook_secret": PLATFORM[1]},
            "company": companies,
        }
    )


def test_companies_are_grouped_by_the_account_they_are_paid_into() -> None:
    settings = _settings(
        [
            {"realm_id": "1"},
            {"realm_id": "2", "stripe": {"api_key": OWN[0], "webhook_secret": OWN[1]}},
            {"realm_id": "3", "stripe": {"api_key": OWN[0], "webhook_secret": OWN[1]}},
            {"realm_id": "4", "stripe_account": "acct_1Four"},
            {"realm_id": "5", "stripe": {"api_key": PLATFORM[0]}},
        ]
    )
    accounts = {a.key: a for a in settings.stripe_accounts()}
    assert list(accounts) == [DEFAULT_ACCOUNT, "own:2", "acct_1Four"]
    assert accounts[DEFAULT_ACCOUNT].companies == ("1", "5") and accounts[DEFAULT_ACCOUNT].shared
    assert accounts["own:2"].companies == ("2", "3") and accounts["own:2"].shared
    assert accounts["own:2"].settings.api_key == OWN[0] and accounts["own:2"].settings.stripe_account is None
    connected = accounts["acct_1Four"]
    assert connected.companies == ("4",) and not connected.shared
    # Connect: the platform's key and secret, and the header naming the connected account.
    assert (connected.settings.api_key, connected.settings.webhook_secret) == PLATFORM
    assert connected.settings.stripe_account == "acct_1Four"


@pytest.mark.parametrize(
    ("company", "setting"),
    [
        ({"realm_id": "1", "stripe_account": "1234"}, "company[0].stripe_account"),
        ({"realm_id": "1", "stripe": {"api_key": "pk_test_x"}}, "company[0].stripe.api_key"),
        ({"realm_id": "1", "stripe": {"webhook_secret": "secret"}}, "company[0].stripe.webhook_secret"),
        ({"realm_id": "1", "stripe": {"key": OWN[0]}}, "company[0].stripe.key"),
    ],
)
def test_a_wrong_stripe_setting_of_a_company_is_named(company: dict[str, Any], setting: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _settings([company])
    assert caught.value.setting == setting


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[Context]:
    settings = _settings(
        [
            {"realm_id": "a"},
            {"realm_id": "z"},
            {"realm_id": "b", "stripe": {"api_key": OWN[0], "webhook_secret": OWN[1]}},
            {"realm_id": "c", "stripe_account": "acct_1Cee", "stripe": {"webhook_secret": CONNECT_SECRET}},
        ],
        f"sqlite:///{tmp_path / 'syncd.db'}",
    )
    built = build_context(settings)
    upgrade(built.db)
    yield built
    built.db.dispose()


def _event(event_id: str, *, account: str | None = None, company: str | None = None) -> bytes:
    event: dict[str, Any] = {
        "id": event_id,
        "object": "event",
        "type": "payout.paid",
        "created": 1,
        "livemode": False,
        "data": {
            "object": {"id": "po_1", "object": "payout", "metadata": {"company": company} if company else {}}
        },
    }
    if account is not None:
        event["account"] = account
    return json.dumps(event).encode()


def _accept(ctx: Context, body: bytes, secret: str) -> str | None:
    accept_stripe(ctx, body, sign(body, secret, int(time.time())))
    with ctx.db.transaction() as session:
        row = session.scalars(select(InboxEvent).where(InboxEvent.event_id == json.loads(body)["id"])).one()
        return row.company_id


def test_each_webhook_is_verified_with_its_accounts_secret_and_routed(ctx: Context) -> None:
    assert _accept(ctx, _event("evt_own"), OWN[1]) == "b"
    assert _accept(ctx, _event("evt_connect", account="acct_1Cee"), CONNECT_SECRET) == "c"
    assert _accept(ctx, _event("evt_platform", company="a"), PLATFORM[1]) == "a"
    # An account no company is paid into: stored, but nobody's (its payouts book nowhere).
    assert _accept(ctx, _event("evt_stranger", account="acct_1Stranger"), CONNECT_SECRET) is None
    assert ctx.stripe_account_named("acct_1Stranger") is None
    with pytest.raises(SignatureError):
        accept_stripe(ctx, _event("evt_forged"), sign(_event("evt_forged"), "whsec_forged", int(time.time())))


def test_the_inbox_gives_an_own_accounts_event_its_account_back(ctx: Context) -> None:
    parsed = ctx.stripe.parse_event(_event("evt_1"))
    assert parsed.account is None
    assert inbox_account(ctx, parsed, "b").account == "own:b"
    assert inbox_account(ctx, parsed, "a").account is None  # the shared [stripe] account
    assert inbox_account(ctx, ctx.stripe.parse_event(_event("evt_2", account="acct_1Cee")), "b").account == (
        "acct_1Cee"
    )
    own = ctx.stripe_account_named("own:b")
    assert own is not None and own.companies == ("b",)


def _settled(ctx: Context, owners: dict[str, str]) -> list[BalanceTxn]:
    """Balance transactions a payout settled, each already booked to the company named."""
    at = datetime(2026, 11, 2, tzinfo=UTC)
    one = Decimal("10.00")
    with ctx.db.transaction() as session:
        for txn_id, realm in owners.items():
            session.add(
                MoneyMovement(
                    id=txn_id,
                    company_id=realm,
                    type="charge",
                    source_id=None,
                    amount=one,
                    fee=Decimal(0),
                    net=one,
                    currency="USD",
                    created=at,
                    payout_id=None,
                    qbo_entries={},
                )
            )
    return [
        BalanceTxn(txn_id, "charge", None, one, Decimal(0), one, "USD", None, at, at) for txn_id in owners
    ]


def test_a_payout_goes_to_its_accounts_company_and_on_a_shared_account_to_the_majority(ctx: Context) -> None:
    settled = _settled(
        ctx, {"txn_1": "z", "txn_2": "z", "txn_3": "a", "txn_4": "b", "txn_5": "b", "txn_6": "b"}
    )
    with ctx.db.transaction() as session:
        # The [stripe] account, shared by a and z: today's rule, the company owning most of it
        # among the account's companies (b's movements, on its own account, never count here).
        assert payout_company(ctx, session, settled, "a") == "z"
        # An account of one company: that company's, whatever the movements say.
        assert payout_company(ctx, session, settled[:3], "b") == "b"
        assert payout_company(ctx, session, settled, "c") == "c"
