"""A company that needs a person tells staff once and names the fix for the refused credential;
it resumes by itself once that credential changed or was shown to work, or by ``syncd resume``."""

from __future__ import annotations

import subprocess
from datetime import timedelta
from pathlib import Path

from loop_harness import running_loop
from processes import SYNCD
from qbo_tokens import tokens_from
from sqlalchemy import select, update

from syncd.companies import CompanyStatus, is_active, pause, resume_proven, runnable, set_status
from syncd.context import Context, token_store
from syncd.errors import AuthError, Credential, ReconnectNeededError
from syncd.status import company_reports
from syncd.store import effects
from syncd.store.models import Company, Effect
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


def _company(ctx: Context, realm: str) -> Company:
    with ctx.db.transaction() as s:
        row = s.get(Company, realm)
        assert row is not None
        s.expunge(row)
        return row


def _deferred(ctx: Context, realm: str) -> str:
    """An effect put off as the worker puts off one a refused credential stopped."""
    now = ctx.clock()
    with ctx.db.transaction() as s:
        effects.insert(s, key="test:deferred", kind="email.staff", company_id=realm, payload={}, now=now)
        s.execute(
            update(Effect)
            .where(Effect.key == "test:deferred")
            .values(next_attempt_at=now + timedelta(minutes=15))
        )
    return "test:deferred"


def _due(ctx: Context, key: str) -> bool:
    with ctx.db.transaction() as s:
        row = effects.get(s, key)
        assert row is not None
        return row.next_attempt_at <= ctx.clock()


def test_a_lost_qbo_connection_names_connect_and_a_new_connection_resumes(tmp_path: Path) -> None:
    with running_loop(tmp_path) as loop:
        ctx = loop.ctx
        key = _deferred(ctx, loop.realm)
        pause(ctx, loop.realm, ReconnectNeededError("QBO refused the refresh token (invalid_grant)"))
        row = _company(ctx, loop.realm)
        assert (row.status, row.pause_credential) == ("reconnect_needed", "quickbooks.connection")
        assert not runnable(ctx, loop.realm)
        (status,) = company_reports(ctx)
        assert status.fix == "run `syncd connect quickbooks` to reconnect it"
        assert status.status_reason == "QBO refused the refresh token (invalid_grant)"
        token_store(ctx).save(loop.realm, tokens_from(loop.qbo.mint_tokens()))
        assert runnable(ctx, loop.realm)
        assert is_active(ctx, loop.realm) and _due(ctx, key)


def test_each_credential_names_its_own_fix_in_the_staff_email(tmp_path: Path) -> None:
    with running_loop(tmp_path) as loop:
        ctx = loop.ctx
        pause(ctx, loop.realm, AuthError("Invalid API Key provided", credential=Credential.STRIPE_KEY))
        run_effects(ctx, owner="t", realm_id=loop.realm, kinds=("email.staff",))
        (mail,) = loop.sink.mailbox.all()
        assert "Stripe refused" in mail.subject
        assert "Invalid API Key provided" in mail.text and "`stripe.api_key`" in mail.text
        assert "syncd connect quickbooks" not in mail.text
        # The same key is still refused: nothing resumes until it changes or is shown to work.
        assert not runnable(ctx, loop.realm)
        assert resume_proven(ctx, Credential.STRIPE_KEY) == [loop.realm]
        assert is_active(ctx, loop.realm)


def test_a_pause_of_unknown_cause_waits_for_syncd_resume(tmp_path: Path) -> None:
    with running_loop(tmp_path) as loop:
        ctx = loop.ctx
        key = _deferred(ctx, loop.realm)
        pause(ctx, loop.realm, AuthError("refused for a reason nobody mapped"))
        token_store(ctx).save(loop.realm, tokens_from(loop.qbo.mint_tokens()))
        assert not runnable(ctx, loop.realm)
        (status,) = company_reports(ctx)
        assert status.fix == f"fix the cause, then run `syncd resume --company {loop.realm}`"
        config = tmp_path / "syncd.toml"
        config.write_text(
            f'secret_key = "{ctx.settings.secret_key}"\n[database]\nurl = "{ctx.settings.database_url}"\n'
            f'[[company]]\nrealm_id = "{loop.realm}"\n'
        )
        syncd = [SYNCD, "--config", str(config)]
        shown = subprocess.run([*syncd, "status"], capture_output=True, text=True, check=False, timeout=60)
        assert "why: refused for a reason nobody mapped" in shown.stdout
        done = subprocess.run(
            [*syncd, "resume", "--company", loop.realm],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith(f"Resumed company {loop.realm}")
        assert is_active(ctx, loop.realm) and _due(ctx, key)
        again = subprocess.run(
            [*syncd, "resume", "--company", loop.realm],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        assert again.stdout.strip() == f"Company {loop.realm} is not paused."
        unknown = subprocess.run(
            [*syncd, "resume", "--company", "999"], capture_output=True, text=True, check=False, timeout=60
        )
        assert unknown.returncode == 78
        assert unknown.stderr.strip() == "syncd: company: no company '999' is configured"


def test_a_company_paused_before_causes_were_recorded_is_tried_again(tmp_path: Path) -> None:
    with running_loop(tmp_path) as loop:
        ctx = loop.ctx
        with ctx.db.transaction() as s:
            s.execute(
                update(Company)
                .where(Company.realm_id == loop.realm)
                .values(status="paused", status_reason="AuthenticationError: Invalid API Key provided")
            )
        assert runnable(ctx, loop.realm)
        assert is_active(ctx, loop.realm)
