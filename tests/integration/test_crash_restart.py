"""Crash-restart: ``syncd run`` SIGKILLed at random moments of a busy loop loses and duplicates
nothing once restarted."""

from __future__ import annotations

import random
import re
import time
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from world import Daemon, PortalClient, World

from syncd.store.models import Effect, InboxEvent

SEED = 20261122
KILLS = 4
PAYMENTS = 6
QUIET_TIMEOUT = 60.0
INVOICE_SUBJECT = re.compile(r"^Invoice (\S+) from ")
# One customer's several invoices in one message: each listed with its own link.
COMBINED_SUBJECT = re.compile(r"^\d+ invoices from ")
COMBINED_ITEM = re.compile(r"^Invoice (\S+)(?: \(new\))?$.*?Pay online: (\S+)", re.M | re.S)
RECEIPT_SUBJECT = re.compile(r"^Receipt: .* for invoice (\S+)$")


def _payable(world: World) -> dict[str, dict[str, Any]]:
    """Open or partly paid invoices in the QBO simulator, by DocNumber."""
    return {
        str(inv["DocNumber"]): inv
        for inv in world.qbo.entities("Invoice")
        if Decimal(str(inv.get("Balance", 0))) > 0
    }


def _mail_by_subject(world: World, pattern: re.Pattern[str]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = defaultdict(list)
    for message in world.sink.mailbox.all():
        match = pattern.match(" ".join(message.subject.split()))
        if match:
            out[match.group(1)].append(message)
    return out


def _invoice_mail(world: World) -> dict[str, list[tuple[Any, str | None]]]:
    """Each invoice's messages (alone or combined with others), with the link given for it."""
    out: dict[str, list[tuple[Any, str | None]]] = defaultdict(list)
    for message in world.sink.mailbox.all():
        subject = " ".join(message.subject.split())
        match = INVOICE_SUBJECT.match(subject)
        if match:
            found = world.portal_links(message.text)
            out[match.group(1)].append((message, found[0] if found else None))
        elif COMBINED_SUBJECT.match(subject):
            for doc, url in COMBINED_ITEM.findall(message.text or ""):
                out[doc].append((message, url))
    return out


def _succeeded_intents(world: World) -> list[str]:
    return [str(pi["id"]) for pi in world.stripe.objects("payment_intent") if pi["status"] == "succeeded"]


def _qbo_payments_for(world: World, intent_id: str) -> list[dict[str, Any]]:
    return [
        p
        for p in world.qbo.entities("Payment")
        if intent_id in str(p.get("PrivateNote", "")) or p.get("PaymentRefNum") == intent_id[:21]
    ]


def _effects_by_status(world: World) -> dict[str, int]:
    db = world.database()
    try:
        with db.transaction() as session:
            rows = session.execute(select(Effect.status, func.count()).group_by(Effect.status)).all()
            return {str(status): int(n) for status, n in rows}
    finally:
        db.dispose()


def _unsettled(world: World, invoices: set[str]) -> list[str]:
    """What still has to happen before the loop is quiet (empty when done)."""
    left = []
    emailed = _invoice_mail(world)
    missing_invoices = sorted(invoices - set(emailed))
    if missing_invoices:
        left.append(f"invoice emails for {missing_invoices}")
    intents = _succeeded_intents(world)
    unrecorded = [pi for pi in intents if not _qbo_payments_for(world, pi)]
    if unrecorded:
        left.append(f"QBO payments for {unrecorded}")
    receipts = {m.message_id for ms in _mail_by_subject(world, RECEIPT_SUBJECT).values() for m in ms}
    if len(receipts) < len(intents):
        left.append(f"receipts: {len(receipts)} of {len(intents)}")
    statuses = _effects_by_status(world)
    if statuses.get("pending"):
        left.append(f"{statuses['pending']} effects pending")
    return left


@pytest.mark.slow
def test_sigkill_mid_loop_loses_and_duplicates_nothing(
    world: World, daemon: Callable[[], Daemon], portal: PortalClient
) -> None:
    rng = random.Random(SEED)
    world.write_config()
    payable_at_start = _payable(world)
    assert len(payable_at_start) >= PAYMENTS, "the seeded company has too few open invoices"
    proc = daemon()
    kills = 0

    def crash(pause: float) -> None:
        nonlocal kills
        proc.kill()
        kills += 1
        time.sleep(pause)  # while it is down, Stripe and QBO webhooks go unanswered
        proc.start()

    # Kill 1: during the first pull / publish / notify and the burst of new-invoice emails.
    proc.start()
    time.sleep(rng.uniform(0.3, 1.5))
    crash(rng.uniform(0.0, 1.0))

    links: dict[str, str] = {}

    def have_links() -> bool:
        for doc, mails in _invoice_mail(world).items():
            if mails[0][1]:
                links[doc] = mails[0][1]
        return len(links) >= PAYMENTS

    world.wait_until(have_links, timeout=45, what=f"{PAYMENTS} new-invoice emails with portal links")
    to_pay = sorted(links)[:PAYMENTS]
    # Which payments are followed by a crash, a seeded few moments later (mid ingest / QBO write /
    # receipt); the last one is paid while the daemon is down (webhook lost, backfill finds it).
    crash_after = set(rng.sample(range(PAYMENTS - 1), KILLS - 2))
    for i, doc in enumerate(to_pay[:-1]):
        session_id = portal.start_payment(links[doc], amount=_amount(payable_at_start[doc]))
        world.stripe.pay_checkout(session_id, "card_success")
        if i in crash_after:
            time.sleep(rng.uniform(0.0, 0.8))
            crash(rng.uniform(0.0, 1.5))
    last = to_pay[-1]
    session_id = portal.start_payment(links[last], amount=_amount(payable_at_start[last]))
    proc.kill()
    kills += 1
    world.stripe.pay_checkout(session_id, "card_success")
    world.stripe.webhooks.flush(timeout=10)  # its retries exhaust against the dead port
    proc.start()

    world.wait_until(
        lambda: not _unsettled(world, set(payable_at_start)),
        timeout=QUIET_TIMEOUT,
        interval=0.25,
        what=lambda: f"quiescence: {_unsettled(world, set(payable_at_start))}\n{proc.tail()}",
    )
    assert proc.stop() == 0, proc.tail()
    assert kills == KILLS

    # Every open invoice got exactly one new-invoice email identity; a crash between the SMTP
    # server accepting and our commit may resend it, but with the same Message-ID.
    emailed = _invoice_mail(world)
    assert set(payable_at_start) <= set(emailed)
    delivered = {}
    for doc, mails in emailed.items():
        ids = {m.message_id for m, _ in mails}
        assert len(ids) == 1, f"invoice {doc} emailed under {len(ids)} Message-IDs"
        delivered.update({m.id: m.message_id for m, _ in mails})
    assert len(delivered) - len(set(delivered.values())) <= kills

    # Every Stripe payment is in QuickBooks exactly once, linked to the invoice it paid.
    intents = _succeeded_intents(world)
    assert len(intents) == PAYMENTS
    for intent in intents:
        entries = _qbo_payments_for(world, intent)
        assert len(entries) == 1, f"{intent} recorded {len(entries)} times in QBO"
        linked = {txn["TxnId"] for line in entries[0].get("Line", []) for txn in line.get("LinkedTxn", [])}
        assert linked, f"QBO payment for {intent} is not linked to an invoice"
    for doc in to_pay:
        invoice = world.qbo.entity("Invoice", str(payable_at_start[doc]["Id"]))
        assert invoice is not None
        assert Decimal(str(invoice["Balance"])) == 0, f"invoice {doc} still has a balance"

    # One receipt per payment, one Message-ID each.
    receipts = _mail_by_subject(world, RECEIPT_SUBJECT)
    assert set(receipts) == set(to_pay)
    for doc, messages in receipts.items():
        assert len({m.message_id for m in messages}) == 1, f"receipt for {doc} under several Message-IDs"

    # Nothing left half-done: no effect pending or failed, every stored event processed.
    statuses = _effects_by_status(world)
    assert statuses.get("pending", 0) == 0
    assert statuses.get("failed", 0) == 0, statuses
    db = world.database()
    try:
        with db.transaction() as session:
            backlog = session.scalar(
                select(func.count()).select_from(InboxEvent).where(InboxEvent.processed_at.is_(None))
            )
    finally:
        db.dispose()
    assert backlog == 0


def _amount(invoice: dict[str, Any]) -> str:
    return str(Decimal(str(invoice["Balance"])).quantize(Decimal("0.01")))
