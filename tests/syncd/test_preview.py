"""``syncd preview`` rehearses the next cycle: it reports what would be emailed and keeps nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from loop_harness import Loop, running_loop
from sqlalchemy import func, select

from syncd.preview import preview
from syncd.stages.cycle import run_cycle
from syncd.store.models import Company, Cursor, Effect, InvoiceRow, PortalLink


class FixedClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _state(loop: Loop) -> tuple[int, ...]:
    with loop.ctx.db.transaction() as s:
        company = s.get(Company, loop.realm)
        return (
            int(s.scalar(select(func.count()).select_from(InvoiceRow)) or 0),
            int(s.scalar(select(func.count()).select_from(PortalLink)) or 0),
            int(s.scalar(select(func.count()).select_from(Effect)) or 0),
            int(s.scalar(select(func.count()).select_from(Cursor)) or 0),
            int(company is not None and company.first_sync_at is not None),
        )


def test_preview_matches_the_cycle_and_keeps_nothing(tmp_path: Path) -> None:
    clock = FixedClock(datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0))
    with running_loop(tmp_path, invoices=30, clock=clock, first_sync="email_open") as loop:
        before = _state(loop)
        planned = preview(loop.ctx, loop.realm)
        assert planned.first_sync and planned.new_links == planned.open_invoices > 0
        assert planned.emails and all(not e.queued_before for e in planned.emails)
        assert {e.template for e in planned.emails} <= {"invoices", "invoice_new"}
        assert _state(loop) == before and loop.sink.mailbox.all() == []
        # The cycle then sends exactly what the preview listed.
        run_cycle(loop.ctx, loop.realm)
        loop.drain()
        sent = {(m.to, m.subject) for m in loop.sink.mailbox.all()}
        assert {e.to for e in planned.emails} == {to for to, _ in sent}
        for email in planned.emails:
            subject = next(s for to, s in sent if to == email.to)
            assert all(i.doc_number in subject for i in email.invoices)

        # Afterwards: nothing due, until QuickBooks has a new invoice the mirror does not know yet.
        again = preview(loop.ctx, loop.realm)
        assert not again.first_sync and again.new_links == 0 and again.emails == ()
        loop.qbo.add_invoice(due_date=clock.now.date() + timedelta(days=30), email="new@example.org")
        clock.now += timedelta(days=1)
        ahead = preview(loop.ctx, loop.realm)
        mine = [e for e in ahead.emails if e.to == "new@example.org"]
        assert len(mine) == 1 and mine[0].template == "invoice_new"
        assert ahead.new_links == 1
        # Without reading QuickBooks, only what syncd already mirrored is planned.
        offline = preview(loop.ctx, loop.realm, read_quickbooks=False)
        assert offline.new_links == 0 and all(e.to != "new@example.org" for e in offline.emails)
        assert len(loop.sink.mailbox.all()) == len(sent)
