"""Card authorisations over both simulators (real HTTP): a hold placed before the job is captured
by the customer's next invoice (one QBO Payment, audit clean), never more than the invoice's
balance; an unused hold is released before the card network's limit (both clocks moved); and a
capture effect killed after Stripe captured is retried without capturing twice."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from autopay_scene import Scene, autopay_scene
from books_loop import assert_clean, settle
from sqlalchemy import select

from syncd.catalog.kinds import EffectKind
from syncd.stages import authorization_effects, authorizations
from syncd.store.effects import Claimed
from syncd.store.models import CardAuthorizationRow, Effect, PaymentRow


@pytest.fixture
def scene(tmp_path: Path) -> Iterator[Scene]:
    with autopay_scene(tmp_path, enroll=False) as built:
        yield built


def _row(scene: Scene, authorization_id: str) -> CardAuthorizationRow:
    with scene.loop.ctx.db.transaction() as s:
        row = s.get(CardAuthorizationRow, authorization_id)
        assert row is not None
        s.expunge(row)
        return row


def _intent(scene: Scene, intent_id: str | None) -> dict[str, Any]:
    found = [i for i in scene.loop.stripe.objects("payment_intent") if i["id"] == intent_id]
    assert len(found) == 1
    return found[0]


def _payments_of(scene: Scene, invoice_id: str) -> list[dict[str, Any]]:
    return [
        p
        for p in scene.loop.qbo.entities("Payment")
        if any(t.get("TxnId") == invoice_id for line in p.get("Line", []) for t in line.get("LinkedTxn", []))
    ]


def _subjects(scene: Scene, word: str) -> list[str]:
    return [m.subject for m in scene.loop.sink.mailbox.all() if word in m.subject]


def _place(scene: Scene, amount: str = "150.00") -> str:
    customer = scene.charges_customer(0)
    authorization_id = authorizations.place(scene.loop.ctx, scene.realm, customer, Decimal(amount), "Job #7")
    scene.loop.drain()
    row = _row(scene, authorization_id)
    assert row.status == "held", row.decline_code
    return authorization_id


def _new_invoice(scene: Scene, amount: str) -> str:
    customer = scene.charges_customer(0)
    return scene.loop.qbo.add_invoice(customer, Decimal(amount), email="c0@example.com")


def test_a_hold_captured_by_the_next_invoice(scene: Scene) -> None:
    authorization_id = _place(scene)
    held = _row(scene, authorization_id)
    intent = _intent(scene, held.payment_intent_id)
    assert (intent["status"], intent["capture_method"], intent["amount_capturable"]) == (
        "requires_capture",
        "manual",
        15000,
    )
    assert held.expires_at is not None and held.release_at < held.expires_at
    assert len(_subjects(scene, "placed a hold of $150.00")) == 1
    scene.cycle()  # the invoice the customer already had is not the job's
    assert _row(scene, authorization_id).status == "held"
    job = _new_invoice(scene, "90.00")
    scene.cycle()
    captured = _row(scene, authorization_id)
    assert (captured.status, captured.invoice_id, captured.captured_amount) == (
        "captured",
        job,
        Decimal("90.00"),
    )
    intent = _intent(scene, held.payment_intent_id)
    assert (intent["status"], intent["amount_received"]) == ("succeeded", 9000)
    settle(scene.loop)  # the payment's webhooks arrive too: still one booking
    payments = _payments_of(scene, job)
    assert len(payments) == 1 and Decimal(str(payments[0]["TotalAmt"])) == Decimal("90.00")
    assert _payments_of(scene, scene.invoice_id) == []
    with scene.loop.ctx.db.transaction() as s:
        payment = s.get(PaymentRow, captured.payment_key)
        assert payment is not None and payment.status == "succeeded" and payment.qbo_payment_id
    assert len(_subjects(scene, "of your")) == 1  # "$90.00 of your ... hold paid invoice ..."
    assert_clean(scene.loop)
    scene.cycle(days=7)  # nothing left to release or expire
    assert _row(scene, authorization_id).status == "captured"
    assert len(_payments_of(scene, job)) == 1


def test_never_more_than_the_hold_the_rest_stays_open(scene: Scene) -> None:
    authorization_id = _place(scene, "50.00")
    job = _new_invoice(scene, "80.00")
    scene.cycle()
    settle(scene.loop)
    assert _row(scene, authorization_id).captured_amount == Decimal("50.00")
    invoice = scene.loop.qbo.entity("Invoice", job)
    assert invoice is not None and Decimal(str(invoice["Balance"])) == Decimal("30.00")
    assert len(_payments_of(scene, job)) == 1
    assert_clean(scene.loop)


def test_never_more_than_the_balance_re_read_from_qbo(scene: Scene) -> None:
    authorization_id = _place(scene)
    job = _new_invoice(scene, "90.00")
    from syncd.stages.cycle import run_cycle

    run_cycle(scene.loop.ctx, scene.realm)  # the capture is queued for 90.00 ...
    assert _row(scene, authorization_id).status == "capturing"
    scene.loop.qbo.update_invoice(job, Line=_lines(scene, job, "40.00"))  # ... then lowered in QBO
    scene.loop.drain()
    settle(scene.loop)
    assert _row(scene, authorization_id).captured_amount == Decimal("40.00")
    assert _intent(scene, _row(scene, authorization_id).payment_intent_id)["amount_received"] == 4000
    assert_clean(scene.loop)


def _lines(scene: Scene, invoice_id: str, amount: str) -> list[dict[str, Any]]:
    invoice = scene.loop.qbo.entity("Invoice", invoice_id)
    assert invoice is not None
    line = dict(invoice["Line"][0])
    line["Amount"] = float(amount)
    detail = dict(line["SalesItemLineDetail"])
    detail.update(UnitPrice=float(amount), Qty=1)
    line["SalesItemLineDetail"] = detail
    return [line]


def test_an_unused_hold_is_released_before_the_limit(scene: Scene) -> None:
    authorization_id = _place(scene)
    intent_id = _row(scene, authorization_id).payment_intent_id
    scene.cycle(days=5)
    assert _row(scene, authorization_id).status == "held"
    scene.cycle(days=1)  # day 6: released by syncd, a day before the network would
    released = _row(scene, authorization_id)
    assert (released.status, released.release_reason) == ("released", "unused")
    intent = _intent(scene, intent_id)
    assert (intent["status"], intent["cancellation_reason"]) == ("canceled", "abandoned")
    assert len(_subjects(scene, "released the hold of $150.00")) == 1
    scene.cycle(days=2)  # past the network's limit: nothing more happens
    assert _row(scene, authorization_id).status == "released"
    assert _intent(scene, intent_id)["amount_received"] == 0
    assert len(_subjects(scene, "released the hold")) == 1
    assert scene.loop.qbo.entities("Payment") == []
    settle(scene.loop)  # the cancellation's events change nothing in the books
    assert scene.loop.qbo.entities("Payment") == []
    assert_clean(scene.loop)


def test_a_killed_capture_retried_never_captures_twice(scene: Scene) -> None:
    authorization_id = _place(scene)
    job = _new_invoice(scene, "90.00")
    from syncd.stages.cycle import run_cycle

    run_cycle(scene.loop.ctx, scene.realm)
    with scene.loop.ctx.db.transaction() as s:
        effect = s.scalars(
            select(Effect).where(Effect.kind == EffectKind.STRIPE_AUTHORIZATION_CAPTURE.value)
        ).one()
        claimed = Claimed(
            effect.id, effect.key, effect.kind, effect.company_id, dict(effect.payload), 1, "gone"
        )
    # The process dies right after Stripe captured: what the handler would commit never is.
    authorization_effects.capture(scene.loop.ctx, claimed)
    intent_id = _row(scene, authorization_id).payment_intent_id
    assert _intent(scene, intent_id)["status"] == "succeeded"
    assert _row(scene, authorization_id).status == "capturing"
    scene.loop.drain()  # the worker runs the effect again
    settle(scene.loop)
    done = _row(scene, authorization_id)
    assert (done.status, done.captured_amount) == ("captured", Decimal("90.00"))
    charges = [c for c in scene.loop.stripe.objects("charge") if c["payment_intent"] == intent_id]
    assert [(c["amount_captured"], c["amount_refunded"]) for c in charges] == [(9000, 6000)]
    assert len(_payments_of(scene, job)) == 1
    assert_clean(scene.loop)


def test_the_customer_sees_the_hold_on_the_account_page(scene: Scene) -> None:
    import requests

    authorization_id = _place(scene, "150.00")
    browser = requests.Session()
    signed = browser.get(f"{scene.loop.ctx.links.url(scene.realm, scene.invoice_id)}/account", timeout=10)
    assert signed.status_code == 200
    page = browser.get(f"{scene.loop.url}/account", timeout=10).text
    assert f'data-hold="{authorization_id}"' in page and "$150.00" in page and "Job #7" in page
    assert "released by" in page and "held" in page
    _new_invoice(scene, "90.00")
    scene.cycle()
    page = browser.get(f"{scene.loop.url}/account", timeout=10).text
    assert "$90.00 paid invoice" in page and "charged" in page


def test_the_rest_of_the_invoice_goes_by_autopay(tmp_path: Path) -> None:
    with autopay_scene(tmp_path) as scene:  # enrolled in autopay
        scene.loop.stripe.webhooks.paused = False
        authorization_id = _place(scene, "50.00")
        customer = scene.charges_customer(0)
        due = scene.clock.now.date() + timedelta(days=5)
        job = scene.loop.qbo.add_invoice(customer, Decimal("80.00"), due_date=due, email="c0@example.com")
        scene.cycle()
        assert _row(scene, authorization_id).captured_amount == Decimal("50.00")
        for _ in range(6):
            scene.cycle(days=1)
            settle(scene.loop)
        payments = sorted(Decimal(str(p["TotalAmt"])) for p in _payments_of(scene, job))
        assert payments == [Decimal("30.00"), Decimal("50.00")]  # the hold, then autopay for the rest
        invoice = scene.loop.qbo.entity("Invoice", job)
        assert invoice is not None and Decimal(str(invoice["Balance"])) == 0
        job_intents = [
            i for i in scene.loop.stripe.objects("payment_intent") if i["metadata"].get("invoice_ids") == job
        ]
        assert sorted(i["amount_received"] for i in job_intents) == [3000, 5000]
        # (No audit here: this scene names no bank account for the payouts its days bring.)
