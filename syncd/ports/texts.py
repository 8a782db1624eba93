"""The seam between the reminder run and the text-message channel (SMS consent, opt-out, Twilio)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session


class TextQueue(Protocol):
    """Queues one text to a customer in the caller's transaction; says whether one would go.

    ``queue_text`` records the text as an effect keyed by ``purpose`` and ``ref`` (so queuing the
    same text again queues nothing), unless the customer has no consented mobile number or has
    opted out; what it returns says which (callers may ignore it). It sends nothing itself and
    raises nothing for a customer who cannot be texted.
    """

    def queue_text(
        self,
        session: Session,
        *,
        company_id: str,
        customer_id: str,
        purpose: str,
        ref: str,
        body: str,
        now: datetime,
    ) -> object: ...

    def reaches(self, session: Session, *, company_id: str, customer_id: str) -> bool:
        """Whether a text to the customer would be queued now (a consented number, not opted out):
        a step that only texts goes by email to a customer it does not reach."""
        ...


class NoTexts:
    """The channel before SMS is set up: nothing is texted (``sms`` steps go by email instead)."""

    texting = False

    def queue_text(
        self,
        session: Session,
        *,
        company_id: str,
        customer_id: str,
        purpose: str,
        ref: str,
        body: str,
        now: datetime,
    ) -> object:
        return None

    def reaches(self, session: Session, *, company_id: str, customer_id: str) -> bool:
        return False
