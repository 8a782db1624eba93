"""The simulator's messages (in Twilio's JSON shape), the numbers that said STOP, and the queue
that spaces each sender's messages ``1 / mps`` seconds apart."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

API_VERSION = "2010-04-01"
STOP = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"})
START = frozenset({"START", "YES", "UNSTOP", "OPTIN"})


def rfc2822(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC))


def new_sid(prefix: str = "SM") -> str:
    return prefix + secrets.token_hex(16)


@dataclass
class Message:
    """One message; ``callback`` is the StatusCallback (not part of Twilio's JSON), ``due`` when
    a queued one is sent (monotonic seconds)."""

    sid: str
    account_sid: str
    to: str
    from_: str
    body: str
    direction: str
    status: str
    created: datetime
    messaging_service_sid: str | None = None
    callback: str | None = None
    due: float = 0.0
    sent: datetime | None = None
    updated: datetime = field(default_factory=lambda: datetime.now(UTC))
    error_code: int | None = None

    def json(self) -> dict[str, Any]:
        """The Message resource as Twilio answers it."""
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{self.sid}"
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": self.body,
            "date_created": rfc2822(self.created),
            "date_sent": rfc2822(self.sent) if self.sent else None,
            "date_updated": rfc2822(self.updated),
            "direction": self.direction,
            "error_code": self.error_code,
            "error_message": None,
            "from": self.from_,
            "messaging_service_sid": self.messaging_service_sid,
            "num_media": "0",
            "num_segments": "1" if len(self.body) <= 160 else str(-(-len(self.body) // 153)),
            "price": None,
            "price_unit": "USD",
            "sid": self.sid,
            "status": self.status,
            "subresource_uris": {"media": f"{uri}/Media.json"},
            "to": self.to,
            "uri": f"{uri}.json",
        }


class State:
    """Everything the simulator holds, behind one lock."""

    def __init__(self, account_sid: str, mps: float) -> None:
        self.account_sid = account_sid
        self.lock = threading.RLock()
        self.messages: list[Message] = []
        self.opted_out: set[tuple[str, str]] = set()  # (customer's number, business number)
        self.interval = 1.0 / mps if mps > 0 else 0.0
        self._next_slot: dict[str, float] = {}
        self._last_sent: dict[str, float] = {}
        self.throttled = 0

    def queue(self, to: str, sender: str, body: str, callback: str | None, service: str | None) -> Message:
        """An outbound message, queued for its sender's next free slot."""
        with self.lock:
            now = time.monotonic()
            due = max(now, self._next_slot.get(sender, now))
            self._next_slot[sender] = due + self.interval
            message = Message(
                sid=new_sid(),
                account_sid=self.account_sid,
                to=to,
                from_=sender,
                body=body,
                direction="outbound-api",
                status="queued",
                created=datetime.now(UTC),
                messaging_service_sid=service,
                callback=callback,
                due=due,
            )
            self.messages.append(message)
            return message

    def received(self, sender: str, to: str, body: str) -> Message:
        """A message a phone sent to a business number; STOP and START change what may be sent."""
        with self.lock:
            message = self._settled(to=to, sender=sender, body=body, direction="inbound", status="received")
            word = body.strip().upper()
            if word in STOP:
                self.opted_out.add((sender, to))
            elif word in START:
                self.opted_out.discard((sender, to))
            return message

    def replied(self, to: str, sender: str, body: str) -> Message:
        """A TwiML ``<Message>`` answer to an incoming one: sent at once."""
        with self.lock:
            return self._settled(
                to=to, sender=sender, body=body, direction="outbound-reply", status="delivered"
            )

    def _settled(self, *, to: str, sender: str, body: str, direction: str, status: str) -> Message:
        """A message that is already where it goes (no queue, no callback); the lock is held."""
        now = datetime.now(UTC)
        message = Message(
            sid=new_sid(),
            account_sid=self.account_sid,
            to=to,
            from_=sender,
            body=body,
            direction=direction,
            status=status,
            created=now,
            sent=now,
        )
        self.messages.append(message)
        return message

    def find(self, sid: str) -> Message | None:
        with self.lock:
            return next((m for m in self.messages if m.sid == sid), None)

    def due(self) -> list[Message]:
        """Queued messages whose turn has come, marked sent: at most one per sender, and only
        ``interval`` after that sender's last send (a late tick never sends two at once)."""
        now = time.monotonic()
        ready: list[Message] = []
        with self.lock:
            for message in self.messages:
                if message.status != "queued" or message.due > now:
                    continue
                last = self._last_sent.get(message.from_)
                if last is not None and now - last < self.interval:
                    continue
                self._last_sent[message.from_] = now
                message.status = "sent"
                message.sent = message.updated = datetime.now(UTC)
                ready.append(message)
            return ready

    def numbers(self) -> list[str]:
        """The customers' phones: every number texted or texting."""
        with self.lock:
            found = {m.to if m.direction != "inbound" else m.from_ for m in self.messages}
        return sorted(found)

    def thread(self, number: str) -> list[Message]:
        with self.lock:
            return [m for m in self.messages if number in (m.to, m.from_)]
