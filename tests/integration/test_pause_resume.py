"""A company paused by a refused credential says why and how to fix it, and comes back by itself:
the Stripe key is rolled while ``syncd run`` works, a customer pays meanwhile, the company pauses
naming ``stripe.api_key``; the operator puts the new key in and restarts; the payment is booked."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from world import Daemon, PortalClient, World

INVOICE_SUBJECT = re.compile(r"^(?:Invoice \S+|\d+ invoices) from ")
# The first invoice a message is about: a single invoice's subject, or the first of a combined list.
FIRST_INVOICE = re.compile(r"Invoice (\S+)")
NEW_KEY = "sk_test_rolledkey"


def _balance(world: World, doc_number: str) -> Decimal:
    found = [i for i in world.qbo.entities("Invoice") if str(i["DocNumber"]) == doc_number]
    return Decimal(str(found[0]["Balance"]))


def test_a_rolled_stripe_key_pauses_with_its_fix_and_a_restart_with_the_new_key_books_the_payment(
    world: World, daemon: Any, portal: PortalClient
) -> None:
    world.write_config()
    text = world.config_path.read_text()
    world.config_path.write_text(
        text.replace("[company.branding]", 'staff_email = "staff@northwind.test"\n\n[company.branding]')
    )
    run: Daemon = daemon()
    run.start()
    mail = world.sink.mailbox
    world.wait_until(
        lambda: any(INVOICE_SUBJECT.match(m.subject) for m in mail.all()), timeout=60, what="an invoice email"
    )
    message = next(m for m in mail.all() if INVOICE_SUBJECT.match(m.subject))
    about = message.subject if message.subject.startswith("Invoice") else message.text or ""
    match = FIRST_INVOICE.search(about)
    assert match is not None
    doc = match.group(1)
    owed = _balance(world, doc)
    session_id = portal.start_payment(world.portal_links(message.text)[0])

    # The key is rolled in the dashboard; the customer pays on the page Stripe already had.
    world.stripe.roll_api_key(NEW_KEY)
    world.stripe.pay_checkout(session_id, "card_success")
    world.wait_until(lambda: world.company().status == "paused", timeout=60, what=lambda: run.tail())

    company = world.company()
    assert company.pause_credential == "stripe.api_key"
    assert "Invalid API Key" in (company.status_reason or "")
    assert _balance(world, doc) == owed  # not booked while paused

    table = world.syncd("status")
    assert table.returncode == 0, table.stderr
    assert "paused" in table.stdout
    assert re.search(r"why: .*Invalid API Key.* \(stripe.api_key refused, since ", table.stdout)
    assert "fix: put a working key into `stripe.api_key` and restart syncd" in table.stdout
    (row,) = json.loads(world.syncd("status", "--json").stdout)
    assert row["status"] == "paused" and row["pause_credential"] == "stripe.api_key"
    assert row["paused_at"] and "stripe.api_key" in row["fix"]

    world.wait_until(
        lambda: any("Stripe refused" in m.subject for m in mail.all()), timeout=30, what="the staff alert"
    )
    alert = next(m for m in mail.all() if "Stripe refused" in m.subject)
    assert "stripe.api_key" in alert.text
    assert "syncd connect quickbooks" not in alert.text

    # The operator does what the email says: the new key, then a restart.
    assert run.stop() == 0
    text = world.config_path.read_text()
    world.config_path.write_text(re.sub(r'api_key = "sk_test_[^"]*"', f'api_key = "{NEW_KEY}"', text))
    run.start()
    world.wait_until(lambda: _balance(world, doc) == 0, timeout=60, what=lambda: run.tail())
    company = world.company()
    assert company.status == "active"
    assert company.status_reason is None and company.pause_credential is None
    assert run.stop() == 0
