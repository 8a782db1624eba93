"""The saved-methods stage over events built from the published PaymentMethod sample: replays,
reordering and other people's customers change nothing — on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, cast

import pytest
from samples import STRIPE_SAMPLES

from connectors.stripe.events import stripe_event
from syncd.context import Context
from syncd.stages import events
from syncd.store.engine import Database
from syncd.store.models import Company, CustomerRow, SavedMethodRow

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
REALM = "r1"


def _event(event_id: str, event_type: str, customer: str | None, previous: str | None = None) -> Any:
    method = json.loads((STRIPE_SAMPLES / "payment_method_card.json").read_text())
    method["customer"] = customer
    data: dict[str, Any] = {"object": method}
    if previous is not None:
        data["previous_attributes"] = {"customer": previous}
    body = {"id": event_id, "object": "event", "type": event_type, "created": 1764417600, "data": data}
    return stripe_event(body)


@pytest.fixture
def ctx(db: Database) -> Context:
    with db.transaction() as s:
        s.add(Company(realm_id=REALM, name="Acme", created_at=T0))
        s.flush()
        s.add(
            CustomerRow(
                company_id=REALM,
                qbo_id="58",
                display_name="Amy",
                currency="USD",
                stripe_customer_id="cus_amy",
                updated_at=T0,
            )
        )
    return cast(Context, SimpleNamespace(db=db, clock=lambda: T0))


def _apply(ctx: Context, *batch: Any) -> None:
    for event in batch:
        with ctx.db.transaction() as s:
            events.apply_event(ctx, s, event)


def _rows(ctx: Context) -> list[tuple[str, str, str | None, str, bool]]:
    with ctx.db.transaction() as s:
        return [
            (r.qbo_customer_id, r.last4, r.brand, f"{r.exp_month}/{r.exp_year}", r.detached_at is None)
            for r in s.query(SavedMethodRow).all()
        ]


def test_attach_replayed_is_one_method(ctx: Context) -> None:
    attached = _event("evt_1", "payment_method.attached", "cus_amy")
    _apply(ctx, attached, attached)
    assert _rows(ctx) == [("58", "4242", "visa", "8/2030", True)]


def test_detach_before_attach_stays_detached(ctx: Context) -> None:
    _apply(
        ctx,
        _event("evt_2", "payment_method.detached", None, previous="cus_amy"),
        _event("evt_1", "payment_method.attached", "cus_amy"),
    )
    assert _rows(ctx) == [("58", "4242", "visa", "8/2030", False)]


def test_a_method_of_a_customer_syncd_did_not_make_is_ignored(ctx: Context) -> None:
    _apply(ctx, _event("evt_1", "payment_method.attached", "cus_someone_else"))
    assert _rows(ctx) == []
