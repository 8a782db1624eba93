"""The scheduled cleanup of customer sign-in state: old sign-in links, ended sessions, used challenges."""

from __future__ import annotations

import structlog

from syncd.context import Context
from syncd.store import accounts

log = structlog.get_logger(__name__)


def run(ctx: Context) -> int:
    """Delete the sign-in rows past use (``store.accounts.purge``) in one transaction; how many.
    The rows it removes can sign no one in already (``accounts.live`` / ``accounts.peek`` refuse
    them), so when it runs is a matter of table size, not of safety."""
    with ctx.db.transaction() as session:
        gone = accounts.purge(session, ctx.clock())
    if gone:
        log.info("account_cleanup", deleted=gone)
    return gone
