"""Migration 0008: a company that already emailed links is past its first sync, and reminders sent
under the old per-invoice keys count as covered steps."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from syncd.store.engine import Database
from syncd.store.migrate import upgrade
from syncd.store.models import Company, PortalLink


def test_upgrade_settles_companies_already_running(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(db, "0001")
    now = "2026-11-01 10:00:00.000000"
    with db.engine.begin() as conn:
        for realm, pulled in (("running", now), ("new", None), ("empty", now), ("cut-short", now)):
            conn.execute(
                text(
                    "INSERT INTO companies (realm_id, name, status, created_at, last_pull_at) "
                    "VALUES (:r, '', 'active', :t, :p)"
                ),
                {"r": realm, "t": now, "p": pulled},
            )
        conn.execute(
            text(
                "INSERT INTO portal_links (digest, company_id, invoice_id, created_at, notified_at) "
                "VALUES ('d1', 'running', '7', :t, :t), ('d2', 'running', '8', :t, :t), "
                "('d3', 'new', '9', :t, NULL), ('d4', 'cut-short', '10', :t, NULL)"
            ),
            {"t": now},
        )
        for key in ("email:reminder:running:7:3", "email:reminder:running:7:10", "email:invoice:running:8"):
            conn.execute(
                text(
                    "INSERT INTO effects (key, kind, priority, company_id, payload, status, attempts, "
                    "next_attempt_at, created_at) "
                    "VALUES (:k, 'email.reminder', 5, 'running', '{}', 'done', 1, :t, :t)"
                ),
                {"k": key, "t": now},
            )
    upgrade(db)
    with db.transaction() as s:
        settled = {c.realm_id: c.first_sync_at is not None for c in s.query(Company)}
        steps = {link.invoice_id: link.reminded_step for link in s.query(PortalLink)}
    # Pulled with nothing open: settled. Pulled, then stopped before emailing: still its first sync.
    assert settled == {"running": True, "new": False, "empty": True, "cut-short": False}
    assert steps == {"7": 10, "8": None, "9": None, "10": None}
    db.dispose()
