"""Texting state on SQLite and PostgreSQL: a STOP ends every customer of the company at that
number (and no other company's), START undoes it, a text's status never moves back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from syncd.ports.sms import TextStatus
from syncd.store import texts
from syncd.store.engine import Database
from syncd.store.models import Company
from syncd.store.texts import ConsentSource

T0 = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
PHONE = "+14155550123"


def _setup(db: Database) -> None:
    with db.transaction() as s:
        s.add_all([Company(realm_id=r, name=r, created_at=T0) for r in ("r1", "r2")])
        s.flush()
        for realm, customer in (("r1", "1"), ("r1", "2"), ("r2", "1")):
            texts.consent(
                s,
                company_id=realm,
                customer_id=customer,
                number=PHONE,
                source=ConsentSource.PORTAL,
                text="Text me",
                now=T0,
            )


def test_stop_and_start_are_per_company_and_number(db: Database) -> None:
    _setup(db)
    with db.transaction() as s:
        assert texts.opt_out(s, ["r1"], PHONE, T0) == 2
        assert texts.opt_out(s, ["r1"], PHONE, T0) == 0
    with db.transaction() as s:
        stopped = {
            (n.company_id, n.customer_id): n.opted_out_at for n in texts.holders(s, ["r1", "r2"], PHONE)
        }
        assert stopped == {("r1", "1"): T0, ("r1", "2"): T0, ("r2", "1"): None}
        assert texts.opt_in(s, ["r1"], PHONE, T0 + timedelta(hours=1)) == 2
    with db.transaction() as s:
        assert all(n.opted_out_at is None for n in texts.holders(s, ["r1"], PHONE))
        # Consent given again (a new tick) also clears an opt-out.
        texts.opt_out(s, ["r2"], PHONE, T0)
        texts.consent(
            s,
            company_id="r2",
            customer_id="1",
            number=PHONE,
            source=ConsentSource.PORTAL,
            text="again",
            now=T0,
        )
        row = texts.number_of(s, "r2", "1")
        assert row is not None and row.opted_out_at is None and row.consent_text == "again"


def test_a_status_never_moves_back_and_reports_find_their_text(db: Database) -> None:
    _setup(db)
    key = "sms:r1:reminder:1"
    with db.transaction() as s:
        texts.record_text(
            s, key=key, company_id="r1", customer_id="1", number=PHONE, status=TextStatus.QUEUED, now=T0
        )
        assert texts.report(s, key, "SM1", TextStatus.DELIVERED, None, T0)
        # The send's own answer ("queued") is recorded after the callback: it does not win.
        texts.record_text(
            s,
            key=key,
            company_id="r1",
            customer_id="1",
            number=PHONE,
            status=TextStatus.QUEUED,
            now=T0,
            sid="SM1",
        )
        assert texts.report(s, None, "SM1", TextStatus.SENT, None, T0)
        assert not texts.report(s, None, "SM-unknown", TextStatus.SENT, None, T0)
    with db.transaction() as s:
        (row,) = texts.texts_of(s, "r1", "1")
        assert (row.status, row.sid) == ("delivered", "SM1")
