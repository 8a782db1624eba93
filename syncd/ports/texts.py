"""The seam between the reminder run and the text-message channel (SMS consent, opt-out, Twilio)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session


@dataclass(frozen=True, slots=True)
class Text:
    """One text to queue: to a customer, for ``purpose`` and ``ref`` (the pair queues it once)."""

    customer_id: str
    purpose: str
    ref: str
    body: str


class TextQueue(Protocol):
    """Queues texts to customers in the caller's transaction; says which customers one would reach.

    Both take many customers at once: a reminder run texts thousands, and one read or insert per
    customer is what made it slow. ``queue_texts`` records each text as an effect keyed by its
    ``purpose`` and ``ref`` (so queuing the same text again queues nothing), unless its customer
    has no consented mobile number or has opted out; what it returns says which (callers may
    ignore it). It sends nothing itself and raises nothing for a customer who cannot be texted.
    """

    def queue_texts(
        self, session: Session, *, company_id: str, texts: Sequence[Text], now: datetime
    ) -> object: ...

    def reaching(self, session: Session, *, company_id: str, customer_ids: Collection[str]) -> set[str]:
        """The customers a text would be queued for now (a consented number, not opted out): a
        step that only texts goes by email to a customer it does not reach."""
        ...


class NoTexts:
    """The channel before SMS is set up: nothing is texted (``sms`` steps go by email instead)."""

    texting = False

    def queue_texts(
        self, session: Session, *, company_id: str, texts: Sequence[Text], now: datetime
    ) -> object:
        return None

    def reaching(self, session: Session, *, company_id: str, customer_ids: Collection[str]) -> set[str]:
        return set()
