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
from syncd.ports.quickbooks import MONEY_FIRST, RequestCounts
from syncd.retrying import Backoff, RetryPolicy, parse_retry_after

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


class _Unauthorized(Exception):
    """A 401: the access token sent (``rejected``) should be refreshed once and the request resent."""

    def __init__(self, rejected: str) -> None:
        super().__init__("QBO rejected the access token (HTTP 401)")
        self.rejected = rejected


class _Deferred(Exception):
    """Carries a ThrottledError out of the retry loop untouched: bulk work gives way, not retries."""

    def __init__(self, error: ThrottledError) -> None:
        super().__init__(str(error))
        self.error = error


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
        self._rng = rng or random.Random()
        # Throttling has its own, larger budget: QBO asks for patience, not a different request.
        # A stale SyncToken needs a re-read by the caller, never the same request again.
        self._policy = RetryPolicy(
            Backoff(base=backoff_base, cap=backoff_cap),
            budgets=((ThrottledError, max_throttle_retries), (TransientError, max_retries)),
            never=(StaleObjectError,),
        )

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

        def attempt() -> requests.Response:
            nonlocal refreshed
            while True:
                try:
                    return self._request_once(kind, method, url, headers, params, data)
                except _Unauthorized as unauthorized:
                    if refreshed:
                        raise AuthError(
                            "QBO rejected a freshly refreshed access token (HTTP 401)",
                            credential=Credential.QBO_CONNECTION,
                        ) from None
                    refreshed = True
                    self.tokens.refresh(rejected=unauthorized.rejected)

        def slow_down(error: SyncdError) -> None:
            if isinstance(error, ThrottledError):
                # Stop bursting for everyone sharing this company's budget.
                self.limits.requests.drain()
                if kind is RequestKind.BATCH:
                    self.limits.batches.drain()

        try:
            return self._policy.run(attempt, sleep=self._sleep, rng=self._rng, before_sleep=slow_down)
        except _Deferred as deferred:
            raise deferred.error from None

    def _request_once(
        self,
        kind: RequestKind,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        params: Mapping[str, Any] | None,
        data: Any,
    ) -> requests.Response:
        """One request through the company's limits: the 200 response, or the syncd error it maps
        to raised (a 401 as ``_Unauthorized``, bulk work without budget as ``_Deferred``)."""
        bulk_work = _BULK.get()
        patience = BULK_PATIENCE if bulk_work else None
        try:
            with self.limits.slot(
                batch=kind is RequestKind.BATCH, bulk=bulk_work, patience=patience, money=MONEY_FIRST.get()
            ):
                token = self.tokens.access_token()
                sent_headers = {"Accept": "application/json", **(headers or {})}
                sent_headers["Authorization"] = f"Bearer {token}"
                try:
                    response = self.session.request(
                        method, url, headers=sent_headers, params=params, data=data, timeout=self.timeout
                    )
                except requests.RequestException as exc:
                    self.counter.add(kind)
                    raise TransientError(f"QBO unreachable: {type(exc).__name__}") from None
        except BudgetBusy as busy:
            # Bulk work gives its turn to money rather than keep a worker blocked: retried later.
            raise _Deferred(ThrottledError(str(busy), retry_after=busy.wait)) from None
        if response.status_code == 200:
            self.counter.add(kind)
            return response
        error = error_for_response(
            response.status_code,
            response.content,
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
        )
        throttled = response.status_code == 429 or isinstance(error, ThrottledError)
        self.counter.add(kind, throttled=throttled)
        if response.status_code == 401:
            raise _Unauthorized(token)
        raise error

    def close(self) -> None:
        self.session.close()
