"""One company's scheduled cycle: pull, then publish, then notify (invoices, reminder steps, card
expiry), then the escalation ladder and the collectors' digests."""

from __future__ import annotations

from syncd.context import Context
from syncd.ports.texts import TextQueue
from syncd.stages.card_expiry import expiry_notices
from syncd.stages.digests import queue_digests
from syncd.stages.ladder import escalate
from syncd.stages.notify import notify
from syncd.stages.publish import publish
from syncd.stages.pull import pull
from syncd.stages.reminders import NO_TEXTS, remind


def run_cycle(ctx: Context, realm_id: str, texts: TextQueue = NO_TEXTS) -> None:
    pull(ctx, realm_id)
    publish(ctx, realm_id)
    notify(ctx, realm_id)
    remind(ctx, realm_id, texts)
    expiry_notices(ctx, realm_id)
    escalate(ctx, realm_id)
    queue_digests(ctx, realm_id)
