"""The simulator at scale: query cost linear in what is returned, consistent change times, sliding limits."""

from __future__ import annotations

# ruff: noqa: S608 - QBO query text built from ids the test chose
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from connectors.quickbooks.simulator import QboSimulator
from connectors.quickbooks.simulator import query as ql
from connectors.quickbooks.simulator.limits import Limits
from connectors.quickbooks.simulator.reads import change_data_capture, run_query
from connectors.quickbooks.simulator.seed import build_realm
from connectors.quickbooks.simulator.store import RealmState, Table
from connectors.quickbooks.simulator.wire import parse_time

# 17:00 UTC is mid-morning in the company's time zone: part of today's invoices are "later today".
NOW = datetime(2026, 3, 10, 17, 0, tzinfo=UTC)


class _Builds:
    """Counts how many rows a table builds from its factory."""

    def __init__(self, table: Table) -> None:
        factory = table._factory  # the test wraps the seed builder to count calls
        assert factory is not None
        self.count = 0

        def counted(entity_id: str) -> dict[str, Any]:
            self.count += 1
            return factory(entity_id)

        table._factory = counted


@pytest.fixture(scope="module")
def big() -> Iterator[RealmState]:
    state, _ = build_realm("1", seed=5, invoices=30_000, currencies=("USD", "CAD"), now=NOW)
    yield state


def test_a_page_builds_only_the_rows_it_returns(big: RealmState) -> None:
    builds = _Builds(big.table("Invoice"))
    answer = run_query(big, "SELECT * FROM Invoice ORDERBY Id STARTPOSITION 27001 MAXRESULTS 1000")
    assert answer["totalCount"] == 30_000 and len(answer["Invoice"]) == 1000
    ids = [int(row["Id"]) for row in answer["Invoice"]]
    assert ids == sorted(ids) and ids[0] == int(big.table("Invoice").ids()[27_000])
    assert builds.count <= 1000
    assert run_query(big, "SELECT COUNT(*) FROM Invoice") == {"totalCount": 30_000}
    assert builds.count <= 1000


def test_descending_id_pages_and_id_lookups_use_the_index(big: RealmState) -> None:
    table = big.table("Invoice")
    builds = _Builds(table)
    last = run_query(big, "SELECT * FROM Invoice ORDERBY Id DESC MAXRESULTS 3")
    assert [row["Id"] for row in last["Invoice"]] == table.ids()[-1:-4:-1]
    wanted = [table.ids()[5], table.ids()[29_000]]
    found = run_query(big, f"SELECT * FROM Invoice WHERE Id IN ('{wanted[1]}', '{wanted[0]}', 'nope')")
    assert [row["Id"] for row in found["Invoice"]] == wanted and found["totalCount"] == 2
    assert builds.count <= 5


def test_a_changed_since_query_builds_only_the_changed_rows(big: RealmState) -> None:
    table = big.table("Invoice")
    since = NOW - timedelta(days=2)
    expected = len(table.changed_since(since))
    assert 0 < expected < 3000
    builds = _Builds(table)
    stamp = since.isoformat()
    answer = run_query(
        big, f"SELECT * FROM Invoice WHERE MetaData.LastUpdatedTime >= '{stamp}' MAXRESULTS 1000"
    )
    assert answer["totalCount"] == expected and builds.count <= expected
    for row in answer["Invoice"]:
        assert parse_time(row["MetaData"]["LastUpdatedTime"]) >= since.replace(microsecond=0)


def test_indexed_plans_agree_with_a_full_sort() -> None:
    state, _ = build_realm("1", seed=9, invoices=300, currencies=("USD",), now=NOW)
    rows = list(state.table("Invoice").rows())
    for order in ("Id", "Id DESC", "MetaData.LastUpdatedTime", "MetaData.LastUpdatedTime DESC"):
        path, _, direction = order.partition(" ")
        keyed = sorted(rows, key=lambda row: ql.sort_key(row, path), reverse=direction == "DESC")
        got = run_query(state, f"SELECT * FROM Invoice ORDERBY {order} STARTPOSITION 11 MAXRESULTS 50")
        want = [ql.sort_key(row, path) for row in keyed[10:60]]
        assert [ql.sort_key(row, path) for row in got["Invoice"]] == want, order


def test_seeding_100k_invoices_takes_seconds() -> None:
    started = time.perf_counter()
    state, _ = build_realm("1", seed=2, invoices=100_000, currencies=("USD", "CAD"), now=NOW)
    assert time.perf_counter() - started < 15
    assert len(state.table("Invoice")) == 100_000


def test_no_seeded_entity_shows_a_change_time_other_than_its_index(big: RealmState) -> None:
    for name in ("Invoice", "Payment", "Customer"):
        table = big.table(name)
        for mtime, entity_id in table.changed_since(NOW - timedelta(days=3)):
            row = table.get(entity_id)
            assert row is not None
            shown = parse_time(row["MetaData"]["LastUpdatedTime"])
            assert shown <= NOW and abs(shown.timestamp() - mtime) < 1, (name, entity_id)


def test_an_idle_cdc_poll_returns_nothing(big: RealmState) -> None:
    answer = change_data_capture(big, "Invoice,Customer,Payment,CreditMemo", NOW.isoformat(), NOW)
    assert answer["CDCResponse"][0]["QueryResponse"] == [{}, {}, {}, {}]


def test_an_idle_cdc_poll_over_http_returns_nothing() -> None:
    clock_now = NOW

    with QboSimulator(seed=4, invoices=3000, now=lambda: clock_now) as sim:
        import requests

        token = sim.mint_tokens()["access_token"]
        answer = requests.get(
            f"{sim.api_base_url}/company/{sim.realm_id}/cdc",
            params={"entities": "Invoice,Customer,Payment", "changedSince": NOW.isoformat()},
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=30,
        )
        assert answer.status_code == 200
        assert answer.json()["CDCResponse"][0]["QueryResponse"] == [{}, {}, {}]


def test_limits_are_sliding_60_second_windows() -> None:
    limits = Limits()
    start = 1_000.0
    for n in range(40):
        assert limits.admit("r", start + n, batch=True)
        limits.release("r")
    # A fixed per-minute window would reset at start + 60; a sliding one frees the first call only.
    assert not limits.admit("r", start + 59.9, batch=True)
    assert limits.admit("r", start + 60.0, batch=True)
    limits.release("r")
    assert not limits.admit("r", start + 60.5, batch=True)
    assert limits.admit("r", start + 61.0, batch=True)
    limits.release("r")
    assert limits.admit("r", start + 61.0, batch=False)  # plain requests have their own 500
