"""Fixtures for the QuickBooks connector tests: an in-memory TokenStore and a `responses` QBO stub
answering with the published samples in tests/contracts/qbo/."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from qbo_tokens import tokens_from
from samples import QBO_SAMPLES
from virtual_clock import VirtualClock

from connectors.quickbooks.client import QboConnector
from connectors.quickbooks.limits import CompanyLimits
from syncd.ports.quickbooks import QboSettings, QboTokens

CONTRACTS = QBO_SAMPLES
STUB_REALM = "1269959970"
STUB_API = "https://qbo.stub/v3"
STUB_DISCOVERY = "https://oauth.stub/.well-known/openid_configuration"
STUB_TOKEN = "https://oauth.stub/oauth2/v1/tokens/bearer"


def sample(name: str) -> Any:
    return json.loads((CONTRACTS / name).read_text())


class MemoryTokenStore:
    """TokenStore kept in memory, with a real lock; ``history`` lists every saved pair."""

    def __init__(self) -> None:
        self._tokens: dict[str, QboTokens] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self.history: list[QboTokens] = []

    def load(self, realm_id: str) -> QboTokens | None:
        with self._guard:
            return self._tokens.get(realm_id)

    def save(self, realm_id: str, tokens: QboTokens) -> None:
        with self._guard:
            self._tokens[realm_id] = tokens
            self.history.append(tokens)

    def save_payload(self, realm_id: str, payload: dict[str, Any]) -> QboTokens:
        """Store a token-endpoint answer (e.g. a simulator's ``mint_tokens()``)."""
        tokens = tokens_from(payload)
        self.save(realm_id, tokens)
        return tokens

    def refresh_lock(self, realm_id: str) -> AbstractContextManager[None]:
        with self._guard:
            lock = self._locks.setdefault(realm_id, threading.Lock())

        @contextmanager
        def hold() -> Iterator[None]:
            with lock:
                yield

        return hold()


@pytest.fixture
def token_store() -> MemoryTokenStore:
    return MemoryTokenStore()


class StubQbo:
    """A `responses`-backed QBO built from the published samples. ``queue`` holds canned answers
    (status, body, headers) served before the normal ones; ``seen`` records (method, path, query)."""

    realm = STUB_REALM
    token_url = STUB_TOKEN

    def __init__(self, mock: responses.RequestsMock) -> None:
        self.mock = mock
        self.queue: list[tuple[int, str, dict[str, str]]] = []
        self.seen: list[tuple[str, str, dict[str, list[str]]]] = []
        self.created: dict[str, dict[str, Any]] = {}
        self.refresh_tokens = {"RT-0"}
        self.refreshes = 0
        self.access_tokens = {"AT-0"}
        self.always_401 = False
        self.stale_next = 0
        self.payment_sync = 0
        self.invoices = sample("invoice_query_response.json")["QueryResponse"]["Invoice"]
        self.customers = [sample("customer_read.json")["Customer"]]
        mock.add(
            responses.GET,
            STUB_DISCOVERY,
            json={
                "issuer": "https://oauth.stub/op",
                "authorization_endpoint": "https://oauth.stub/connect/oauth2",
                "token_endpoint": STUB_TOKEN,
                "revocation_endpoint": "https://oauth.stub/revoke",
                "userinfo_endpoint": "https://oauth.stub/userinfo",
                "jwks_uri": "https://oauth.stub/jwks",
            },
        )
        mock.add_callback(responses.POST, STUB_TOKEN, callback=self._token)
        mock.add_callback(responses.GET, re.compile(re.escape(STUB_API) + r"/.*"), callback=self._api)
        mock.add_callback(responses.POST, re.compile(re.escape(STUB_API) + r"/.*"), callback=self._api)

    def tokens(self) -> QboTokens:
        return tokens_from({"access_token": "AT-0", "refresh_token": "RT-0", "expires_in": 3600})

    def _token(self, request: Any) -> tuple[int, dict[str, str], str]:
        form = parse_qs(request.body)
        token = form.get("refresh_token", [""])[0]
        if token not in self.refresh_tokens:
            return 400, {}, json.dumps({"error": "invalid_grant"})
        self.refresh_tokens.discard(token)
        self.refreshes += 1
        body = sample("oauth_token_response.json")
        body["refresh_token"] = f"RT-{self.refreshes}"
        body["access_token"] = f"AT-{self.refreshes}"
        self.refresh_tokens.add(body["refresh_token"])
        self.access_tokens = {body["access_token"]}
        return 200, {}, json.dumps(body)

    def _api(self, request: Any) -> tuple[int, dict[str, str], str]:
        parts = urlsplit(request.url)
        query = parse_qs(parts.query)
        path = parts.path.removeprefix(urlsplit(STUB_API).path + f"/company/{STUB_REALM}")
        self.seen.append((request.method, path, query))
        if self.queue:
            status, body, headers = self.queue.pop(0)
            return status, headers, body
        auth = request.headers.get("Authorization", "")
        if self.always_401 or auth.removeprefix("Bearer ") not in self.access_tokens:
            return 401, {}, json.dumps(sample("fault_auth_401.json"))
        if path == "/batch":
            return self._batch(json.loads(request.body))
        if path.startswith("/invoice/"):
            invoice_id = path.rsplit("/", 1)[1]
            invoice = sample("invoice_read.json")
            if invoice["Invoice"]["Id"] == invoice_id:
                return 200, {}, json.dumps(invoice)
            return 400, {}, json.dumps(_not_found())
        if path == "/payment/123" and request.method == "GET":
            return 200, {}, json.dumps({"Payment": {"Id": "123", "SyncToken": str(self.payment_sync)}})
        if path == "/payment" and query.get("include") == ["void"]:
            if self.stale_next:
                self.stale_next -= 1
                self.payment_sync += 1
                return 400, {}, json.dumps(sample("fault_stale_object.json"))
            self.payment_sync += 1
            return 200, {}, json.dumps({"Payment": {"Id": "123", "SyncToken": str(self.payment_sync)}})
        if path == "/cdc":
            return 200, {}, json.dumps(sample("cdc_response.json"))
        if request.method == "POST" and path in ("/payment", "/purchase"):
            key = query.get("requestid", [""])[0]
            if key not in self.created:
                name = path[1:]
                self.created[key] = sample(f"{name}_create_response.json")
            return 200, {}, json.dumps(self.created[key])
        return 400, {}, json.dumps(sample("fault_query_400.json"))

    def _batch(self, body: dict[str, Any]) -> tuple[int, dict[str, str], str]:
        out = []
        for item in body["BatchItemRequest"]:
            text = item.get("Query", "")
            entity = "Invoice" if "FROM Invoice" in text else "Customer"
            rows = self.invoices if entity == "Invoice" else self.customers
            if "COUNT(*)" in text:
                out.append({"bId": item["bId"], "QueryResponse": {"totalCount": len(rows)}})
            elif text:
                out.append({"bId": item["bId"], "QueryResponse": {entity: rows, "startPosition": 1}})
            else:
                out.append({"bId": item["bId"], **sample("payment_create_response.json")})
        return 200, {}, json.dumps({"BatchItemResponse": out, "time": "2024-07-16T10:00:00.000-07:00"})


def _not_found() -> dict[str, Any]:
    return {
        "Fault": {
            "Error": [{"Message": "Object Not Found", "Detail": "Object Not Found", "code": "610"}],
            "type": "ValidationFault",
        }
    }


def stub_settings() -> QboSettings:
    return QboSettings(
        client_id="stub-client",
        client_secret="stub-secret",
        redirect_uri="http://127.0.0.1:8765/callback",
        environment=STUB_DISCOVERY,
        api_base_url=STUB_API,
        webhook_verifier_token="stub-verifier",
    )


@pytest.fixture
def make_stub_connector() -> Callable[..., QboConnector]:
    """Build a connector on the stub; ``slept`` collects the backoff sleeps instead of sleeping."""

    def make(store: MemoryTokenStore, slept: list[float] | None = None, **kw: Any) -> QboConnector:
        sleeps = slept if slept is not None else []
        return QboConnector(
            stub_settings(),
            STUB_REALM,
            store,
            home_currency="USD",
            sleep=sleeps.append,
            limits=virtual_limits(),
            **kw,
        )

    return make


@pytest.fixture
def stub() -> Iterator[StubQbo]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield StubQbo(mock)


def virtual_limits() -> CompanyLimits:
    clock = VirtualClock()
    return CompanyLimits.standard(clock=clock, sleep=clock.sleep)


def sim_settings(sim: Any, redirect_uri: str = "http://127.0.0.1:9/callback") -> QboSettings:
    return QboSettings(
        client_id="sim-client",
        client_secret="sim-secret",
        redirect_uri=redirect_uri,
        environment=sim.discovery_url,
        api_base_url=sim.api_base_url,
        webhook_verifier_token="sim-verifier",
        timeout_seconds=10.0,
    )


@pytest.fixture(scope="module")
def sim_module() -> Iterator[Any]:
    """One simulator for a test module (fast); tests that need a fresh one start their own."""
    from connectors.quickbooks.simulator import QboSimulator

    with QboSimulator(seed=0, invoices=60) as sim:
        yield sim


@pytest.fixture
def sim(sim_module: Any) -> Any:
    sim_module.faults.reset()
    sim_module.reset_limits()
    return sim_module


@pytest.fixture
def make_sim_connector() -> Iterator[Callable[..., QboConnector]]:
    """Build connectors on a simulator; ``slept`` collects backoff sleeps (a callable also works)."""
    built: list[QboConnector] = []

    def make(sim: Any, store: MemoryTokenStore, slept: Any = None, **kw: Any) -> QboConnector:
        sleep = slept if callable(slept) else (slept if slept is not None else []).append
        connector = QboConnector(
            sim_settings(sim), sim.realm_id, store, sleep=sleep, limits=virtual_limits(), **kw
        )
        built.append(connector)
        return connector

    yield make
    for connector in built:
        connector.close()


@pytest.fixture
def settings_for() -> Callable[..., QboSettings]:
    """``settings_for(sim, redirect_uri=...)``: connector settings pointing at a simulator."""
    return sim_settings
