"""Webhook endpoints end to end through the real intake: forged bodies store nothing, a correctly
signed body is stored once however often it is delivered, and the right job is woken."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from samples import SAMPLES
from sqlalchemy import func, select
from starlette.testclient import TestClient

from syncd.bootstrap import build_context
from syncd.config import parse
from syncd.context import Context
from syncd.secrets import SecretBox
from syncd.store import migrate
from syncd.store.models import InboxEvent
from syncd.web.app import create_app

CONTRACTS = SAMPLES
STRIPE_SECRET = "whsec_test_secret"
VERIFIER = "verifier-token"


def stripe_body(event_id: str = "evt_1TestDelivery") -> bytes:
    event = json.loads((CONTRACTS / "stripe" / "event_checkout_session_completed.json").read_text())
    event["id"] = event_id
    event["api_version"] = "2026-10-28.endive"
    event["created"] = int(time.time())
    return json.dumps(event, separators=(",", ":")).encode()


def stripe_signature(body: bytes, secret: str = STRIPE_SECRET, at: int | None = None) -> str:
    t = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def qbo_body(realm: str) -> bytes:
    notice = {
        "eventNotifications": [
            {
                "realmId": realm,
                "dataChangeEvent": {
                    "entities": [
                        {
                            "name": "Invoice",
                            "id": "130",
                            "operation": "Update",
                            "lastUpdated": "2026-11-01T00:00:00Z",
                        }
                    ]
                },
            }
        ]
    }
    return json.dumps(notice).encode()


def qbo_signature(body: bytes, token: str = VERIFIER) -> str:
    return base64.b64encode(hmac.new(token.encode(), body, hashlib.sha256).digest()).decode()


@pytest.fixture
def ctx(database_url: str) -> Iterator[Context]:
    raw: dict[str, Any] = {
        "secret_key": SecretBox.generate(),
        "database": {"url": database_url},
        "web": {"public_url": "http://testserver"},
        "quickbooks": {"client_id": "c", "client_secret": "s", "webhook_verifier_token": VERIFIER},
        "stripe": {"api_key": "sk_test_123", "webhook_secret": STRIPE_SECRET},
        "company": [{"realm_id": "1269959970"}, {"realm_id": "222"}],
    }
    context = build_context(parse(raw))
    yield context
    context.db.dispose()


@pytest.fixture
def client(ctx: Context) -> Iterator[TestClient]:
    with TestClient(create_app(ctx)) as test_client:
        yield test_client


def stored(ctx: Context) -> int:
    with ctx.db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(InboxEvent)) or 0)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "t=1,v1=deadbeef",
        "garbage",
        stripe_signature(stripe_body(), secret="whsec_wrong"),
        stripe_signature(stripe_body(), at=int(time.time()) - 3600),  # a replay outside the tolerance
    ],
)
def test_forged_stripe_webhook_is_refused_and_nothing_stored(
    ctx: Context, client: TestClient, wakes: list[Any], header: str | None
) -> None:
    headers = {"Stripe-Signature": header} if header is not None else {}
    r = client.post("/webhooks/stripe", content=stripe_body(), headers=headers)
    assert r.status_code == 400
    assert stored(ctx) == 0
    assert wakes == []


def test_tampered_stripe_body_is_refused(ctx: Context, client: TestClient) -> None:
    body = stripe_body()
    signature = stripe_signature(body)
    r = client.post(
        "/webhooks/stripe",
        content=body.replace(b"complete", b"COMPLETE"),
        headers={"Stripe-Signature": signature},
    )
    assert r.status_code == 400
    assert stored(ctx) == 0


def test_signed_stripe_webhook_stored_once_even_when_delivered_twice(
    ctx: Context, client: TestClient, wakes: list[Any]
) -> None:
    body = stripe_body("evt_1Twice")
    for _ in range(2):
        r = client.post(
            "/webhooks/stripe", content=body, headers={"Stripe-Signature": stripe_signature(body)}
        )
        assert r.status_code == 200
    assert stored(ctx) == 1
    with ctx.db.transaction() as session:
        row = session.scalars(select(InboxEvent)).one()
        assert row.event_id == "evt_1Twice"
        assert row.payload == body  # the raw bytes, exactly as signed
    assert wakes == [("ingest", None), ("ingest", None)]


@pytest.mark.parametrize("header", [None, "", "AAAA", qbo_signature(qbo_body("222"), token="wrong")])
def test_forged_qbo_webhook_is_refused_with_401(
    ctx: Context, client: TestClient, wakes: list[Any], header: str | None
) -> None:
    headers = {"intuit-signature": header} if header is not None else {}
    r = client.post("/webhooks/quickbooks", content=qbo_body("222"), headers=headers)
    assert r.status_code == 401
    assert len(r.content) < 40
    assert stored(ctx) == 0
    assert wakes == []


def test_signed_qbo_webhook_wakes_pull_for_configured_company_only(
    client: TestClient, wakes: list[Any]
) -> None:
    body = qbo_body("222")
    r = client.post("/webhooks/quickbooks", content=body, headers={"intuit-signature": qbo_signature(body)})
    assert r.status_code == 200
    other = qbo_body("999")
    r = client.post("/webhooks/quickbooks", content=other, headers={"intuit-signature": qbo_signature(other)})
    assert r.status_code == 200
    assert wakes == [("pull", "222")]


def test_real_signed_qbo_sample_is_accepted(ctx: Context, tmp_path: Path, wakes: list[Any]) -> None:
    signature = json.loads((CONTRACTS / "qbo" / "webhook_legacy_signed_dotnet.signature.json").read_text())
    body = (CONTRACTS / "qbo" / "webhook_legacy_signed_dotnet.raw.json").read_bytes()
    raw: dict[str, Any] = {
        "secret_key": SecretBox.generate(),
        "database": {"url": f"sqlite:///{tmp_path / 'other.db'}"},
        "quickbooks": {"webhook_verifier_token": signature["verifier_token"]},
        "stripe": {"api_key": "sk_test_123", "webhook_secret": STRIPE_SECRET},
        "company": [{"realm_id": "1269959970"}],
    }
    other = build_context(parse(raw))
    migrate.upgrade(other.db)
    seen: list[tuple[str, str | None]] = []
    other.wake = lambda job, realm: seen.append((job, realm))
    with TestClient(create_app(other)) as client:
        r = client.post(
            "/webhooks/quickbooks", content=body, headers={"intuit-signature": signature["intuit-signature"]}
        )
        flipped = client.post(
            "/webhooks/quickbooks",
            content=body.replace(b"Vendor", b"Vendoa"),
            headers={"intuit-signature": signature["intuit-signature"]},
        )
    assert r.status_code == 200
    assert flipped.status_code == 401
    assert seen == [("pull", "1269959970")]
    other.db.dispose()


def test_unparseable_but_signed_qbo_body_is_400(client: TestClient, wakes: list[Any]) -> None:
    body = b"not json"
    r = client.post("/webhooks/quickbooks", content=body, headers={"intuit-signature": qbo_signature(body)})
    assert r.status_code == 400
    assert wakes == []


MALFORMED_QBO = [
    b"[1]",
    b'"text"',
    b"null",
    b"{}",
    b'{"eventNotifications": {}}',
    b'{"eventNotifications": [1]}',
    b'{"eventNotifications": [{"realmId": "222", "dataChangeEvent": "x"}]}',
    b'{"eventNotifications": [{"realmId": "222", "dataChangeEvent": []}]}',
    b'{"eventNotifications": [{"realmId": {"a": 1}, "dataChangeEvent": {"entities": [1, "x"]}}]}',
    b'{"eventNotifications": [{"realmId": "222", "dataChangeEvent": {"entities": {"a": 1}}}]}',
    b'[{"type": 5, "intuitaccountid": "222"}]',
    b'[{"type": "qbo.invoice.updated.v1", "intuitaccountid": ["222"], "intuitentityid": 1}]',
    b'[{"type": "qbo.invoice.updated.v1"}]',
    b"[null]",
    b'[{"specversion": "1.0", "data": "x"}]',
    '{"eventNotifications": [{"realmId": "\u0000"}]}'.encode(),
    b"\xff\xfe",
]


@pytest.mark.parametrize("body", MALFORMED_QBO, ids=range(len(MALFORMED_QBO)))
def test_signed_but_malformed_qbo_body_is_400(client: TestClient, wakes: list[Any], body: bytes) -> None:
    r = client.post("/webhooks/quickbooks", content=body, headers={"intuit-signature": qbo_signature(body)})
    assert r.status_code in (200, 400), r.text
    if r.status_code == 200:
        assert all(realm in ("1269959970", "222") for _, realm in wakes)


def _event(**changes: Any) -> bytes:
    event = json.loads(stripe_body())
    for key, value in changes.items():
        if value is ...:
            del event[key]
        else:
            event[key] = value
    return json.dumps(event).encode()


MALFORMED_STRIPE = [
    b"not json",
    b"[]",
    b"null",
    b'"evt"',
    b"{}",
    b'{"object": "event"}',
    _event(id=...),
    _event(id=None),
    _event(id=5),
    _event(id={"x": 1}),
    _event(type=...),
    _event(type=None),
    _event(type=["x"]),
    _event(created="yesterday"),
    _event(created=None),
    _event(data=None),
    _event(data=[]),
    _event(data={"object": "x"}),
    _event(data={"object": {"metadata": "x", "id": "cs_1", "object": "checkout.session"}}),
    _event(data={"object": {"metadata": {"company": 5}, "id": "cs_1", "object": "checkout.session"}}),
    _event(data={"object": {"id": "cs_1", "object": "checkout.session", "currency": "xx"}}),
    b"\xff\xfe",
]


@pytest.mark.parametrize("body", MALFORMED_STRIPE, ids=range(len(MALFORMED_STRIPE)))
def test_signed_but_malformed_stripe_body_is_400(ctx: Context, client: TestClient, body: bytes) -> None:
    r = client.post("/webhooks/stripe", content=body, headers={"Stripe-Signature": stripe_signature(body)})
    assert r.status_code == 400, r.text
    assert stored(ctx) == 0
