"""One company's scheduled cycle: pull, then publish, then notify (invoices, card expiry, then
recurring services)."""

from __future__ import annotations

from syncd.context import Context
from syncd.stages.card_expiry import expiry_notices
from syncd.stages.notify import notify
from syncd.stages.publish import publish
from syncd.stages.pull import pull
from syncd.stages.recurring import recurring


def run_cycle(ctx: Context, realm_id: str) -> None:
    pull(ctx, realm_id)
    publish(ctx, realm_id)
    notify(ctx, realm_id)
    expiry_notices(ctx, realm_id)
    recurring(ctx, realm_id)
