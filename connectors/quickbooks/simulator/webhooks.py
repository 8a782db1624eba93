"""Webhook delivery: coalesced, signed (``intuit-signature``) POSTs from a background thread, with retries."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import queue
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC

import requests

from connectors.quickbooks.simulator.store import Change

COALESCE_SECONDS = 0.2
RETRY_DELAYS = (0.2, 0.5, 1.0)
_CLOUD_VERBS = {"Create": "created", "Update": "updated", "Delete": "deleted", "Void": "voided"}


def sign(body: bytes, verifier_token: str) -> str:
    return base64.b64encode(hmac.new(verifier_token.encode(), body, hashlib.sha256).digest()).decode()


def _stamp(change: Change) -> str:
    return (
        change.when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{change.when.microsecond // 1000:03d}Z"
    )


def legacy_body(changes: list[Change]) -> bytes:
    by_realm: dict[str, list[Change]] = {}
    for change in changes:
        by_realm.setdefault(change.realm_id, []).append(change)
    payload = {
        "eventNotifications": [
            {
                "realmId": realm_id,
                "dataChangeEvent": {
                    "entities": [
                        {
                            "name": c.name,
                            "id": c.entity_id,
                            "operation": c.operation,
                            "lastUpdated": _stamp(c),
                        }
                        for c in items
                    ]
                },
            }
            for realm_id, items in by_realm.items()
        ]
    }
    return json.dumps(payload, separators=(",", ":")).encode()


def cloudevents_body(changes: list[Change]) -> bytes:
    payload = [
        {
            "specversion": "1.0",
            "id": str(uuid.uuid4()),
            "source": "intuit.simulator",
            "type": f"qbo.{c.name.lower()}.{_CLOUD_VERBS.get(c.operation, c.operation.lower())}.v1",
            "time": _stamp(c),
            "intuitentityid": c.entity_id,
            "intuitaccountid": c.realm_id,
            "data": {},
        }
        for c in changes
    ]
    return json.dumps(payload, separators=(",", ":")).encode()


class WebhookSender:
    """Collects changes for ~0.2 s, then POSTs one signed notification; never blocks the API."""

    def __init__(self, url: Callable[[], str | None], verifier_token: str, fmt: str = "legacy") -> None:
        if fmt not in ("legacy", "cloudevents"):
            raise ValueError(f"unknown webhook format {fmt!r}")
        self._url = url
        self._token = verifier_token
        self.format = fmt
        self._queue: queue.Queue[Change | None] = queue.Queue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.delivered = 0
        self.failed = 0

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="qbo-sim-webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def notify(self, change: Change) -> None:
        if self._url() is not None:
            self._queue.put(change)

    def _run(self) -> None:
        while not self._stop.is_set():
            first = self._queue.get()
            if first is None:
                continue
            batch = [first]
            deadline = time.monotonic() + COALESCE_SECONDS
            while (left := deadline - time.monotonic()) > 0:
                try:
                    item = self._queue.get(timeout=left)
                except queue.Empty:
                    break
                if item is None:
                    break
                batch.append(item)
            self._deliver(batch)

    def _deliver(self, batch: list[Change]) -> None:
        url = self._url()
        if url is None:
            return
        body = cloudevents_body(batch) if self.format == "cloudevents" else legacy_body(batch)
        headers = {"content-type": "application/json", "intuit-signature": sign(body, self._token)}
        for delay in (0.0, *RETRY_DELAYS):
            if delay and self._stop.wait(delay):
                return
            try:
                response = requests.post(url, data=body, headers=headers, timeout=3)
            except requests.RequestException:
                continue
            if response.status_code < 300:
                self.delivered += 1
                return
        self.failed += 1
