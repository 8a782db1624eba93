"""Fixtures for the QBO simulator tests: a controllable clock, a running simulator, an API client."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from connectors.quickbooks.simulator import QboSimulator
from connectors.quickbooks.simulator.wire import loads


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 10, 17, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class Api:
    """A thin requests client for one realm, authenticated like python-quickbooks."""

    def __init__(self, sim: QboSimulator, realm_id: str | None = None) -> None:
        self.sim = sim
        self.realm_id = realm_id or sim.realm_id
        self.session = requests.Session()
        self.token = sim.mint_tokens(self.realm_id)["access_token"]

    @property
    def base(self) -> str:
        return f"{self.sim.api_base_url}/company/{self.realm_id}"

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}

    def get(self, path: str, **params: Any) -> requests.Response:
        params.setdefault("minorversion", "75")
        return self.session.get(f"{self.base}/{path}", headers=self.headers(), params=params, timeout=10)

    def post(self, path: str, body: Any, **params: Any) -> requests.Response:
        from connectors.quickbooks.simulator.wire import dumps

        params.setdefault("minorversion", "75")
        headers = {**self.headers(), "Content-Type": "application/json"}
        return self.session.post(
            f"{self.base}/{path}", data=dumps(body), headers=headers, params=params, timeout=10
        )

    def query(self, text: str) -> requests.Response:
        headers = {**self.headers(), "Content-Type": "application/text"}
        return self.session.post(
            f"{self.base}/query", data=text, headers=headers, params={"minorversion": "75"}, timeout=10
        )

    @staticmethod
    def json(response: requests.Response) -> Any:
        return loads(response.content)

    def close(self) -> None:
        self.session.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sim(clock: Clock) -> Iterator[QboSimulator]:
    with QboSimulator(seed=7, invoices=40, now=clock) as simulator:
        yield simulator


@pytest.fixture
def api(sim: QboSimulator) -> Iterator[Api]:
    client = Api(sim)
    yield client
    client.close()
