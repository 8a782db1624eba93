"""The scheduled cleanup of sign-in state: customers' old sign-in links, ended sessions and used
challenges; the staff console's ended sessions and failed sign-ins past the rate-limit window."""

from __future__ import annotations

import structlog

from syncd.context import Context
from syncd.store import accounts, staff_sessions

log = structlog.get_logger(__name__)


def run(ctx: Context) -> int:
    """Delete the sign-in rows past use (``store.accounts.purge``) in one transaction; how many.
    The rows it removes can sign no one in already (``accounts.live`` / ``accounts.peek`` refuse
    them), so when it runs is a matter of table size, not of safety."""
    with ctx.db.transaction() as session:
        gone = accounts.purge(session, ctx.clock()) + staff_sessions.purge(session, now=ctx.clock())
    if gone:
        log.info("account_cleanup", deleted=gone)
    return gone
