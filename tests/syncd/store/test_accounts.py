"""Account sign-in state on both backends: single-use tokens, session timeouts, revocation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from syncd.stages import passkeys
from syncd.store import accounts
from syncd.store.engine import Database
from syncd.store.models import AccountSession, AccountToken, Company, CustomerRow

NOW = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)


def _token(db: Database, digest: str = "d" * 64, kind: str = "email") -> None:
    with db.transaction() as s:
        accounts.record_token(
            s,
            token_digest=digest,
            kind=kind,
            now=NOW,
            lifetime=accounts.LINK_LIFETIME,
            email="a@b.test",
            known=True,
        )


def test_a_token_is_used_once_and_not_after_it_expired(db: Database) -> None:
    _token(db)
    _token(db, "e" * 64)
    with db.transaction() as s:
        assert accounts.consume(s, "d" * 64, "email", NOW + timedelta(minutes=1)) is not None
    with db.transaction() as s:
        assert accounts.consume(s, "d" * 64, "email", NOW + timedelta(minutes=2)) is None
        assert accounts.consume(s, "e" * 64, "pk-sign-in", NOW) is None  # another kind
        assert accounts.consume(s, "e" * 64, "email", NOW + accounts.LINK_LIFETIME) is None


def test_sessions_end_by_idle_time_absolute_age_and_revocation(db: Database) -> None:
    with db.transaction() as s:
        accounts.open_session(s, session_digest="s" * 64, now=NOW, email="a@b.test")
        accounts.open_session(s, session_digest="t" * 64, now=NOW, email="a@b.test")
        accounts.open_session(s, session_digest="u" * 64, now=NOW, email="other@b.test")
    with db.transaction() as s:
        row = s.get(AccountSession, "s" * 64)
        assert accounts.live(row, NOW + accounts.IDLE - timedelta(seconds=1))
        assert not accounts.live(row, NOW + accounts.IDLE)
        assert row is not None
        for minutes in range(0, int(accounts.ABSOLUTE.total_seconds() // 60), 20):
            accounts.touch(row, NOW + timedelta(minutes=minutes))
        assert not accounts.live(row, NOW + accounts.ABSOLUTE)  # used all along, still ends
    with db.transaction() as s:
        row = s.get(AccountSession, "s" * 64)
        assert row is not None
        assert accounts.revoke_everywhere(s, row, NOW) == 2
    with db.transaction() as s:
        assert not accounts.live(s.get(AccountSession, "t" * 64), NOW)
        assert accounts.live(s.get(AccountSession, "u" * 64), NOW)


def test_the_person_is_every_live_customer_with_the_billing_email(db: Database) -> None:
    with db.transaction() as s:
        for realm in ("r1", "r2"):
            s.add(Company(realm_id=realm, name=realm, created_at=NOW))
        s.flush()
        for realm, cid, email, active in (
            ("r1", "1", "Pay@Shop.test", True),
            ("r2", "7", "pay@shop.test", True),
            ("r2", "8", "pay@shop.test", False),
            ("r1", "2", "someone@else.test", True),
        ):
            s.add(
                CustomerRow(
                    company_id=realm,
                    qbo_id=cid,
                    display_name=f"c{cid}",
                    email=email,
                    currency="USD",
                    active=active,
                    updated_at=NOW,
                )
            )
    with db.transaction() as s:
        found = [(c.company_id, c.qbo_id) for c in accounts.customers_for(s, " PAY@shop.test ")]
    assert found == [("r1", "1"), ("r2", "7")]


def test_purge_deletes_what_aged_out_and_keeps_the_rest(db: Database) -> None:
    _token(db, "o" * 64)
    with db.transaction() as s:
        accounts.open_session(s, session_digest="a" * 64, now=NOW, email="a@b.test")
        accounts.open_session(s, session_digest="b" * 64, now=NOW + accounts.KEEP, email="a@b.test")
    later = NOW + accounts.KEEP + accounts.IDLE + timedelta(minutes=1)
    with db.transaction() as s:
        assert accounts.purge(s, later) == 2
    with db.transaction() as s:
        assert s.get(AccountSession, "a" * 64) is None
        assert s.get(AccountSession, "b" * 64) is not None


def test_purge_deletes_used_and_expired_passkey_challenges_at_once_but_keeps_recent_links(
    db: Database,
) -> None:
    """A challenge is worth nothing once used or expired; a spent sign-in link stays a day (it is
    the rate-limit ledger, and support may ask about it)."""
    _token(db, "u" * 64, kind=passkeys.SIGN_IN)
    _token(db, "x" * 64, kind=passkeys.REGISTER)
    _token(db, "l" * 64, kind=passkeys.SIGN_IN)
    _token(db, "e" * 64)
    soon = NOW + timedelta(minutes=1)
    with db.transaction() as s:
        assert accounts.consume(s, "u" * 64, passkeys.SIGN_IN, soon) is not None
        assert accounts.consume(s, "e" * 64, "email", soon) is not None
        s.get(AccountToken, "x" * 64).expires_at = soon  # type: ignore[union-attr]
        s.get(AccountToken, "l" * 64).expires_at = NOW + accounts.CHALLENGE_LIFETIME  # type: ignore[union-attr]
    with db.transaction() as s:
        assert accounts.purge(s, soon) == 2
    with db.transaction() as s:
        assert {t.digest for t in s.query(AccountToken)} == {"l" * 64, "e" * 64}
