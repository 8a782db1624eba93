"""Recurring invoice templates through the QuickBooks Protocol: the sample maps exactly, and the
connector over the simulator and the in-memory fake hold one contract (read every template;
deactivate / end one once under its requestid; a stale SyncToken is retried)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from fakes.quickbooks import FakeQuickBooks
from samples import QBO_SAMPLES

from connectors.quickbooks.mapping import query_rows
from connectors.quickbooks.recurring import changed_info, to_template, unwrapped
from syncd.domain.recurring import Interval, RecurKind, RecurringChange, Schedule
from syncd.errors import PermanentError
from syncd.ports.quickbooks import QuickBooks

# In the future, whatever day the tests run: the simulator makes nothing from it yet.
START = (datetime.now(UTC) + timedelta(days=30)).date()


def _sample_rows() -> list[dict[str, Any]]:
    doc = json.loads((QBO_SAMPLES / "recurring_transaction_query.json").read_text(), parse_float=Decimal)
    rows = []
    for wrapper in query_rows(doc, "RecurringTransaction"):
        inner = unwrapped(wrapper)
        assert inner is not None
        rows.append(inner)
    return rows


def test_the_sample_maps_exactly() -> None:
    contract, trial = (to_template(row, home_currency="USD") for row in _sample_rows())
    assert contract.template_id == "9" and contract.sync_token == "2"
    assert (contract.name, contract.customer_id, contract.amount, contract.currency) == (
        "Alarm monitoring - monthly",
        "58",
        Decimal("39.00"),
        "USD",
    )
    assert contract.active and contract.automated
    s = contract.schedule
    assert (s.interval, s.every, s.day_of_month) == (Interval.MONTHLY, 1, 1)
    assert (s.start, s.next_date, s.previous_date, s.end_date) == (
        date(2026, 2, 1),
        date(2026, 4, 1),
        date(2026, 3, 1),
        date(2027, 1, 31),
    )
    assert s.last_date() == date(2027, 1, 1) and s.ends_on() == date(2027, 1, 31)
    assert s.upcoming(3) == [date(2026, 4, 1), date(2026, 5, 1), date(2026, 6, 1)]
    assert contract.kind(date(2026, 3, 31)) is RecurKind.CONTRACT
    assert trial.currency == "CAD" and trial.schedule.max_occurrences == 12
    assert trial.kind(date(2026, 3, 31)) is RecurKind.TRIAL
    assert trial.kind(date(2026, 4, 19)) is RecurKind.CONTRACT
    assert trial.schedule.last_date() == trial.schedule.ends_on() == date(2027, 3, 19)


def test_a_change_keeps_the_whole_schedule_and_an_earlier_end() -> None:
    row = _sample_rows()[0]
    info = changed_info(row, RecurringChange("9", active=False, end_date=date(2026, 4, 15)))
    assert info is not None and info["Active"] is False
    assert info["ScheduleInfo"] == {**row["RecurringInfo"]["ScheduleInfo"], "EndDate": "2026-04-15"}
    assert changed_info(row, RecurringChange("9", end_date=date(2028, 1, 1))) is None, (
        "a later end changes nothing"
    )
    assert changed_info(row, RecurringChange("9", active=True)) is None


def test_a_template_without_schedule_is_a_permanent_error() -> None:
    row = {**_sample_rows()[0], "RecurringInfo": {"Name": "x"}}
    with pytest.raises(PermanentError, match="ScheduleInfo"):
        to_template(row, home_currency="USD")


@dataclass
class Backend:
    connector: QuickBooks
    add: Callable[[], str]  # a template for a customer, first billing on START: its id
    active: Callable[[str], bool]
    stale: Callable[[int], None] | None


@pytest.fixture(params=["sim", "fake"])
def backend(request: pytest.FixtureRequest, token_store: Any) -> Iterator[Backend]:
    if request.param == "fake":
        fake = FakeQuickBooks()
        customer = fake.add_customer("Recurring Ltd", "ap@recurring.example")
        schedule = Schedule(Interval.MONTHLY, 1, START, START)
        yield Backend(
            fake,
            lambda: fake.add_template(customer, Decimal("50.00"), schedule).template_id,
            lambda tid: fake.templates[tid].active,
            None,
        )
        return
    sim = request.getfixturevalue("sim")
    token_store.save_payload(sim.realm_id, sim.mint_tokens())
    qbo = request.getfixturevalue("make_sim_connector")(sim, token_store)

    def active(template_id: str) -> bool:
        row = sim.entity("RecurringTransaction", template_id)
        return bool(row["RecurringInfo"]["Active"])

    yield Backend(
        qbo, lambda: sim.add_recurring(amount=Decimal("50.00"), start=START), active, sim.faults.stale_next
    )


def test_templates_are_read_with_their_schedule(backend: Backend) -> None:
    template_id = backend.add()
    found = {t.template_id: t for t in backend.connector.recurring_templates()}
    template = found[template_id]
    assert template.amount == Decimal("50.00") and template.active and template.automated
    assert template.schedule.interval is Interval.MONTHLY and template.schedule.next_date == START


def test_deactivate_and_end_once_under_its_request_id(backend: Backend) -> None:
    template_id = backend.add()
    end = START + timedelta(days=10)
    change = RecurringChange(template_id, active=False, end_date=end)
    first = backend.connector.update_recurring(change, request_id=f"qbo:recurring:r:{template_id}:cancel")
    assert not first.active and first.schedule.end_date == end and not backend.active(template_id)
    again = backend.connector.update_recurring(change, request_id=f"qbo:recurring:r:{template_id}:cancel")
    assert again.sync_token == first.sync_token, "nothing written twice"
    fresh = backend.connector.update_recurring(change, request_id="another-key")
    assert fresh.sync_token == first.sync_token, "already as asked: nothing written"


@pytest.mark.parametrize("backend", ["sim"], indirect=True)  # the fake has no HTTP to fault
def test_a_stale_sync_token_is_read_again(backend: Backend) -> None:
    assert backend.stale is not None
    template_id = backend.add()
    backend.stale(1)
    done = backend.connector.update_recurring(
        RecurringChange(template_id, active=False), request_id="stale-1"
    )
    assert not done.active and not backend.active(template_id)


def test_a_deleted_template_is_a_permanent_error(backend: Backend) -> None:
    with pytest.raises(PermanentError):
        backend.connector.update_recurring(RecurringChange("987654", active=False), request_id="gone-1")


def test_the_connector_reads_the_sample_over_http(
    stub: Any, make_stub_connector: Callable[..., Any], token_store: Any
) -> None:
    token_store.save(stub.realm, stub.tokens())
    body = (QBO_SAMPLES / "recurring_transaction_query.json").read_text()
    stub.queue.append((200, body, {"Content-Type": "application/json"}))
    with make_stub_connector(token_store) as qbo:
        templates = qbo.recurring_templates()
    assert [(t.template_id, t.amount, t.currency) for t in templates] == [
        ("9", Decimal("39.00"), "USD"),
        ("12", Decimal("25.00"), "CAD"),
    ]
    assert [path for _, path, _ in stub.seen] == ["/query"], "one read for fewer than 1000 templates"
