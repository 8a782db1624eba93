"""The SyncTokens a link write-back records: QBO's newer token stored, a newer stored one kept, in
one statement for a whole batch — on both backends."""

from __future__ import annotations

from report_rows import REALM, company, invoice
from sqlalchemy import select

from syncd.store import mirror
from syncd.store.engine import Database
from syncd.store.models import InvoiceRow


def _tokens(db: Database) -> dict[str, str]:
    with db.transaction() as s:
        return {
            qbo_id: token for qbo_id, token in s.execute(select(InvoiceRow.qbo_id, InvoiceRow.sync_token))
        }


def test_newer_tokens_are_stored_and_a_later_pulls_kept(db: Database) -> None:
    with db.transaction() as s:
        s.add(company())
        s.flush()
        for qbo_id, token in (("1", "3"), ("2", "5"), ("3", "9")):
            row = invoice(qbo_id, realm=REALM)
            row.sync_token = token
            s.add(row)
    with db.transaction() as s:
        # "10" is newer than "9" (QBO's tokens are numbers); "4" is older than the "5" a pull stored.
        stored = mirror.advance_sync_tokens(s, REALM, {"1": "4", "2": "4", "3": "10", "404": "1"})
    assert stored == 2
    assert _tokens(db) == {"1": "4", "2": "5", "3": "10"}


def test_no_tokens_touch_nothing(db: Database) -> None:
    with db.transaction() as s:
        assert mirror.advance_sync_tokens(s, REALM, {}) == 0
        assert mirror.advance_sync_tokens(s, "other-realm", {"1": "4"}) == 0
