"""The Twilio connector: sends texts through the official SDK, finds a text already sent after a
crash, and checks and reads Twilio's webhooks. Implements ``syncd.ports.sms.Sms``.

The SDK's ``Client`` is used as is; only the API domain's base URL is set, to Twilio's own
(``https://api.twilio.com``) in production and to ``syncd simulate twilio`` in the demo and tests.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from connectors.sms import errors, mapping, webhooks
from syncd.ports.sms import InboundText, SentText, StatusReport

TIMEOUT = 20.0
# How far back of the first attempt a retry looks for the text: Twilio dates to the second,
# and the two clocks may differ a little.
CLOCK_SLACK = timedelta(minutes=5)
LOOKBACK_LIMIT = 100


class _RememberingHttpClient(TwilioHttpClient):  # type: ignore[misc]  # the SDK ships no types
    """The SDK's HTTP client, keeping each thread's last response headers (for Retry-After: the
    SDK's exception drops them)."""

    def __init__(self, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self.seen = threading.local()

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        self.seen.headers = {}
        response = super().request(method, url, *args, **kwargs)
        self.seen.headers = {name.lower(): value for name, value in (response.headers or {}).items()}
        return response


class TwilioConnector:
    """One Twilio account. ``api_base`` is Twilio's API address (the simulator's in tests)."""

    def __init__(
        self, account_sid: str, auth_token: str, *, api_base: str = "https://api.twilio.com"
    ) -> None:
        self._token = auth_token
        self._http = _RememberingHttpClient(TIMEOUT)
        self._client = Client(account_sid, auth_token, http_client=self._http)
        self._client.api.base_url = api_base.rstrip("/")
        self._messages = self._client.api.v2010.accounts(account_sid).messages

    def _headers(self) -> Mapping[str, str]:
        return getattr(self._http.seen, "headers", {})

    def send(
        self,
        *,
        to: str,
        from_: str,
        body: str,
        status_callback: str,
        key: str,
        since: datetime | None = None,
    ) -> SentText:
        try:
            if since is not None:
                found = self._already_sent(to, from_, body, since)
                if found is not None:
                    return found
            sender: dict[str, Any] = (
                {"messaging_service_sid": from_} if from_.startswith("MG") else {"from_": from_}
            )
            callback = f"{status_callback}{'&' if '?' in status_callback else '?'}{urlencode({'key': key})}"
            created = self._messages.create(to=to, body=body, status_callback=callback, **sender)
        except Exception as exc:
            raise errors.translate(exc, self._headers()) from exc
        return mapping.to_sent(created)

    def _already_sent(self, to: str, from_: str, body: str, since: datetime) -> SentText | None:
        """The message To ``to`` with this body created since ``since`` (a retry's lookup). Twilio
        keeps no idempotency key and does not return a message's StatusCallback, so the body (fixed
        when the text was queued) and the sender are what identify it."""
        sender: dict[str, Any] = {} if from_.startswith("MG") else {"from_": from_}
        listed = self._messages.list(to=to, limit=LOOKBACK_LIMIT, **sender)
        for message in listed:
            created = message.date_created
            if message.body == body and (created is None or created >= since - CLOCK_SLACK):
                return mapping.to_sent(message)
        return None

    def verify(self, url: str, params: Mapping[str, str], signature: str | None) -> None:
        webhooks.verify(self._token, url, params, signature)

    def status_of(self, params: Mapping[str, str]) -> StatusReport:
        return mapping.status_of(params)

    def inbound_of(self, params: Mapping[str, str]) -> InboundText:
        return mapping.inbound_of(params)

    def reply(self, body: str | None) -> str:
        return mapping.reply(body)
