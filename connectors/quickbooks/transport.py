"""The HTTP path every QBO API call takes: limits, bearer token, retries, error mapping, counting."""

from __future__ import annotations

import enum
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any
from urllib.parse import urlsplit

import requests

from connectors.quickbooks.errors import error_for_response
from connectors.quickbooks.limits import BudgetBusy, CompanyLimits
from connectors.quickbooks.oauth import TokenManager
from syncd.errors import AuthError, Credential, StaleObjectError, SyncdError, ThrottledError, TransientError
from syncd.ports.quickbooks import RequestCounts

_BULK: ContextVar[bool] = ContextVar("qbo_bulk", default=False)
BULK_PATIENCE = 5.0  # seconds bulk work may wait for budget before it is deferred instead


@contextmanager
def bulk() -> Iterator[None]:
    """Requests sent inside are bulk work (link write-backs): they leave a reserve of the
    company's budget to money effects, which are never kept waiting behind them."""
    token = _BULK.set(True)
    try:
        yield
    finally:
        _BULK.reset(token)


class RequestKind(enum.Enum):
    """How QBO meters a call: reads count against the monthly quota, writes do not."""

    READ = "read"
    WRITE = "write"
    BATCH = "batch"


def classify(method: str, url: str) -> RequestKind:
    path = urlsplit(url).path.rstrip("/")
    if path.endswith("/batch"):
        return RequestKind.BATCH
    if method.upper() == "GET" or path.endswith("/query"):
        return RequestKind.READ
    return RequestKind.WRITE


class RequestCounter:
    """Thread-safe tally of requests that reached QBO, per kind, plus throttled answers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts = {kind: 0 for kind in RequestKind}
        self._throttled = 0

    def add(self, kind: RequestKind, *, throttled: bool = False) -> None:
        with self._lock:
            self._counts[kind] += 1
            self._throttled += int(throttled)

    def snapshot(self) -> RequestCounts:
        with self._lock:
            return RequestCounts(
                reads=self._counts[RequestKind.READ],
                writes=self._counts[RequestKind.WRITE],
                batches=self._counts[RequestKind.BATCH],
                throttled=self._throttled,
            )


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


class QboTransport:
    """Sends one logical request, retrying throttling (bounded, honouring Retry-After), 5xx and
    timeouts (bounded, jittered) and a 401 once after a token refresh. Raises only syncd errors;
    returns only 200 responses. Retrying writes is safe because each carries its ``requestid``."""

    def __init__(
        self,
        tokens: TokenManager,
        limits: CompanyLimits,
        *,
        timeout: float = 30.0,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        max_retries: int = 4,
        max_throttle_retries: int = 30,
        backoff_base: float = 0.5,
        backoff_cap: float = 60.0,
        rng: random.Random | None = None,
    ) -> None:
        self.tokens = tokens
        self.limits = limits
        self.timeout = timeout
        self.session = session or requests.Session()
        self.counter = RequestCounter()
        self._sleep = sleep
        self._max_retries = max_retries
        self._max_throttle_retries = max_throttle_retries
        self._base = backoff_base
        self._cap = backoff_cap
        self._rng = rng or random.Random()

    def _backoff(self, attempt: int) -> float:
        # Full jitter: spreads the retries of many workers hitting the same company.
        return self._rng.uniform(0, min(self._cap, self._base * 2 ** (attempt - 1)))

    def send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        data: Any = None,
    ) -> requests.Response:
        kind = classify(method, url)
        refreshed = False
        transient_tries = throttle_tries = 0
        while True:
            error: SyncdError
            bulk_work = _BULK.get()
            patience = BULK_PATIENCE if bulk_work else None
            try:
                with self.limits.slot(batch=kind is RequestKind.BATCH, bulk=bulk_work, patience=patience):
                    token = self.tokens.access_token()
                    sent_headers = {"Accept": "application/json", **(headers or {})}
                    sent_headers["Authorization"] = f"Bearer {token}"
                    try:
                        response = self.session.request(
                            method, url, headers=sent_headers, params=params, data=data, timeout=self.timeout
                        )
                    except requests.RequestException as exc:
                        self.counter.add(kind)
                        response = None
                        error = TransientError(f"QBO unreachable: {type(exc).__name__}")
            except BudgetBusy as busy:
                # Bulk work gives its turn to money rather than keep a worker blocked: retried later.
                raise ThrottledError(str(busy), retry_after=busy.wait) from None
            if response is not None:
                throttled = response.status_code == 429
                if response.status_code == 200:
                    self.counter.add(kind)
                    return response
                error = error_for_response(
                    response.status_code, response.content, retry_after=_retry_after(response)
                )
                self.counter.add(kind, throttled=throttled or isinstance(error, ThrottledError))
                if response.status_code == 401:
                    if refreshed:
                        raise AuthError(
                            "QBO rejected a freshly refreshed access token (HTTP 401)",
                            credential=Credential.QBO_CONNECTION,
                        )
                    refreshed = True
                    self.tokens.refresh(rejected=token)
                    continue
            if isinstance(error, ThrottledError):
                throttle_tries += 1
                if throttle_tries > self._max_throttle_retries:
                    raise error
                # Stop bursting for everyone sharing this company's budget.
                self.limits.requests.drain()
                if kind is RequestKind.BATCH:
                    self.limits.batches.drain()
                self._sleep(
                    error.retry_after if error.retry_after is not None else self._backoff(throttle_tries)
                )
                continue
            if isinstance(error, TransientError) and not isinstance(error, StaleObjectError):
                transient_tries += 1
                if transient_tries > self._max_retries:
                    raise error
                self._sleep(self._backoff(transient_tries))
                continue
            raise error

    def close(self) -> None:
        self.session.close()
