"""Webhook delivery: each event POSTed, from a background thread, to every enabled endpoint whose
``enabled_events`` take it, signed as Stripe signs with that endpoint's own secret
(``Stripe-Signature: t=…,v1=HMAC-SHA256(secret, "t.body")``), retried with doubling backoff while
the endpoint is down or answers non-2xx; test switches to duplicate, reorder, pause.

``t`` is wall-clock time at each attempt (not simulator time), because receivers check it
against their own clock. Events raised by one API request or one clock step are handed over as
one batch; with ``reorder`` each batch is delivered newest first.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import requests

JsonDict = dict[str, Any]


def sign(payload: bytes, secret: str, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


@dataclass(frozen=True)
class Endpoint:
    url: str
    secret: str = field(repr=False)


@dataclass(frozen=True)
class Attempt:
    """One delivery attempt, for assertions: ``status`` is None when the endpoint was unreachable."""

    url: str
    event_id: str
    event_type: str
    attempt: int
    status: int | None


@dataclass
class _Delivery:
    endpoint: Endpoint
    event_id: str
    event_type: str
    body: bytes
    attempt: int = 1


class WebhookDispatcher:
    def __init__(
        self, *, base_delay: float = 0.05, max_delay: float = 1.0, max_attempts: int = 6, workers: int = 1
    ) -> None:
        self.duplicate = False
        self.reorder = False
        self.paused = False
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.max_attempts = max_attempts
        self.timeout = 5.0
        self.attempts: list[Attempt] = []
        self._staged: list[_Delivery] = []
        self._queue: list[tuple[float, int, _Delivery]] = []
        self._seq = itertools.count()
        self._in_flight = 0
        self._cond = threading.Condition()
        self._stopping = False
        self._workers = max(1, workers)
        self._threads: list[threading.Thread] = []

    def publish(self, event: JsonDict, endpoints: list[Endpoint]) -> None:
        """Stage an event for the endpoints subscribed to it now; it goes out at the next :meth:`commit`."""
        with self._cond:
            event["pending_webhooks"] = len(endpoints)
            body = json.dumps(event, indent=2).encode()
            for endpoint in endpoints:
                copies = 2 if self.duplicate else 1
                for _ in range(copies):
                    self._staged.append(_Delivery(endpoint, str(event["id"]), str(event["type"]), body))

    def commit(self) -> None:
        with self._cond:
            batch = list(reversed(self._staged)) if self.reorder else self._staged
            self._staged = []
            now = time.monotonic()
            for delivery in batch:
                heapq.heappush(self._queue, (now, next(self._seq), delivery))
            self._cond.notify_all()

    def start(self) -> None:
        """Start the delivery threads; with one (the default) deliveries go out in order."""
        self._stopping = False
        self._threads = [
            threading.Thread(target=self._run, name=f"stripe-sim-webhooks-{i}", daemon=True)
            for i in range(self._workers)
        ]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(self.timeout + 1)
        self._threads = []

    def flush(self, timeout: float = 5) -> None:
        """Wait until every queued delivery was attempted to the end (delivered, or retries
        exhausted). While paused, only waits for attempts already in flight."""
        self.commit()
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._in_flight or (self._queue and not self.paused):
                self._cond.notify_all()
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"{len(self._queue)} webhook deliveries still pending")
                self._cond.wait(min(remaining, 0.05))

    def _run(self) -> None:
        with requests.Session() as session:
            self._deliver_until_stopped(session)

    def _deliver_until_stopped(self, session: requests.Session) -> None:
        while True:
            with self._cond:
                delivery = self._next_due()
                if delivery is None:
                    if self._stopping:
                        return
                    continue
                self._in_flight += 1
            status = self._post(session, delivery)
            with self._cond:
                self._in_flight -= 1
                self.attempts.append(
                    Attempt(
                        delivery.endpoint.url,
                        delivery.event_id,
                        delivery.event_type,
                        delivery.attempt,
                        status,
                    )
                )
                ok = status is not None and 200 <= status < 300
                if not ok and delivery.attempt < self.max_attempts and not self._stopping:
                    delay = min(self.base_delay * 2 ** (delivery.attempt - 1), self.max_delay)
                    delivery.attempt += 1
                    heapq.heappush(self._queue, (time.monotonic() + delay, next(self._seq), delivery))
                self._cond.notify_all()

    def _next_due(self) -> _Delivery | None:
        """Called with the condition held: pop a due delivery, or wait a little and return None."""
        if self._stopping:
            return None
        if self.paused or not self._queue:
            self._cond.wait(0.05)
            return None
        due, _, delivery = self._queue[0]
        wait = due - time.monotonic()
        if wait > 0:
            self._cond.wait(min(wait, 0.05))
            return None
        heapq.heappop(self._queue)
        return delivery

    def _post(self, session: requests.Session, delivery: _Delivery) -> int | None:
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            "Stripe-Signature": sign(delivery.body, delivery.endpoint.secret, int(time.time())),
        }
        try:
            response = session.post(
                delivery.endpoint.url, data=delivery.body, headers=headers, timeout=self.timeout
            )
        except requests.RequestException:
            return None
        response.close()
        return response.status_code
