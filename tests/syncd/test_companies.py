"""A company that needs a person tells staff once, even while everything else for it is paused."""

from __future__ import annotations

from pathlib import Path

from loop_harness import running_loop
from sqlalchemy import select

from syncd.companies import CompanyStatus, is_active, set_status
from syncd.store.models import Effect
from syncd.worker import run_effects


def test_reconnect_needed_alerts_staff_once(tmp_path: Path) -> None:
    with running_loop(tmp_path) as loop:
        ctx = loop.ctx
        set_status(ctx, loop.realm, CompanyStatus.RECONNECT, "invalid_grant: refresh token revoked")
        set_status(ctx, loop.realm, CompanyStatus.RECONNECT, "invalid_grant again")
        assert not is_active(ctx, loop.realm)
        with ctx.db.transaction() as s:
            alerts = list(s.scalars(select(Effect).where(Effect.kind == "email.staff")))
        assert len(alerts) == 1
        assert run_effects(ctx, owner="t", realm_id=loop.realm, kinds=("email.staff",)) == 1
        (mail,) = loop.sink.mailbox.all()
        assert mail.to == ["staff@northwind.test"] or "staff@northwind.test" in str(mail.to)
        assert "reconnect" in mail.subject.lower() and "invalid_grant" in mail.text
        set_status(ctx, loop.realm, CompanyStatus.ACTIVE, None)
        assert is_active(ctx, loop.realm)
