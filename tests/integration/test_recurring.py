"""Recurring services end to end, over the QBO simulator and syncd's own cycle, worker and web app:
a trial cancelled from its reminder (the clock moves past its first date: no invoice is ever made),
a contract-end notice (sent once), and a customer cancelling from the account page (the template
inactive in QBO, staff told, the customer confirmed)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests
from loop_harness import Loop, running_loop
from sqlalchemy import select

from connectors.quickbooks.simulator.wire import COMPANY_TZ
from syncd.stages.cycle import run_cycle
from syncd.store.models import CustomerRow, InvoiceRow, RecurringRow

TRIAL_LINK = re.compile(r"https?://[^\s\"'<>]+/t/[A-Za-z0-9_-]{32}\?choice=cancel")


class Shifted:
    """Real time moved on by whole days when a test says so: QBO's clock and syncd's agree."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, days: int) -> None:
        self.offset += timedelta(days=days)

    def today(self) -> date:
        return self().astimezone(COMPANY_TZ).date()


@pytest.fixture
def clock() -> Shifted:
    return Shifted()


@pytest.fixture
def loop(tmp_path: Path, clock: Shifted, request: pytest.FixtureRequest) -> Iterator[Loop]:
    company: dict[str, Any] = getattr(request, "param", {})
    with running_loop(
        tmp_path, invoices=4, clock=clock, timezone="America/Los_Angeles", **company
    ) as running:
        run_cycle(running.ctx, running.realm)
        running.drain()
        yield running


def _customer(loop: Loop) -> CustomerRow:
    with loop.ctx.db.transaction() as s:
        rows = s.scalars(
            select(CustomerRow).where(CustomerRow.email.is_not(None), CustomerRow.currency == "USD")
        )
        return sorted(rows, key=lambda r: int(r.qbo_id))[0]


def _cycle(loop: Loop, clock: Shifted, *, hours: int = 2) -> None:
    """One company cycle after the hourly template read is due again, then the worker."""
    clock.offset += timedelta(hours=hours)
    run_cycle(loop.ctx, loop.realm)
    loop.drain()


def _mails(loop: Loop, to: str) -> list[Any]:
    return [m for m in loop.sink.mailbox.all() if to in m.to]


def _made_from(loop: Loop, template_id: str) -> list[dict[str, Any]]:
    return [
        i for i in loop.qbo.entities("Invoice") if (i.get("RecurDataRef") or {}).get("value") == template_id
    ]


def _form_value(html: str, name: str) -> str:
    found = re.search(rf"name=\"?{name}\"?\s+value=['\"]([^'\"]+)['\"]", html)
    assert found is not None, f"no {name} in page"
    return found.group(1)


def test_a_trial_cancelled_from_its_reminder_never_makes_an_invoice(loop: Loop, clock: Shifted) -> None:
    customer = _customer(loop)
    first = clock.today() + timedelta(days=5)
    template = loop.qbo.add_recurring(customer.qbo_id, Decimal("25.00"), start=first, name="Cloud backup")
    _cycle(loop, clock)
    with loop.ctx.db.transaction() as s:
        row = s.get(RecurringRow, (loop.realm, template))
        assert row is not None and row.kind == "trial"
    reminders = [m for m in _mails(loop, customer.email or "") if "trial" in m.subject]
    assert len(reminders) == 1 and "Cloud backup" in reminders[0].subject
    found = TRIAL_LINK.search(reminders[0].text or "")
    assert found is not None
    link = found.group(0)

    browser = requests.Session()
    page = browser.get(link, timeout=10)
    assert page.status_code == 200 and "Cancel your trial?" in page.text
    assert loop.qbo.entity("RecurringTransaction", template)["RecurringInfo"]["Active"] is True, (
        "a GET acts on nothing"
    )
    token_url = link.split("?")[0]
    refused = browser.post(token_url, data={"choice": "cancel"}, timeout=10)
    assert refused.status_code == 403
    done = browser.post(
        token_url, data={"choice": "cancel", "csrf_token": _form_value(page.text, "csrf_token")}, timeout=10
    )
    assert done.status_code == 200 and "Your trial is cancelled" in done.text
    loop.drain()

    sim_row = loop.qbo.entity("RecurringTransaction", template)
    assert sim_row is not None and sim_row["RecurringInfo"]["Active"] is False
    assert "EndDate" in sim_row["RecurringInfo"]["ScheduleInfo"]
    assert any("cancelled" in m.subject for m in _mails(loop, customer.email or ""))
    assert any("recurring service" in m.subject for m in _mails(loop, "staff@northwind.test"))

    clock.advance(40)  # well past the first date: QuickBooks makes nothing from it
    loop.qbo.run_recurring()
    _cycle(loop, clock)
    assert _made_from(loop, template) == []
    with loop.ctx.db.transaction() as s:
        charged = s.scalars(select(InvoiceRow).where(InvoiceRow.customer_id == customer.qbo_id)).all()
        assert all(i.txn_date < first for i in charged)
    again = browser.get(link, timeout=10)
    assert "Your trial is cancelled" in again.text


def test_a_contract_end_notice_goes_once_to_customer_and_staff(loop: Loop, clock: Shifted) -> None:
    customer = _customer(loop)
    today = clock.today()
    template = loop.qbo.add_recurring(
        customer.qbo_id,
        Decimal("39.00"),
        start=today - timedelta(days=70),
        end_date=today + timedelta(days=20),
        name="Alarm monitoring",
    )
    _cycle(loop, clock)
    assert len(_made_from(loop, template)) == 3  # QBO made the contract's invoices so far
    ending = [m for m in _mails(loop, customer.email or "") if "ends on" in m.subject]
    staff = [m for m in _mails(loop, "staff@northwind.test") if "recurring service ends" in m.subject]
    assert len(ending) == 1 and len(staff) == 1
    assert "Alarm monitoring" in (ending[0].text or "")
    _cycle(loop, clock)
    _cycle(loop, clock, hours=30)
    assert len([m for m in _mails(loop, customer.email or "") if "ends on" in m.subject]) == 1
    assert (
        len([m for m in _mails(loop, "staff@northwind.test") if "recurring service ends" in m.subject]) == 1
    )


@pytest.mark.parametrize("loop", [{"recurring": {"allow_cancel": True}}], indirect=True)
def test_a_customer_cancels_a_recurring_service_from_the_account_page(loop: Loop, clock: Shifted) -> None:
    customer = _customer(loop)
    today = clock.today()
    template = loop.qbo.add_recurring(
        customer.qbo_id, Decimal("49.00"), start=today - timedelta(days=3), name="Managed IT"
    )
    _cycle(loop, clock)
    invoice = _made_from(loop, template)[0]["Id"]
    browser = requests.Session()
    signed = browser.get(f"{loop.ctx.links.url(loop.realm, invoice)}/account", timeout=10)
    assert signed.status_code == 200 and "Recurring services" in signed.text and "Managed IT" in signed.text
    cancel = f"{loop.url}/account/recurring/{template}/cancel"
    assert cancel.removeprefix(loop.url) in signed.text
    assert browser.get(f"{loop.url}/account/recurring/{template}/pause", timeout=10).status_code == 404
    confirm = browser.get(cancel, timeout=10)
    assert confirm.status_code == 200 and "Cancel this service?" in confirm.text
    posted = browser.post(cancel, data={"csrf_token": _form_value(confirm.text, "csrf_token")}, timeout=10)
    assert posted.status_code == 200 and "The service is cancelled" in posted.text
    loop.drain()

    sim_row = loop.qbo.entity("RecurringTransaction", template)
    assert sim_row is not None and sim_row["RecurringInfo"]["Active"] is False
    assert sim_row["RecurringInfo"]["ScheduleInfo"]["EndDate"] == clock.today().isoformat()
    staff = [m for m in _mails(loop, "staff@northwind.test") if "recurring service" in m.subject]
    assert len(staff) == 1 and "Managed IT" in (staff[0].text or "")
    confirmed = [m for m in _mails(loop, customer.email or "") if "cancelled" in m.subject]
    assert len(confirmed) == 1
    again = browser.post(cancel, data={"csrf_token": _form_value(confirm.text, "csrf_token")}, timeout=10)
    assert again.status_code == 404, "a cancelled service cannot be cancelled twice"
    clock.advance(62)
    loop.qbo.run_recurring()
    assert len(_made_from(loop, template)) == 1


def test_continue_from_the_reminder_keeps_the_trial_and_its_first_invoice_comes(
    loop: Loop, clock: Shifted
) -> None:
    customer = _customer(loop)
    template = loop.qbo.add_recurring(customer.qbo_id, start=clock.today() + timedelta(days=3))
    _cycle(loop, clock)
    reminder = next(m for m in _mails(loop, customer.email or "") if "trial" in m.subject)
    found = TRIAL_LINK.search(reminder.text or "")
    assert found is not None
    link = found.group(0).replace("choice=cancel", "choice=continue")
    browser = requests.Session()
    page = browser.get(link, timeout=10)
    assert "Continue after your trial?" in page.text
    form = {"choice": "continue", "csrf_token": _form_value(page.text, "csrf_token")}
    done = browser.post(link.split("?")[0], data=form, timeout=10)
    assert done.status_code == 200 and "Thank you" in done.text
    loop.drain()
    assert loop.qbo.entity("RecurringTransaction", template)["RecurringInfo"]["Active"] is True
    clock.advance(4)
    loop.qbo.run_recurring()
    assert len(_made_from(loop, template)) == 1


@pytest.mark.parametrize("loop", [{"recurring": {"allow_pause": True}}], indirect=True)
def test_a_paused_service_resumed_by_the_bookkeeper_can_be_paused_again(loop: Loop, clock: Shifted) -> None:
    customer = _customer(loop)
    template = loop.qbo.add_recurring(customer.qbo_id, start=clock.today() - timedelta(days=1), name="Patrol")
    _cycle(loop, clock)
    browser = requests.Session()
    from_invoice = f"{loop.ctx.links.url(loop.realm, _made_from(loop, template)[0]['Id'])}/account"
    browser.get(from_invoice, timeout=10)
    pause = f"{loop.url}/account/recurring/{template}/pause"
    assert browser.get(f"{loop.url}/account/recurring/{template}/cancel", timeout=10).status_code == 404
    confirm = browser.get(pause, timeout=10)
    posted = browser.post(pause, data={"csrf_token": _form_value(confirm.text, "csrf_token")}, timeout=10)
    assert "The service is paused" in posted.text
    loop.drain()
    info = loop.qbo.entity("RecurringTransaction", template)["RecurringInfo"]
    assert info["Active"] is False and "EndDate" not in info["ScheduleInfo"], "a pause ends nothing"
    assert any("paused" in m.subject for m in _mails(loop, customer.email or ""))
    assert "Paused" in browser.get(f"{loop.url}/account", timeout=10).text
    loop.qbo.update_entity("RecurringTransaction", template, RecurringInfo={**info, "Active": True})
    _cycle(loop, clock)
    again = browser.get(from_invoice, timeout=10).text  # two hours on: the idle session ended
    assert pause.removeprefix(loop.url) in again, "resumed in QuickBooks: it can be paused again"
    confirm = browser.get(pause, timeout=10)
    browser.post(pause, data={"csrf_token": _form_value(confirm.text, "csrf_token")}, timeout=10)
    loop.drain()
    assert loop.qbo.entity("RecurringTransaction", template)["RecurringInfo"]["Active"] is False
    assert len([m for m in _mails(loop, customer.email or "") if "paused" in m.subject]) == 2
