"""Issue 9, findings 1 and 2, end to end: the real ``syncd run`` between the QBO and Stripe
simulators books every charge Stripe took — when the invoices changed in QBO and no webhook told
syncd, and when a backlog of payments for one invoice meets the daemon after a restart."""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from world import Daemon, World

from syncd.cli import main as cli_main
from syncd.stages.collect import open_attempt
from syncd.store.models import Effect, InvoiceRow, PaymentRow

TIMEOUT = 90.0


def _configure(world: World, *, pull_seconds: int = 2) -> None:
    world.write_config()
    text = world.config_path.read_text()
    text = text.replace("pull_seconds = 2", f"pull_seconds = {pull_seconds}")
    text = text.replace(
        "reminder_days = []",
        'reminder_days = []\nnotify_new_invoices = false\nlink_writeback = "off"\n'
        'staff_email = "staff@northwind.test"',
    )
    world.config_path.write_text(text)


def _customer(world: World) -> str:
    return str(world.qbo.entities("Customer")[0]["Id"])


def _mirrored(world: World, ids: list[str]) -> list[InvoiceRow]:
    db = world.database()
    try:
        with db.transaction() as s:
            rows = list(s.scalars(select(InvoiceRow).where(InvoiceRow.qbo_id.in_(ids))))
            for r in rows:
                s.expunge(r)
    finally:
        db.dispose()
    return sorted(rows, key=lambda r: ids.index(r.qbo_id))


def _wait_mirrored(world: World, ids: list[str]) -> list[InvoiceRow]:
    world.wait_until(lambda: len(_mirrored(world, ids)) == len(ids), timeout=TIMEOUT, what=f"invoices {ids}")
    return _mirrored(world, ids)


def _open(world: World, attempts: list[list[InvoiceRow]], tag: str) -> list[str]:
    """What the portal does on Pay: a payment row and the effect that opens its Checkout Session."""
    db = world.database()
    keys = []
    try:
        with db.transaction() as s:
            for n, invoices in enumerate(attempts):
                key = f"pay:{world.qbo.realm_id}:{'+'.join(i.qbo_id for i in invoices)}:{tag}{n}"
                total = sum((i.balance for i in invoices), Decimal(0))
                open_attempt(s, key=key, invoices=invoices, amount=total, now=world.stripe.clock.now())
                keys.append(key)
    finally:
        db.dispose()
    return keys


def _payments(world: World, keys: list[str]) -> dict[str, PaymentRow]:
    db = world.database()
    try:
        with db.transaction() as s:
            rows = list(s.scalars(select(PaymentRow).where(PaymentRow.key.in_(keys))))
            for r in rows:
                s.expunge(r)
            return {r.key: r for r in rows}
    finally:
        db.dispose()


def _failed(world: World) -> list[tuple[str, str | None]]:
    db = world.database()
    try:
        with db.transaction() as s:
            return [(e.key, e.last_error) for e in s.scalars(select(Effect).where(Effect.status == "failed"))]
    finally:
        db.dispose()


def _sessions(world: World, keys: list[str]) -> dict[str, str]:
    world.wait_until(
        lambda: all(r.checkout_session_id for r in _payments(world, keys).values()),
        timeout=TIMEOUT,
        what="checkout sessions",
    )
    return {k: str(r.checkout_session_id) for k, r in _payments(world, keys).items()}


def _wait_booked(world: World, keys: list[str], proc: Daemon) -> dict[str, dict[str, Any]]:
    """Every payment's QBO Payment, once each is booked (or as soon as one write failed for good)."""

    def settled() -> bool:
        rows = _payments(world, keys).values()
        return bool(_failed(world)) or all(r.qbo_payment_id for r in rows)

    world.wait_until(settled, timeout=TIMEOUT, what=lambda: f"QBO Payments\n{proc.tail()}")
    assert not _failed(world), _failed(world)
    found = {}
    for key, row in _payments(world, keys).items():
        entry = world.qbo.entity("Payment", str(row.qbo_payment_id))
        assert entry is not None
        found[key] = entry
    return found


def _applied(payment: dict[str, Any]) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for line in payment.get("Line") or []:
        for linked in line.get("LinkedTxn") or []:
            if linked["TxnType"] == "Invoice":
                out[linked["TxnId"]] = out.get(linked["TxnId"], Decimal(0)) + Decimal(str(line["Amount"]))
    return out


def _balance(world: World, invoice_id: str) -> Decimal:
    found = world.qbo.entity("Invoice", invoice_id)
    assert found is not None
    return Decimal(str(found["Balance"]))


def _lower(world: World, invoice_id: str, amount: str) -> None:
    found = world.qbo.entity("Invoice", invoice_id)
    assert found is not None
    line = {**found["Line"][0], "Amount": amount}
    line["SalesItemLineDetail"] = {**line["SalesItemLineDetail"], "Qty": 1, "UnitPrice": amount}
    world.qbo.update_invoice(invoice_id, Line=[line])


def test_invoices_changed_in_qbo_while_checkouts_were_open_and_webhooks_lost_are_still_booked(
    world: World, daemon: Callable[[], Daemon]
) -> None:
    customer = _customer(world)
    lowered = world.qbo.add_invoice(customer, Decimal("300.00"))
    first = world.qbo.add_invoice(customer, Decimal("100.00"))
    checked = world.qbo.add_invoice(customer, Decimal("100.00"))
    _configure(world, pull_seconds=3600)  # one pull at start; then only webhooks would tell syncd
    proc = daemon()
    proc.start(ready_timeout=60)
    a, b, c = _wait_mirrored(world, [lowered, first, checked])
    keys = _open(world, [[a], [b, c]], "stale")
    sessions = _sessions(world, keys)

    world.qbo.set_webhook_url(None)  # QBO's webhooks are lost from here on
    _lower(world, lowered, "100.00")
    world.qbo.record_offline_payment(checked, Decimal("100.00"))
    for session_id in sessions.values():
        world.stripe.pay_checkout(session_id, "card_success")

    booked = _wait_booked(world, keys, proc)
    one, two = booked[keys[0]], booked[keys[1]]
    assert Decimal(str(one["TotalAmt"])) == Decimal("300.00")
    assert _applied(one) == {lowered: Decimal("100.00")} and Decimal(str(one["UnappliedAmt"])) == 200
    assert Decimal(str(two["TotalAmt"])) == Decimal("200.00")
    assert _applied(two) == {first: Decimal("100.00")} and Decimal(str(two["UnappliedAmt"])) == 100
    assert _balance(world, lowered) == _balance(world, first) == _balance(world, checked) == 0

    def told() -> list[Any]:
        return [m for m in world.sink.mailbox.all() if "customer credit" in m.subject.lower()]

    world.wait_until(lambda: len(told()) == 2, timeout=TIMEOUT, what="two staff emails about credit")
    time.sleep(1.0)
    assert len(told()) == 2  # once per payment
    assert proc.stop() == 0, proc.tail()
    assert cli_main.run(["--config", str(world.config_path), "failed"]) == 0


def test_a_backlog_of_payments_for_one_invoice_after_a_restart_is_booked_in_full(
    world: World, daemon: Callable[[], Daemon]
) -> None:
    invoice_id = world.qbo.add_invoice(_customer(world), Decimal("300.00"))
    _configure(world)
    proc = daemon()
    proc.start(ready_timeout=60)
    (inv,) = _wait_mirrored(world, [invoice_id])
    keys = _open(world, [[inv]] * 4, "tab")  # four tabs, each paying the whole 300.00
    sessions = _sessions(world, keys)
    proc.kill()  # the daemon is down while the customer pays in every tab
    for session_id in sessions.values():
        world.stripe.pay_checkout(session_id, "card_success")
    proc.start(ready_timeout=60)

    booked = _wait_booked(world, keys, proc)
    applied = sum((sum(_applied(p).values(), Decimal(0)) for p in booked.values()), Decimal(0))
    credit = sum((Decimal(str(p["UnappliedAmt"])) for p in booked.values()), Decimal(0))
    assert applied == Decimal("300.00") and credit == Decimal("900.00")
    assert _balance(world, invoice_id) == 0
    # One after another: each read the balance the one before it left, so QBO refused none.
    assert _refused(world) == []
    assert len(world.qbo.entities("Payment")) == len({p["Id"] for p in booked.values()}) + _offline(world)
    assert proc.stop() == 0, proc.tail()
    assert cli_main.run(["--config", str(world.config_path), "failed"]) == 0


def _offline(world: World) -> int:
    """Payments the seeded company already had (not syncd's)."""
    return sum(1 for p in world.qbo.entities("Payment") if "Stripe payment" not in str(p.get("PrivateNote")))


def _refused(world: World) -> list[str]:
    db = world.database()
    try:
        with db.transaction() as s:
            rows = s.scalars(select(Effect).where(Effect.kind == "qbo.payment"))
            return [e.key for e in rows if e.payload.get("refused")]
    finally:
        db.dispose()
