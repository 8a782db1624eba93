"""The typed contract for texting through an SMS provider (Twilio), and what its webhooks carry."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from syncd.errors import PermanentError


class TextStatus(enum.StrEnum):
    """A text's delivery status as the provider reports it (Twilio's Message ``status``); DROPPED
    is syncd's own: the text was queued but the number opted out (or lost consent) before it went."""

    QUEUED = "queued"
    ACCEPTED = "accepted"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    CANCELED = "canceled"
    PARTIALLY_DELIVERED = "partially_delivered"
    READ = "read"
    RECEIVED = "received"
    DROPPED = "dropped"

    @property
    def rank(self) -> int:
        """How far along the text is: a later report never moves a status back (callbacks may
        arrive out of order, and after the send's own answer)."""
        return _RANKS.get(self, 3)

    @classmethod
    def read(cls, value: str) -> TextStatus:
        """The member ``value`` names; PermanentError for a status this release does not know."""
        try:
            return cls(value.lower())
        except ValueError:
            raise PermanentError(f"unknown text status {value!r}") from None


_RANKS = {
    TextStatus.QUEUED: 0,
    TextStatus.ACCEPTED: 0,
    TextStatus.SCHEDULED: 0,
    TextStatus.SENDING: 1,
    TextStatus.SENT: 2,
}


@dataclass(frozen=True, slots=True)
class SentText:
    """A text the provider accepted: its id (Twilio's ``SM…`` sid) and status at that moment."""

    sid: str
    status: TextStatus


@dataclass(frozen=True, slots=True)
class StatusReport:
    """A signed status callback: which text, its new status, the provider's error code if any."""

    sid: str
    status: TextStatus
    account: str
    error_code: int | None = None


@dataclass(frozen=True, slots=True)
class InboundText:
    """A text a customer sent to one of the business's numbers."""

    sid: str
    sender: str  # E.164, the customer's phone
    to: str  # E.164, the business's number
    body: str
    account: str


class OptedOutError(PermanentError):
    """The provider refuses to text this recipient: they replied STOP (Twilio 21610). The number
    is to be marked opted out; nothing was sent."""


class InvalidNumberError(PermanentError):
    """The provider says the recipient is not a valid phone number (Twilio 21211); nothing was sent."""


class Sms(Protocol):
    """One provider account (Twilio account SID and auth token). Over the simulator and production
    the code path is the same; only the API base URL differs.

    Idempotency: Twilio has no idempotency key. ``send`` with ``since`` set (a retry: the effect
    may have reached Twilio before a crash) first lists the messages sent To ``to`` since that
    time and returns the one From the same sender with the same body instead of sending again; the
    body of a text is fixed when it is queued, so that match is the text's own. Without ``since``
    (a first attempt) it sends at once.
    """

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
        """Send ``body`` to ``to`` (E.164) from ``from_`` (an E.164 number, or a Messaging Service
        ``MG…`` sid); Twilio posts status changes to ``status_callback`` with ``key`` added as its
        ``key`` query parameter. Raises OptedOutError (21610), InvalidNumberError (21211), other
        PermanentError for refused content or settings, TransientError (5xx, network, 429/20429
        with ``retry_after`` from Retry-After) and AuthError (a refused account SID or token)."""
        ...

    def verify(self, url: str, params: Mapping[str, str], signature: str | None) -> None:
        """Check ``X-Twilio-Signature`` of a webhook posted to ``url`` (the full public URL,
        query included) with form ``params``; raises SignatureError when it is missing or wrong."""
        ...

    def status_of(self, params: Mapping[str, str]) -> StatusReport:
        """The status callback's fields; PermanentError when they are not one."""
        ...

    def inbound_of(self, params: Mapping[str, str]) -> InboundText:
        """The inbound-message webhook's fields; PermanentError when they are not one."""
        ...

    def reply(self, body: str | None) -> str:
        """The answer to an inbound-message webhook: TwiML replying ``body`` (None: no reply)."""
        ...
