"""A company's QuickBooks sign-in finished by the daemon (``/connect/quickbooks/callback``): the
redirect's code exchanged, the tokens stored, the company's pull woken."""

from __future__ import annotations

import structlog

from syncd.context import Context, token_store
from syncd.errors import PermanentError, SyncdError
from syncd.store import connects

log = structlog.get_logger(__name__)

NOT_OURS = (
    "this sign-in was not started by a waiting `syncd connect quickbooks`, or it expired: run the "
    "command again, or paste this page's address into `syncd connect quickbooks --paste`"
)


def finish_connect(ctx: Context, *, state: str, code: str, realm_id: str, error: str) -> str:
    """Daemon side: exchange the redirect's code and store the tokens; returns the realm now
    connected. Raises PermanentError with words for the person at the browser."""
    if not state or not connects.take(ctx.db, state, now=ctx.clock()):
        raise PermanentError(NOT_OURS)
    try:
        if error:
            raise PermanentError(f"QuickBooks refused the connection: {error}")
        if not code or not realm_id:
            raise PermanentError("the redirect carries no code or realmId")
        token_store(ctx).save(realm_id, ctx.qbo_app.exchange_code(code, realm_id))
    except SyncdError as exc:
        connects.finish(ctx.db, state, realm_id=None, error=str(exc))
        raise
    connects.finish(ctx.db, state, realm_id=realm_id, error=None)
    log.info("company_connected", realm=realm_id)
    # New tokens resume a company paused for its connection; its pull need not wait an interval.
    ctx.wake("pull", realm_id)
    return realm_id
