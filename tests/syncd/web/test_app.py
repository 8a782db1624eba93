"""The assembled app: routes, body limits, health, metrics, CSRF on portal POSTs, security headers."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from syncd.bootstrap import build_context
from syncd.config import parse
from syncd.context import Context
from syncd.errors import PermanentError, SignatureError, TransientError
from syncd.ports.portal import Consenting, InvoiceView, Outcome
from syncd.secrets import SecretBox
from syncd.store import inbox, migrate
from syncd.web.app import create_app

METRICS_TOKEN = "scrape-me-0123456789"
SCRAPER = {"Authorization": f"Bearer {METRICS_TOKEN}"}


def settings_dict(tmp_path: Path) -> dict[str, Any]:
    return {
        "secret_key": SecretBox.generate(),
        "database": {"url": f"sqlite:///{tmp_path / 'syncd.db'}"},
        "web": {"public_url": "http://testserver", "metrics_token": METRICS_TOKEN},
        "quickbooks": {"client_id": "c", "client_secret": "s", "webhook_verifier_token": "verifier"},
        "stripe": {"api_key": "sk_test_123", "webhook_secret": "whsec_test"},
        "company": [{"realm_id": "111"}],
    }


class NoInvoices:
    def invoice(self, token: str) -> InvoiceView | None:
        return None

    def start_payment(self, token: str, amount: Decimal | None, keep: Consenting | None = None) -> str:
        raise PermanentError("no")

    def outcome(self, token: str, session_id: str | None) -> Outcome:
        return Outcome.FAILED

    def invoice_pdf(self, token: str) -> bytes | None:
        return None


class FakeIntake:
    """Records what reached it; ``fail`` makes it raise like the real intake would."""

    def __init__(self) -> None:
        self.stripe: list[tuple[bytes, str | None]] = []
        self.qbo: list[tuple[bytes, str | None]] = []
        self.fail: Exception | None = None

    def accept_stripe(self, ctx: Context, body: bytes, signature: str | None) -> str:
        if self.fail is not None:
            raise self.fail
        self.stripe.append((body, signature))
        return "evt_1"

    def accept_qbo(self, ctx: Context, body: bytes, signature: str | None) -> list[str]:
        if self.fail is not None:
            raise self.fail
        self.qbo.append((body, signature))
        return ["111", "111"]


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[Context]:
    context = build_context(parse(settings_dict(tmp_path)))
    migrate.upgrade(context.db)
    yield context
    context.db.dispose()


def client_for(ctx: Context, intake: FakeIntake, **kwargs: Any) -> TestClient:
    return TestClient(create_app(ctx, backend=NoInvoices(), intake=intake, **kwargs))


def test_stripe_webhook_hands_raw_body_to_intake_and_wakes_ingest(
    ctx: Context, wakes: list[tuple[str, str | None]]
) -> None:
    intake = FakeIntake()
    with client_for(ctx, intake) as client:
        body = b'{"id": "evt_1",  "spacing": "kept"}'
        r = client.post("/webhooks/stripe", content=body, headers={"Stripe-Signature": "t=1,v1=ab"})
    assert r.status_code == 200
    assert intake.stripe == [(body, "t=1,v1=ab")]
    assert wakes == [("ingest", None)]


def test_qbo_webhook_wakes_each_company_once(ctx: Context, wakes: list[tuple[str, str | None]]) -> None:
    intake = FakeIntake()
    with client_for(ctx, intake) as client:
        r = client.post("/webhooks/quickbooks", content=b"{}", headers={"intuit-signature": "sig"})
    assert r.status_code == 200
    assert intake.qbo == [(b"{}", "sig")]
    assert wakes == [("pull", "111")]


@pytest.mark.parametrize(
    ("path", "error", "status"),
    [
        ("/webhooks/stripe", SignatureError("forged"), 400),
        ("/webhooks/quickbooks", SignatureError("forged"), 401),
        ("/webhooks/stripe", PermanentError("bad json"), 400),
        ("/webhooks/quickbooks", TransientError("db locked"), 503),
        ("/webhooks/stripe", RuntimeError("bug"), 500),
    ],
)
def test_webhook_errors_map_to_small_answers(
    ctx: Context, wakes: list[tuple[str, str | None]], path: str, error: Exception, status: int
) -> None:
    intake = FakeIntake()
    intake.fail = error
    with client_for(ctx, intake) as client:
        r = client.post(path, content=b"{}")
    assert r.status_code == status
    assert len(r.content) < 40
    assert "Traceback" not in r.text
    assert wakes == []


def test_huge_body_is_refused_without_reaching_intake(ctx: Context) -> None:
    intake = FakeIntake()
    with client_for(ctx, intake, max_body=1024) as client:
        declared = client.post("/webhooks/stripe", content=b"x" * 2048)

        def chunks() -> Iterator[bytes]:
            for _ in range(8):
                yield b"y" * 512

        streamed = client.post("/webhooks/quickbooks", content=chunks())
        exact = client.post("/webhooks/stripe", content=b"z" * 1024)
    assert declared.status_code == 413
    assert streamed.status_code == 413
    assert exact.status_code == 200
    assert intake.qbo == []
    assert [len(b) for b, _ in intake.stripe] == [1024]


def test_default_limit_is_one_mebibyte(ctx: Context) -> None:
    intake = FakeIntake()
    with client_for(ctx, intake) as client:
        r = client.post("/webhooks/stripe", content=b"x" * (1024 * 1024 + 1))
    assert r.status_code == 413
    assert intake.stripe == []


def test_webhooks_only_accept_post(ctx: Context) -> None:
    with client_for(ctx, FakeIntake()) as client:
        assert client.get("/webhooks/stripe").status_code == 405


def test_healthz_ok_and_unavailable(ctx: Context, tmp_path: Path) -> None:
    with client_for(ctx, FakeIntake()) as client:
        r = client.get("/healthz")
        assert r.status_code == 200
        assert r.json()["status"] == "ok"
    raw = settings_dict(tmp_path)
    raw["database"]["url"] = f"sqlite:///{tmp_path / 'missing' / 'dir' / 'x.db'}"
    broken = build_context(parse(raw))
    with client_for(broken, FakeIntake()) as client:
        r = client.get("/healthz")
    assert r.status_code == 503
    assert r.json()["status"] == "unavailable"


def test_metrics_text_parses_and_counts_webhooks_and_store(ctx: Context) -> None:
    with ctx.db.transaction() as session:
        inbox.store(
            session, source="stripe", event_id="evt_a", event_type="x", payload=b"{}", now=ctx.clock()
        )
        from syncd.store import effects

        effects.insert(session, key="k1", kind="email", company_id="111", payload={}, now=ctx.clock())
    intake = FakeIntake()
    with client_for(ctx, intake) as client:
        client.post("/webhooks/stripe", content=b"{}")
        intake.fail = SignatureError("forged")
        client.post("/webhooks/quickbooks", content=b"{}")
        r = client.get("/metrics", headers=SCRAPER)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(r.text)
        for s in family.samples
    }
    assert samples[("syncd_webhooks_total", (("outcome", "accepted"), ("source", "stripe")))] == 1
    assert samples[("syncd_webhooks_total", (("outcome", "bad_signature"), ("source", "quickbooks")))] == 1
    assert samples[("syncd_inbox_backlog", (("source", "stripe"),))] == 1
    assert samples[("syncd_effects", (("kind", "email"), ("status", "pending")))] == 1


def test_each_app_has_its_own_registry(ctx: Context) -> None:
    with client_for(ctx, FakeIntake()) as a, client_for(ctx, FakeIntake()) as b:
        a.post("/webhooks/stripe", content=b"{}")
        text_b = b.get("/metrics", headers=SCRAPER).text
    assert 'syncd_webhooks_total{outcome="accepted",source="stripe"} 0.0' in text_b


def test_portal_post_without_csrf_token_is_refused(ctx: Context) -> None:
    with client_for(ctx, FakeIntake()) as client:
        r = client.post("/i/" + "a" * 32 + "/pay", data={"amount": "1.00"})
    assert r.status_code == 403


def test_security_headers_on_every_response(ctx: Context) -> None:
    with client_for(ctx, FakeIntake()) as client:
        for r in (
            client.get("/healthz"),
            client.get("/i/nope"),
            client.post("/webhooks/stripe", content=b"{}"),
        ):
            assert r.headers["x-content-type-options"] == "nosniff"
            assert r.headers["referrer-policy"] == "no-referrer"
            assert "frame-ancestors 'none'" in r.headers["content-security-policy"]


def test_extra_routes_are_mounted(ctx: Context) -> None:
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    async def hello(request: Any) -> PlainTextResponse:
        return PlainTextResponse("hi")

    with client_for(ctx, FakeIntake(), extra_routes=[Route("/hello", hello)]) as client:
        assert client.get("/hello").text == "hi"


def test_metrics_are_not_served_without_a_token(tmp_path: Path) -> None:
    raw = settings_dict(tmp_path)
    del raw["web"]["metrics_token"]
    ctx = build_context(parse(raw))
    migrate.upgrade(ctx.db)
    with client_for(ctx, FakeIntake()) as client:
        r = client.get("/metrics")
    ctx.db.dispose()
    assert r.status_code == 404
    assert "syncd_" not in r.text and "111" not in r.text


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong-token-0123456789"}, {"Authorization": METRICS_TOKEN}],
    ids=["none", "wrong", "not-bearer"],
)
def test_metrics_need_the_bearer_token(ctx: Context, headers: dict[str, str]) -> None:
    with client_for(ctx, FakeIntake()) as client:
        r = client.get("/metrics", headers=headers)
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert "syncd_" not in r.text
