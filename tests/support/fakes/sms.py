"""An in-memory texting account implementing ``syncd.ports.sms.Sms``, held to the same contract
tests as the Twilio connector (over the simulator)."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from connectors.sms.simulator.signing import signature
from syncd.errors import PermanentError, SignatureError, ThrottledError
from syncd.ports.sms import InboundText, InvalidNumberError, OptedOutError, SentText, StatusReport, TextStatus


@dataclass(frozen=True, slots=True)
class FakeText:
    sid: str
    to: str
    sender: str
    body: str
    callback: str
    created: datetime


class FakeSms:
    """Keeps what it sent. ``invalid`` numbers answer 21211, ``opted_out`` ones 21610, and
    ``throttled`` calls 429 (Retry-After 1), as the simulator does."""

    def __init__(self, auth_token: str = "fake-token") -> None:  # noqa: S107 (a test token)
        self.auth_token = auth_token
        self.sent: list[FakeText] = []
        self.invalid: set[str] = set()
        self.opted_out: set[str] = set()
        self.throttled = 0

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
        if self.throttled:
            self.throttled -= 1
            raise ThrottledError("Twilio 429 20429: Too Many Requests", retry_after=1.0)
        if since is not None:
            for text in reversed(self.sent):
                if (text.to, text.sender, text.body) == (to, from_, body) and text.created >= since:
                    return SentText(text.sid, TextStatus.QUEUED)
        if to in self.invalid:
            raise InvalidNumberError(f"Twilio 400 21211: Invalid 'To' Phone Number: {to}")
        if to in self.opted_out:
            raise OptedOutError("Twilio 400 21610: Attempt to send to unsubscribed recipient")
        sid = "SM" + secrets.token_hex(16)
        callback = f"{status_callback}?key={key}"
        self.sent.append(FakeText(sid, to, from_, body, callback, datetime.now(UTC)))
        return SentText(sid, TextStatus.QUEUED)

    def verify(self, url: str, params: Mapping[str, str], signature_: str | None) -> None:
        if not signature_:
            raise SignatureError("X-Twilio-Signature is missing")
        if signature_ != signature(self.auth_token, url, params):
            raise SignatureError("X-Twilio-Signature does not match")

    def status_of(self, params: Mapping[str, str]) -> StatusReport:
        try:
            code = params.get("ErrorCode") or ""
            return StatusReport(
                params["MessageSid"],
                TextStatus.read(params["MessageStatus"]),
                params["AccountSid"],
                int(code) if code.isdigit() else None,
            )
        except KeyError as missing:
            raise PermanentError(f"status callback without {missing}") from None

    def inbound_of(self, params: Mapping[str, str]) -> InboundText:
        try:
            return InboundText(
                params["MessageSid"],
                params["From"],
                params["To"],
                params.get("Body", ""),
                params["AccountSid"],
            )
        except KeyError as missing:
            raise PermanentError(f"incoming message without {missing}") from None

    def reply(self, body: str | None) -> str:
        inner = f"<Message>{body}</Message>" if body else ""
        return f'<?xml version="1.0" encoding="UTF-8"?><Response>{inner}</Response>'
