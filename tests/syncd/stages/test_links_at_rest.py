"""No payable link token is kept in clear in the database: not in the invoice mirror (QBO's memo
carries the link syncd wrote back), not in effect payloads; only the links' digests are stored."""

from __future__ import annotations

from pathlib import Path

from loop_harness import Loop, running_loop
from sqlalchemy import MetaData, select

from syncd.stages.collect import PortalService
from syncd.stages.cycle import run_cycle
from syncd.stages.events import ingest
from syncd.store.models import InvoiceRow, PaymentRow, PortalLink


def _everything_stored(loop: Loop) -> str:
    """Every value of every row of every table, as one text."""
    meta = MetaData()
    meta.reflect(bind=loop.ctx.db.engine)
    parts: list[str] = []
    with loop.ctx.db.engine.connect() as conn:
        for table in meta.sorted_tables:
            for row in conn.execute(select(table)):
                parts.extend(f"{table.name}: {value!r}" for value in row)
    return "\n".join(parts)


def test_no_token_in_clear_after_writeback_pull_and_payment(tmp_path: Path) -> None:
    with running_loop(tmp_path) as loop:
        ctx = loop.ctx
        run_cycle(ctx, loop.realm)
        loop.drain()  # writes the links back into QBO's memos and sends the emails
        run_cycle(ctx, loop.realm)  # pulls the invoices again, memos with the links included
        with ctx.db.transaction() as s:
            invoices = list(s.scalars(select(InvoiceRow).where(InvoiceRow.status == "open")))
            linked = {link.invoice_id for link in s.scalars(select(PortalLink))}
        tokens = {i.qbo_id: ctx.links.token(loop.realm, i.qbo_id) for i in invoices if i.qbo_id in linked}
        assert tokens
        memo = str(loop.qbo.entity("Invoice", next(iter(tokens)))["CustomerMemo"]["value"])
        assert tokens[next(iter(tokens))] in memo, "the link was not written back into QBO"
        mirrored = [i for i in invoices if i.memo and "Pay online" in i.memo]
        assert mirrored, "the pull did not copy the memo back"
        # A payment started on the portal queues a Checkout effect; it must not carry the token.
        portal = PortalService(ctx)
        first = next(iter(tokens.values()))
        assert portal.start_payment(first, None).startswith("http")
        # Paying brings Stripe's events (their Checkout Session carries the return URLs) into the inbox.
        with ctx.db.transaction() as s:
            session_id = s.scalars(select(PaymentRow.checkout_session_id)).one()
        assert session_id is not None
        loop.stripe.pay_checkout(session_id, "card_success")
        loop.stripe.webhooks.flush()
        assert ingest(ctx) >= 1
        loop.drain()
        stored = _everything_stored(loop)
        leaked = [line[:200] for line in stored.splitlines() if any(t in line for t in tokens.values())]
        assert leaked == [], f"payable tokens stored in clear: {leaked}"
