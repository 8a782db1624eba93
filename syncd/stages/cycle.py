"""One company's scheduled cycle: pull, then publish, then notify (invoices, then card expiry),
then autopay (notices, and the day's charges from the charge hour)."""

from __future__ import annotations

from syncd.context import Context
from syncd.stages import autopay
from syncd.stages.card_expiry import expiry_notices
from syncd.stages.notify import notify
from syncd.stages.publish import publish
from syncd.stages.pull import pull


def run_cycle(ctx: Context, realm_id: str) -> None:
    pull(ctx, realm_id)
    publish(ctx, realm_id)
    notify(ctx, realm_id)
    expiry_notices(ctx, realm_id)
    autopay.run(ctx, realm_id)
