"""Stripe events are dispatched one way, on ``StripeEventKind``: every kind the webhook endpoint
subscribes to reaches the stage that owns it, and any other type is kept and ignored."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import pytest
import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.stripe import webhooks
from connectors.stripe.simulator.webhook_endpoints import KNOWN_EVENTS
from syncd import config
from syncd.context import Context
from syncd.domain import STRIPE_WEBHOOK_EVENTS, StripeEvent, StripeEventKind
from syncd.ports.email import Mailer
from syncd.ports.quickbooks import QboApp, QuickBooks
from syncd.ports.stripe import Stripe
from syncd.secrets import SecretBox
from syncd.stages import events
from syncd.store import inbox
from syncd.store.engine import Database
from syncd.store.models import Effect, InboxEvent

AT = datetime(2026, 5, 4, 12, tzinfo=UTC)


@pytest.fixture
def ctx(sqlite_db: Database, tmp_path: Path) -> Context:
    settings = config.parse(
        {
            "secret_key": SecretBox.generate(),
            "database": {"url": f"sqlite:///{tmp_path / 'unused.db'}"},
            "company": [{"realm_id": "r1"}],
        }
    )
    return Context(
        settings=settings,
        db=sqlite_db,
        box=SecretBox(settings.secret_key),
        qbo_factory=lambda realm: cast(QuickBooks, None),
        # The inbox replays bodies verified on arrival: parsing is all ingest asks of Stripe.
        stripe=cast(Stripe, SimpleNamespace(parse_event=webhooks.parse_verified)),
        mailer=cast(Mailer, None),
        qbo_app=cast(QboApp, None),  # no QBO webhook or sign-in here
        clock=lambda: AT,
    )


def test_the_endpoint_subscribes_to_every_kind_and_stripe_knows_each() -> None:
    kinds = [k.value for k in StripeEventKind if k is not StripeEventKind.OTHER]
    assert list(STRIPE_WEBHOOK_EVENTS) == kinds
    assert set(STRIPE_WEBHOOK_EVENTS) <= KNOWN_EVENTS


@pytest.mark.parametrize("kind", [k for k in StripeEventKind if k is not StripeEventKind.OTHER])
def test_every_subscribed_kind_reaches_a_stage(ctx: Context, kind: StripeEventKind) -> None:
    event = StripeEvent(
        id=f"evt_{kind.name}", kind=kind, type=kind.value, created=AT, object_id="obj_1", livemode=False
    )
    with structlog.testing.capture_logs() as logs, ctx.db.transaction() as session:
        events.apply_event(ctx, session, event)
    assert "stripe.event_ignored" not in [e["event"] for e in logs]


def test_an_unknown_type_is_kept_marked_processed_and_ignored(ctx: Context) -> None:
    body = {
        "object": "event",
        "id": "evt_new",
        "type": "customer.subscription.paused",
        "created": int(AT.timestamp()),
        "livemode": False,
        "data": {"object": {"object": "subscription", "id": "sub_1", "metadata": {}}},
    }
    with ctx.db.transaction() as session:
        inbox.store(
            session,
            source="stripe",
            event_id="evt_new",
            event_type=body["type"],
            payload=json.dumps(body).encode(),
            now=AT,
        )
    with structlog.testing.capture_logs() as logs:
        assert events.ingest(ctx) == 1
    (said,) = [e for e in logs if e["event"] == "stripe.event_ignored"]
    assert said["type"] == "customer.subscription.paused"
    with ctx.db.transaction() as session:
        (kept,) = session.scalars(select(InboxEvent))
        assert kept.processed_at is not None and kept.error is None
        assert list(session.scalars(select(Effect))) == []


@pytest.mark.parametrize("kind", list(StripeEventKind))
def test_ingest_applies_exactly_the_kinds_a_stage_acts_on(kind: StripeEventKind) -> None:
    event = StripeEvent(
        id=f"evt_{kind.name}", kind=kind, type=kind.value, created=AT, object_id="obj_1", livemode=False
    )
    assert events.acts_on(event) is (kind is not StripeEventKind.OTHER)


def _store(ctx: Context, event_id: str, kind: str) -> None:
    body = {
        "object": "event",
        "id": event_id,
        "type": kind,
        "created": int(AT.timestamp()),
        "livemode": False,
        "data": {"object": {"object": "payment_intent", "id": f"pi_{event_id}", "metadata": {}}},
    }
    with ctx.db.transaction() as session:
        inbox.store(
            session,
            source="stripe",
            event_id=event_id,
            event_type=kind,
            payload=json.dumps(body).encode(),
            now=AT,
        )


def test_an_event_that_fails_in_a_pass_is_rolled_back_alone(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    for event_id in ("evt_1", "evt_bad", "evt_3"):
        _store(ctx, event_id, "payment_intent.succeeded")
    _store(ctx, "evt_other", "customer.subscription.paused")
    real = events.apply_event

    def failing(ctx: Context, session: Session, event: StripeEvent) -> None:
        if event.id == "evt_bad":
            # Half done when it fails: what it wrote must go, the pass's other events stay.
            bad = session.scalars(select(InboxEvent).where(InboxEvent.event_id == "evt_bad")).one()
            inbox.mark_processed(session, bad.id, now=AT)
            session.flush()
            raise RuntimeError("boom")
        real(ctx, session, event)

    monkeypatch.setattr(events, "apply_event", failing)
    assert events.ingest(ctx) == 3
    with ctx.db.transaction() as session:
        rows = {r.event_id: r for r in session.scalars(select(InboxEvent))}
        assert {k for k, r in rows.items() if r.processed_at is not None} == {"evt_1", "evt_3", "evt_other"}
        assert rows["evt_bad"].attempts == 1 and "boom" in (rows["evt_bad"].error or "")
