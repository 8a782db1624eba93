"""Card authorisation stages over both simulators: what ``place`` refuses (one line each), a
declined card, staff releasing a hold, an invoice paid before its capture ran (the hold waits
for the next one), and a hold that only matches invoices in its own currency."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from autopay_scene import Scene, autopay_scene

from syncd.errors import ValidationError
from syncd.stages import authorizations
from syncd.stages.cycle import run_cycle
from syncd.store.models import CardAuthorizationRow, SavedMethodRow


@pytest.fixture
def scene(tmp_path: Path) -> Iterator[Scene]:
    with autopay_scene(tmp_path, enroll=False) as built:
        yield built


@pytest.fixture
def declining(tmp_path: Path) -> Iterator[Scene]:
    with autopay_scene(tmp_path, "pm_card_chargeDeclinedInsufficientFunds", enroll=False) as built:
        yield built


def _row(scene: Scene, authorization_id: str) -> CardAuthorizationRow:
    with scene.loop.ctx.db.transaction() as s:
        row = s.get(CardAuthorizationRow, authorization_id)
        assert row is not None
        s.expunge(row)
        return row


def test_place_refuses_what_it_cannot_hold(scene: Scene) -> None:
    ctx, realm = scene.loop.ctx, scene.realm
    customer = scene.charges_customer(0)
    for amount in ("0", "-5", "NaN", "Infinity"):
        with pytest.raises(ValidationError, match="positive"):
            authorizations.place(ctx, realm, customer, Decimal(amount), None)
    with pytest.raises(ValidationError, match="more than 2 decimals for USD"):
        authorizations.place(ctx, realm, customer, Decimal("10.001"), None)
    with pytest.raises(ValidationError, match="no customer"):
        authorizations.place(ctx, realm, "nobody", Decimal("10.00"), None)
    with ctx.db.transaction() as s:
        method = s.get(SavedMethodRow, scene.method_id)
        assert method is not None
        method.detached_at = scene.clock.now
    with pytest.raises(ValidationError, match="no default card"):
        authorizations.place(ctx, realm, customer, Decimal("10.00"), None)
    with ctx.db.transaction() as s:
        assert s.query(CardAuthorizationRow).count() == 0
    assert scene.loop.stripe.objects("payment_intent") == []


def test_a_declined_card_holds_nothing(declining: Scene) -> None:
    scene = declining
    authorization_id = authorizations.place(
        scene.loop.ctx, scene.realm, scene.charges_customer(0), Decimal("150.00"), None
    )
    scene.loop.drain()
    row = _row(scene, authorization_id)
    assert (row.status, row.decline_code) == ("declined", "insufficient_funds")
    scene.loop.qbo.add_invoice(scene.charges_customer(0), Decimal("90.00"))
    scene.cycle()
    assert _row(scene, authorization_id).status == "declined"
    subjects = [m.subject for m in scene.loop.sink.mailbox.all() if "hold" in m.subject.lower()]
    assert len(subjects) == 1 and subjects[0].endswith("Card hold declined for Union Meadow Dental")


def test_staff_release_a_held_authorisation(scene: Scene) -> None:
    ctx = scene.loop.ctx
    authorization_id = authorizations.place(
        ctx, scene.realm, scene.charges_customer(0), Decimal("75.00"), None
    )
    with pytest.raises(ValidationError, match="still being placed"):
        authorizations.release_now(ctx, scene.realm, authorization_id)
    scene.loop.drain()
    with pytest.raises(ValidationError, match="no authorisation"):
        authorizations.release_now(ctx, "other-realm", authorization_id)
    authorizations.release_now(ctx, scene.realm, authorization_id)
    scene.loop.drain()
    row = _row(scene, authorization_id)
    assert (row.status, row.release_reason) == ("released", "staff")
    intent = next(i for i in scene.loop.stripe.objects("payment_intent") if i["id"] == row.payment_intent_id)
    assert intent["status"] == "canceled"
    with pytest.raises(ValidationError, match="released: nothing to release"):
        authorizations.release_now(ctx, scene.realm, authorization_id)


def test_an_invoice_paid_before_its_capture_leaves_the_hold_for_the_next(scene: Scene) -> None:
    ctx, qbo = scene.loop.ctx, scene.loop.qbo
    customer = scene.charges_customer(0)
    authorization_id = authorizations.place(ctx, scene.realm, customer, Decimal("150.00"), None)
    scene.loop.drain()
    first = qbo.add_invoice(customer, Decimal("60.00"))
    run_cycle(ctx, scene.realm)
    assert _row(scene, authorization_id).status == "capturing"
    qbo.record_offline_payment(first, Decimal("60.00"))  # paid by check before the capture ran
    scene.loop.drain()
    row = _row(scene, authorization_id)
    assert (row.status, row.invoice_id, row.captured_amount) == ("held", None, None)
    intent = next(i for i in scene.loop.stripe.objects("payment_intent") if i["id"] == row.payment_intent_id)
    assert intent["status"] == "requires_capture"
    second = qbo.add_invoice(customer, Decimal("40.00"))
    scene.cycle()
    row = _row(scene, authorization_id)
    assert (row.status, row.invoice_id, row.captured_amount) == ("captured", second, Decimal("40.00"))


def test_a_capture_stuck_past_the_network_limit_ends_as_expired(scene: Scene) -> None:
    ctx = scene.loop.ctx
    customer = scene.charges_customer(0)
    authorization_id = authorizations.place(ctx, scene.realm, customer, Decimal("150.00"), None)
    scene.loop.drain()
    scene.loop.qbo.add_invoice(customer, Decimal("60.00"))
    run_cycle(ctx, scene.realm)  # the capture is queued but its effect never gets to run ...
    assert _row(scene, authorization_id).status == "capturing"
    scene.clock.now += timedelta(days=7, hours=1)
    scene.loop.stripe.clock.advance(timedelta(days=7, hours=1))  # ... until Stripe let the hold go
    authorizations.run(ctx, scene.realm)
    scene.loop.drain()
    row = _row(scene, authorization_id)
    assert (row.status, row.release_reason, row.captured_amount) == ("expired", "expired", None)
    assert scene.loop.qbo.entities("Payment") == []
