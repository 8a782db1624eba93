"""What the card-on-file link's pages need from the stages: the view and the backend behind it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from syncd.ports.portal import Branding


@dataclass(frozen=True, slots=True)
class CardRequestView:
    """What the link's page shows; ``state`` is open, saved or expired. Strings may come from QBO."""

    branding: Branding
    customer_name: str
    reason: str | None
    state: str
    consent_text: str


class CardRequestBackend(Protocol):
    def view(self, link_token: str) -> CardRequestView | None:
        """None for an unknown or malformed token (one 404 for all)."""

    def start(self, link_token: str, *, ip: str | None, user_agent: str | None) -> str:
        """Record consent; the setup Checkout's URL. PermanentError / TransientError for the payer."""
