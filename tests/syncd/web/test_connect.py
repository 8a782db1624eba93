"""``/connect/quickbooks/callback`` in the daemon: only a redirect for an attempt a waiting ``syncd
connect quickbooks`` opened is taken, once; a refusal is recorded for the command to print."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from starlette.exceptions import StarletteDeprecationWarning

from syncd.bootstrap import build_context
from syncd.config import parse
from syncd.context import Context
from syncd.secrets import SecretBox
from syncd.store import connects, migrate
from syncd.web.app import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

CALLBACK = "/connect/quickbooks/callback"


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[Context]:
    context = build_context(
        parse(
            {
                "secret_key": SecretBox.generate(),
                "database": {"url": f"sqlite:///{tmp_path / 'syncd.db'}"},
                "web": {"public_url": "http://testserver"},
                "stripe": {"api_key": "sk_test_123", "webhook_secret": "whsec_test"},
                "company": [{"realm_id": "111"}],
            }
        )
    )
    migrate.upgrade(context.db)
    yield context
    context.db.dispose()


def test_a_bare_get_tells_the_command_a_syncd_is_here(ctx: Context) -> None:
    answer = TestClient(create_app(ctx)).get(CALLBACK)
    assert answer.status_code == 400 and answer.headers["X-Syncd-Connect"] == "1"


def test_a_redirect_nobody_waits_for_is_refused_without_exchanging(ctx: Context) -> None:
    answer = TestClient(create_app(ctx)).get(
        CALLBACK, params={"code": "c", "state": "forged", "realmId": "1"}
    )
    assert answer.status_code == 400
    assert "not started by a waiting" in answer.text and "--paste" in answer.text


def test_a_refusal_at_intuit_is_recorded_for_the_waiting_command_and_taken_once(ctx: Context) -> None:
    connects.open_attempt(ctx.db, "st-1", now=ctx.clock(), ttl=timedelta(minutes=10))
    client = TestClient(create_app(ctx))
    answer = client.get(CALLBACK, params={"error": "access_denied", "state": "st-1"})
    assert answer.status_code == 400 and "refused the connection: access_denied" in answer.text
    result = connects.outcome(ctx.db, "st-1")
    assert result.finished and result.realm_id is None and "access_denied" in (result.error or "")
    again = client.get(CALLBACK, params={"code": "c", "state": "st-1", "realmId": "111"})
    assert again.status_code == 400 and "not started by a waiting" in again.text


def test_an_expired_attempt_is_not_taken(ctx: Context) -> None:
    connects.open_attempt(ctx.db, "st-old", now=ctx.clock() - timedelta(hours=1), ttl=timedelta(minutes=10))
    answer = TestClient(create_app(ctx)).get(
        CALLBACK, params={"code": "c", "state": "st-old", "realmId": "1"}
    )
    assert answer.status_code == 400 and "expired" in answer.text
