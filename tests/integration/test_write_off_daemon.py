"""A write-off approved and booked by the real daemon: ``syncd run`` proposes the small debt,
``syncd collect writeoff approve`` decides it, and the daemon is SIGKILLed after QuickBooks wrote
the credit memo but before its answer came back; restarted, it writes the rest under the same
key, and QuickBooks holds one credit memo and one Payment applying it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from world import Daemon, World

from syncd.store.models import CollectionAccount, Effect, InvoiceRow, WriteOff

pytestmark = pytest.mark.timeout(300)

COLLECTIONS = """
[company.collections]
policy = true
write_off_below = "50.00"
write_off_item = "9"
hold_after_days = 0
"""


def _rows(world: World, model: Any) -> list[Any]:
    db = world.database()
    try:
        with db.transaction() as s:
            rows = list(s.scalars(select(model)))
            s.expunge_all()
            return rows
    finally:
        db.dispose()


def test_a_write_off_booked_once_across_a_sigkill(world: World, daemon: Any) -> None:
    world.write_config()
    with world.config_path.open("a") as config:
        config.write(COLLECTIONS)
    customer = world.qbo.create_entity(
        "Customer", {"DisplayName": "Corner Deli", "CurrencyRef": {"value": "USD"}}
    )
    due = datetime.now(UTC).date() - timedelta(days=45)
    invoice = world.qbo.add_invoice(customer, Decimal("42.75"), due_date=due)

    run: Daemon = daemon()
    run.start()
    world.wait_until(
        lambda: any(i.qbo_id == invoice for i in _rows(world, InvoiceRow)), timeout=60, what=run.tail
    )
    assigned = world.syncd(
        "collect", "assign", "--company", world.qbo.realm_id, "--customer", customer, "--to", "ana@x.test"
    )
    assert assigned.returncode == 0, assigned.stderr
    assert any(a.customer_id == customer for a in _rows(world, CollectionAccount))
    world.wait_until(lambda: len(_rows(world, WriteOff)) == 1, timeout=60, what=run.tail)
    listed = world.syncd("collect", "writeoffs", "--company", world.qbo.realm_id)
    assert "Corner Deli" in listed.stdout and "42.75 USD" in listed.stdout, listed.stdout
    (proposal,) = _rows(world, WriteOff)

    # From now on QuickBooks performs each write and then never answers.
    world.qbo.faults.timeout_seconds = 60.0
    world.qbo.faults.timeout_rate = 1.0
    approved = world.syncd("collect", "writeoff", "approve", str(proposal.id), "--by", "owner@x.test")
    assert approved.returncode == 0, approved.stderr
    world.wait_until(lambda: len(world.qbo.entities("CreditMemo")) == 1, timeout=60, what=run.tail)
    run.kill()  # the memo is in QuickBooks; syncd never heard back
    (effect,) = [e for e in _rows(world, Effect) if e.kind == "qbo.write_off"]
    assert effect.done_at is None

    world.qbo.faults.reset()
    again: Daemon = daemon()
    again.start()
    world.wait_until(
        lambda: any(e.kind == "qbo.write_off" and e.done_at is not None for e in _rows(world, Effect)),
        timeout=120,
        what=again.tail,
    )
    world.wait_until(
        lambda: any(i.qbo_id == invoice and i.status == "paid" for i in _rows(world, InvoiceRow)),
        timeout=60,
        what=again.tail,
    )
    assert again.stop() == 0

    (memo,) = world.qbo.entities("CreditMemo")
    applying = [p for p in world.qbo.entities("Payment") if p.get("PaymentRefNum") == f"WO-{proposal.id}"]
    assert len(applying) == 1 and Decimal(str(applying[0]["TotalAmt"])) == 0
    assert Decimal(str(memo["RemainingCredit"])) == 0
    assert Decimal(str((world.qbo.entity("Invoice", invoice) or {})["Balance"])) == 0
    (booked,) = _rows(world, WriteOff)
    assert (booked.status, booked.qbo_id) == ("approved", memo["Id"])
