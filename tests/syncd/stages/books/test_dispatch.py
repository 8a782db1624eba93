"""Stripe events into books effects: deterministic keys, duplicates change nothing, the company of
a movement is the company that took the payment."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy import select

from syncd import config
from syncd.context import Context
from syncd.domain import StripeEvent, StripeEventKind
from syncd.domain.payments import PaymentStatus
from syncd.ports.email import Mailer
from syncd.ports.quickbooks import QboApp, QuickBooks
from syncd.ports.stripe import Stripe
from syncd.secrets import SecretBox
from syncd.stages.books import apply_event
from syncd.store.engine import Database
from syncd.store.models import Effect, PaymentRow

AT = datetime(2026, 5, 4, 12, tzinfo=UTC)


def _ctx(db: Database, tmp_path: Path, realms: tuple[str, ...]) -> Context:
    settings = config.parse(
        {
            "secret_key": SecretBox.generate(),
            "database": {"url": f"sqlite:///{tmp_path / 'unused.db'}"},
            "company": [{"realm_id": r} for r in realms],
        }
    )
    return Context(
        settings=settings,
        db=db,
        box=SecretBox(settings.secret_key),
        qbo_factory=lambda realm: cast(QuickBooks, None),
        stripe=cast(Stripe, None),
        mailer=cast(Mailer, None),
        qbo_app=cast(QboApp, None),
        clock=lambda: AT,
    )


def _event(type_: str, object_id: str, intent: str | None = "pi_1", **extra: Any) -> StripeEvent:
    return StripeEvent(
        id=f"evt_{type_}_{object_id}",
        kind=StripeEventKind.parse(type_),
        type=type_,
        created=AT,
        object_id=object_id,
        livemode=False,
        payment_intent_id=intent,
        **extra,
    )


def _effects(db: Database) -> dict[str, tuple[str, str, dict[str, object]]]:
    with db.transaction() as s:
        return {e.key: (e.kind, e.company_id, dict(e.payload)) for e in s.scalars(select(Effect))}


@pytest.fixture
def paid(sqlite_db: Database) -> Database:
    with sqlite_db.transaction() as s:
        s.add(
            PaymentRow(
                key="pay:r2:55:1",
                company_id="r2",
                customer_id="9",
                invoice_ids=["55"],
                amount=Decimal("10.00"),
                currency="USD",
                status=PaymentStatus.SUCCEEDED.value,
                payment_intent_id="pi_1",
                created_at=AT,
                updated_at=AT,
            )
        )
    return sqlite_db


def _apply(ctx: Context, *events: StripeEvent) -> None:
    for event in events:
        with ctx.db.transaction() as s:
            apply_event(ctx, s, event)


def test_money_events_queue_one_effect_each_under_deterministic_keys(paid: Database, tmp_path: Path) -> None:
    ctx = _ctx(paid, tmp_path, ("r1", "r2"))
    events = [
        _event("refund.created", "re_1"),
        _event("charge.dispute.created", "dp_1"),
        _event("charge.dispute.closed", "dp_1"),
        _event("payout.paid", "po_1", intent=None),
        _event("payout.failed", "po_2", intent=None),
    ]
    _apply(ctx, *events, *events)  # duplicates change nothing
    assert _effects(paid) == {
        "qbo:refund:re_1": ("qbo.refund", "r2", {"refund_id": "re_1"}),
        "stripe:dispute:dp_1:charge.dispute.created": ("books.dispute", "r2", {"dispute_id": "dp_1"}),
        "stripe:dispute:dp_1:charge.dispute.closed": ("books.dispute", "r2", {"dispute_id": "dp_1"}),
        "qbo:payout:po_1": ("qbo.payout", "r1", {"payout_id": "po_1"}),
        "qbo:payout_failed:po_2": ("books.payout_failed", "r1", {"payout_id": "po_2"}),
    }


def test_a_refund_that_overtakes_its_payment_is_still_queued_for_the_only_company(
    sqlite_db: Database, tmp_path: Path
) -> None:
    ctx = _ctx(sqlite_db, tmp_path, ("r1",))
    _apply(ctx, _event("refund.created", "re_9", intent="pi_unlinked"))
    assert _effects(sqlite_db)["qbo:refund:re_9"][1] == "r1"


def test_with_several_companies_an_unknown_payment_is_not_guessed(
    sqlite_db: Database, tmp_path: Path
) -> None:
    ctx = _ctx(sqlite_db, tmp_path, ("r1", "r2"))
    _apply(
        ctx,
        _event("refund.created", "re_9", intent="pi_unknown"),
        _event("refund.created", "re_8", intent=None),
    )
    assert _effects(sqlite_db) == {}


def test_payment_status_and_other_events_queue_nothing_here(paid: Database, tmp_path: Path) -> None:
    ctx = _ctx(paid, tmp_path, ("r2",))
    _apply(
        ctx,
        _event("charge.refunded", "ch_1"),
        _event("customer.created", "cus_1"),
        _event("balance.available", ""),
    )
    assert _effects(paid) == {}


def test_a_failed_refund_is_booked_back_and_staff_are_told(paid: Database, tmp_path: Path) -> None:
    ctx = _ctx(paid, tmp_path, ("r2",))
    _apply(ctx, _event("refund.failed", "re_5"))
    queued = _effects(paid)
    kind, realm, payload = queued["email:staff:refund-failed:re_5"]
    assert (kind, realm) == ("email.staff", "r2") and "re_5" in str(payload["body"])
    assert queued["qbo:refund_failed:re_5"] == ("qbo.refund_failed", "r2", {"refund_id": "re_5"})
