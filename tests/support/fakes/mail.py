"""An in-memory mailer implementing ``syncd.ports.email.Mailer``, held to the same contract tests
as the SMTP connector."""

from __future__ import annotations

from syncd.errors import PermanentError, TransientError
from syncd.ports.address import recipient
from syncd.ports.email import RESERVED_HEADERS, EmailMessage, Mailer


class FakeMailer:
    """Keeps what it sent. A refused recipient is permanent, ``down`` is a transient outage (the
    SMTP connector's 5xx and 4xx/network cases)."""

    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []
        self.refused: set[str] = set()
        self.down = False

    def send(self, message: EmailMessage) -> None:
        to = recipient(message.to)
        if self.down:
            raise TransientError("mail server unavailable")
        if to in self.refused:
            raise PermanentError(f"550 recipient {to!r} refused")
        values = [message.subject, message.from_addr, message.reply_to or "", message.message_id]
        values += [v for _, v in message.headers]
        if any(c in v for v in values for c in "\r\n"):
            raise PermanentError("a header value carries a line break")
        named = [n for n, _ in message.headers if n.lower() in RESERVED_HEADERS]
        if named:
            raise PermanentError(f"header {named[0]!r} is set by the mailer")
        self.sent.append(message)


def _is_mailer(fake: FakeMailer) -> Mailer:
    return fake  # mypy proves the fake implements the Protocol
