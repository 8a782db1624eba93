"""Sending in turn: a thread hands each queued message over when its sender's slot comes, then
posts its status callbacks (``sent``, then ``delivered``), signed as Twilio signs them."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import UTC, datetime

import requests

from connectors.sms.simulator.signing import signature
from connectors.sms.simulator.state import API_VERSION, Message, State

TICK = 0.02


def post_signed(
    url: str, params: Mapping[str, str], auth_token: str, timeout: float = 10.0
) -> tuple[int, str]:
    """POST ``params`` form-encoded to ``url`` with X-Twilio-Signature; (status, body); (0, "")
    when it could not be reached."""
    headers = {"X-Twilio-Signature": signature(auth_token, url, params), "User-Agent": "TwilioProxy/1.1"}
    try:
        response = requests.post(url, data=dict(params), headers=headers, timeout=timeout)
    except requests.RequestException:
        return 0, ""
    return response.status_code, response.text


def status_params(message: Message) -> dict[str, str]:
    """The form of a status callback, as Twilio posts it."""
    params = {
        "AccountSid": message.account_sid,
        "ApiVersion": API_VERSION,
        "From": message.from_,
        "MessageSid": message.sid,
        "MessageStatus": message.status,
        "SmsSid": message.sid,
        "SmsStatus": message.status,
        "To": message.to,
    }
    if message.messaging_service_sid:
        params["MessagingServiceSid"] = message.messaging_service_sid
    if message.error_code is not None:
        params["ErrorCode"] = str(message.error_code)
    return params


class Dispatcher:
    """Runs between :meth:`start` and :meth:`stop`; ``undeliverable`` numbers end ``undelivered``
    with error 30003 (unreachable handset) instead of ``delivered``."""

    def __init__(self, state: State, auth_token: str) -> None:
        self.state = state
        self.auth_token = auth_token
        self.undeliverable: set[str] = set()
        self.callbacks: list[tuple[str, dict[str, str], int]] = []  # (url, form, status answered)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="twilio-sim-dispatch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.wait(TICK):
            for message in self.state.due():
                self._callback(message)
                with self.state.lock:
                    if message.to in self.undeliverable:
                        message.status, message.error_code = "undelivered", 30003
                    else:
                        message.status = "delivered"
                    message.updated = datetime.now(UTC)
                self._callback(message)

    def _callback(self, message: Message) -> None:
        if not message.callback:
            return
        params = status_params(message)
        status, _ = post_signed(message.callback, params, self.auth_token)
        with self.state.lock:
            self.callbacks.append((message.callback, params, status))
