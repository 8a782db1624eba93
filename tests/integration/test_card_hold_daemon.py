"""A card hold with the real daemon (``syncd run`` over both simulators): staff place it with
``syncd authorize place``, the daemon authorises the card, is SIGKILLed the moment it starts
capturing from the customer's next invoice, and after the restart the invoice is paid from the
hold once (one capture, one QBO Payment) and ``syncd audit`` is clean."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import requests
from sqlalchemy import select
from world import Daemon, World

from syncd.store.models import CardAuthorizationRow, SavedMethodRow

TIMEOUT = 90.0


def _card_on_file(world: World, customer: str) -> None:
    """A Visa saved on the customer's Stripe Customer, as setup-mode Checkout would leave it."""
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {world.stripe.api_key}"
    cus = api.post(f"{world.stripe.url}/v1/customers", data={"email": "hold@customers.test"}, timeout=10)
    stripe_customer = cus.json()["id"]
    pm = api.post(
        f"{world.stripe.url}/v1/payment_methods/pm_card_visa/attach",
        data={"customer": stripe_customer},
        timeout=10,
    ).json()["id"]
    db = world.database()
    now = world.stripe.clock.now()
    with db.transaction() as s:
        s.add(
            SavedMethodRow(
                payment_method_id=pm,
                company_id=world.qbo.realm_id,
                qbo_customer_id=customer,
                stripe_customer_id=stripe_customer,
                kind="card",
                brand="visa",
                last4="4242",
                exp_month=8,
                exp_year=2030,
                bank_name=None,
                is_default=True,
                attached_at=now,
                updated_at=now,
            )
        )
    db.dispose()


def _hold(world: World) -> CardAuthorizationRow | None:
    db = world.database()
    try:
        with db.transaction() as s:
            row = s.scalars(select(CardAuthorizationRow)).one_or_none()
            if row is not None:
                s.expunge(row)
            return row
    finally:
        db.dispose()


def _payments_of(world: World, invoice_id: str) -> list[dict[str, Any]]:
    return [
        p
        for p in world.qbo.entities("Payment")
        if any(t.get("TxnId") == invoice_id for line in p.get("Line", []) for t in line.get("LinkedTxn", []))
    ]


def test_a_hold_captured_across_a_kill_of_the_daemon(world: World, daemon: Callable[[], Daemon]) -> None:
    world.write_config()
    realm = world.qbo.realm_id
    customer = next(
        str(c["Id"])
        for c in world.qbo.entities("Customer")
        if c.get("CurrencyRef", {}).get("value", "USD") == "USD"
    )
    proc = daemon()
    proc.start()
    world.wait_until(lambda: world.company().last_pull_at is not None, timeout=TIMEOUT, what="the first pull")
    _card_on_file(world, customer)
    placed = world.syncd(
        "authorize", "place", "--company", realm, "--customer", customer, "--amount", "150.00"
    )
    assert placed.returncode == 0, placed.stderr
    world.wait_until(
        lambda: (h := _hold(world)) is not None and h.status == "held",
        timeout=TIMEOUT,
        what="the hold authorised",
    )
    job = world.qbo.add_invoice(customer, Decimal("90.00"))
    world.wait_until(
        lambda: (h := _hold(world)) is not None and h.status in ("capturing", "captured"),
        timeout=TIMEOUT,
        interval=0.02,
        what="the capture started",
    )
    proc.kill()  # mid-capture, or right after it
    proc.start()
    world.wait_until(lambda: len(_payments_of(world, job)) > 0, timeout=TIMEOUT, what="the QBO Payment")
    hold = _hold(world)
    assert hold is not None and (hold.status, hold.captured_amount) == ("captured", Decimal("90.00"))
    intent = next(i for i in world.stripe.objects("payment_intent") if i["id"] == hold.payment_intent_id)
    assert (intent["status"], intent["amount_received"]) == ("succeeded", 9000)
    charges = [c for c in world.stripe.objects("charge") if c["payment_intent"] == intent["id"]]
    assert [(c["amount_captured"], c["amount_refunded"]) for c in charges] == [(9000, 6000)]
    assert len(_payments_of(world, job)) == 1
    today = world.stripe.clock.now().date()
    done = world.syncd(
        "audit",
        "--company",
        realm,
        "--from",
        (today - timedelta(days=1)).isoformat(),
        "--to",
        (today + timedelta(days=1)).isoformat(),
        "--json",
        timeout=120,
    )
    report = json.loads(done.stdout)
    assert done.returncode == 0 and report["clean"], done.stdout
    proc.stop()
    assert len(_payments_of(world, job)) == 1
