"""What the demo's mailbox pages read from a mail sink (``connectors.email.sink`` is one)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol


class SeenMessage(Protocol):
    """One message as the sink received it: envelope, main headers and both bodies."""

    @property
    def id(self) -> str: ...
    @property
    def mail_from(self) -> str: ...
    @property
    def rcpt_tos(self) -> tuple[str, ...]: ...
    @property
    def from_header(self) -> str: ...
    @property
    def to(self) -> str: ...
    @property
    def subject(self) -> str: ...
    @property
    def date(self) -> datetime | None: ...
    @property
    def message_id(self) -> str: ...
    @property
    def reply_to(self) -> str | None: ...
    @property
    def text(self) -> str | None: ...
    @property
    def html(self) -> str | None: ...
    @property
    def received_at(self) -> datetime: ...
    @property
    def tls(self) -> bool: ...


class Mailbox(Protocol):
    """The messages a sink holds, newest first; thread-safe."""

    def all(self) -> Sequence[SeenMessage]: ...

    def get(self, message_id: str) -> SeenMessage | None:
        """One message by the sink's own id, or None."""
