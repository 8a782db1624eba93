"""Credit hold after failed automatic charges: N declined charges in a row (a success between
breaks the run) put the customer on hold, staff are told once and the QBO customer carries the
note; while on hold the account page refuses autopay enrollment with a clear message; paying what
is due releases the hold and enrollment is offered again."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import requests
from autopay_scene import Scene, autopay_scene
from sqlalchemy import select

from syncd.domain.autopay import ChargeStatus
from syncd.stages import ladder
from syncd.stages.cycle import run_cycle
from syncd.store import collections, holds
from syncd.store.models import AutopayCharge, AutopayEnrollment

HELD = "[syncd] Northwind IT Services: Customer on credit hold"
REFUSED = "be turned on while your account is on hold"


def _form_value(html: str, name: str) -> str:
    found = re.search(rf"name=\"?{name}\"?\s+value=['\"]([^'\"]+)['\"]", html)
    assert found is not None, f"no {name} in page"
    return found.group(1)


def _charge(scene: Scene, customer: str, invoice: str, attempt: int, status: ChargeStatus) -> None:
    """An automatic charge attempt that ended as ``status`` (what autopay records)."""
    now = scene.clock.now + timedelta(minutes=attempt)
    with scene.loop.ctx.db.transaction() as s:
        s.add(
            AutopayCharge(
                key=f"autopay:{scene.realm}:{invoice}:120.000:{attempt}",
                company_id=scene.realm,
                customer_id=customer,
                invoice_id=invoice,
                balance=Decimal("120.00"),
                currency="USD",
                attempt=attempt,
                charge_on=now.date(),
                status=status.value,
                payment_method_id=scene.method_id,
                created_at=now,
                updated_at=now,
            )
        )


def test_failures_in_a_row_count_and_a_success_breaks_the_run(tmp_path: Path, database_url: str) -> None:
    """On both backends."""
    with autopay_scene(
        tmp_path, collections={"hold_after_failed_charges": 3}, database_url=database_url
    ) as scene:
        loop, realm = scene.loop, scene.realm
        customer = scene.charges_customer(0)
        for attempt, status in enumerate(
            (ChargeStatus.DECLINED, ChargeStatus.DECLINED, ChargeStatus.SUCCEEDED, ChargeStatus.DECLINED), 1
        ):
            _charge(scene, customer, scene.invoice_id, attempt, status)
        scene.cycle()
        with loop.ctx.db.transaction() as s:
            assert ladder.failed_in_a_row(s, realm, customer) == 1
            assert holds.active(s, realm, customer) is None
        _charge(scene, customer, scene.invoice_id, 5, ChargeStatus.NEEDS_ACTION)  # not a failure
        _charge(scene, customer, scene.invoice_id, 6, ChargeStatus.DECLINED)
        _charge(scene, customer, scene.invoice_id, 7, ChargeStatus.DECLINED)
        scene.cycle()
        with loop.ctx.db.transaction() as s:
            assert ladder.failed_in_a_row(s, realm, customer) == 3
            assert holds.active(s, realm, customer) is not None
            assert collections.history(s, realm, customer)[0].body == "3 automatic charges failed in a row"
        scene.cycle()
        assert sum(m.subject == HELD for m in loop.sink.mailbox.all()) == 1  # told once
        notes = str((loop.qbo.entity("Customer", customer) or {}).get("Notes"))
        assert "[syncd credit hold]" in notes and "3 automatic charges failed in a row" in notes


def test_real_declines_put_the_customer_on_hold_and_enrollment_is_refused_until_paid(tmp_path: Path) -> None:
    with autopay_scene(
        tmp_path, "pm_card_chargeDeclinedInsufficientFunds", collections={"hold_after_failed_charges": 2}
    ) as scene:
        loop, realm = scene.loop, scene.realm
        customer = scene.charges_customer(0)
        scene.cycle(days=2)
        scene.cycle(days=3)  # the due date: declined, one retry planned two days on
        scene.cycle(days=2)  # declined again: two in a row
        assert [c.status for c in scene.charges()] == ["declined", "declined"]
        scene.cycle()
        with loop.ctx.db.transaction() as s:
            assert holds.active(s, realm, customer) is not None
        assert any(m.subject == HELD for m in loop.sink.mailbox.all())

        # The customer tries to turn autopay on again from their account page.
        browser = requests.Session()
        signed = browser.get(f"{loop.ctx.links.url(realm, scene.invoice_id)}/account", timeout=10)
        assert signed.status_code == 200
        page = browser.get(f"{loop.url}/account/autopay", timeout=10)
        token = _form_value(page.text, "csrf_token")  # of the turn-off form: a soft decline left it on
        with loop.ctx.db.transaction() as s:
            s.scalars(select(AutopayEnrollment)).one().stopped_at = scene.clock.now  # turned off since
        page = browser.get(f"{loop.url}/account/autopay", timeout=10)
        assert page.status_code == 200 and REFUSED in page.text and 'name="agree"' not in page.text
        form = {"csrf_token": token, "method": scene.method_id, "agree": "1"}
        refused = browser.post(f"{loop.url}/account/autopay", data=form, allow_redirects=False, timeout=10)
        assert refused.status_code == 400 and REFUSED in refused.text
        with loop.ctx.db.transaction() as s:
            assert s.scalars(select(AutopayEnrollment)).one().stopped_at is not None  # not enrolled

        # Paying what is due releases the hold on its own; enrollment is offered again.
        loop.qbo.record_offline_payment(scene.invoice_id, Decimal("120.00"))
        run_cycle(loop.ctx, realm)
        loop.drain()
        with loop.ctx.db.transaction() as s:
            assert holds.active(s, realm, customer) is None
        page = browser.get(f"{loop.url}/account/autopay", timeout=10)
        assert REFUSED not in page.text and 'name="agree"' in page.text
        form["csrf_token"] = _form_value(page.text, "csrf_token")
        done = browser.post(f"{loop.url}/account/autopay", data=form, allow_redirects=False, timeout=10)
        assert done.status_code == 303, done.text
