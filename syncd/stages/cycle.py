"""One company's scheduled cycle: pull, then publish, then notify (invoices, reminder steps, card
expiry, recurring services), then the escalation ladder and the collectors' digests, then
installment plans, card authorisations (captured by the next invoice, or released unused), then
autopay (notices, and the day's charges from the charge hour)."""

from __future__ import annotations

from syncd.context import Context
from syncd.ports.texts import TextQueue
from syncd.stages import authorizations, autopay, plans
from syncd.stages.card_expiry import expiry_notices
from syncd.stages.digests import queue_digests
from syncd.stages.ladder import escalate
from syncd.stages.notify import notify
from syncd.stages.publish import publish
from syncd.stages.pull import pull
from syncd.stages.recurring import recurring
from syncd.stages.reminders import NO_TEXTS, remind
from syncd.stages.texts import text_channel


def run_cycle(ctx: Context, realm_id: str, texts: TextQueue | None = None) -> None:
    """``texts``: the reminder steps' text channel (default: the company's own, when it texts)."""
    pull(ctx, realm_id)
    publish(ctx, realm_id)
    notify(ctx, realm_id)
    remind(ctx, realm_id, texts or text_channel(ctx, realm_id) or NO_TEXTS)
    expiry_notices(ctx, realm_id)
    recurring(ctx, realm_id)
    escalate(ctx, realm_id)
    queue_digests(ctx, realm_id)
    plans.run(ctx, realm_id)
    # Before autopay: a hold captured by an invoice leaves autopay only the rest.
    authorizations.run(ctx, realm_id)
    autopay.run(ctx, realm_id)
