"""The typed contract for sending one email."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

# Headers the mailer writes itself from the message's fields; ``headers`` may not name them.
RESERVED_HEADERS = frozenset(
    {"from", "to", "subject", "date", "message-id", "reply-to", "mime-version", "content-type"}
)


@dataclass(frozen=True, slots=True)
class EmailMessage:
    """A rendered message. ``message_id`` is derived from the effect key, so a resend after a
    crash carries the same Message-ID and receivers can drop the duplicate."""

    to: str
    subject: str
    text: str
    html: str
    message_id: str
    from_addr: str
    reply_to: str | None = None
    headers: tuple[tuple[str, str], ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    """``security`` is ``"starttls"``, ``"tls"`` (implicit) or ``"none"`` (local sinks only)."""

    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)  # never in logs or tracebacks
    security: str = "starttls"
    timeout_seconds: float = 20.0
    from_addr: str = "billing@example.com"


class Mailer(Protocol):
    """Sends one message over SMTP. Raises TransientError (4xx replies, network) or
    PermanentError (5xx replies, a refused or invalid recipient, a header carrying a line break or
    naming a RESERVED_HEADERS one — nothing is sent then); never logs credentials."""

    def send(self, message: EmailMessage) -> None: ...
