"""Payment health: outcomes of the payments started in the window, effects failing, held or
retrying per system, credit holds."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from report_rows import REALM, company, effect, payment

from syncd.domain.payments import PaymentStatus
from syncd.reports import health
from syncd.store.engine import Database
from syncd.store.models import CreditHold


def at(month: int, day: int, hour: int = 15) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def test_counts(db: Database) -> None:
    with db.transaction() as s:
        s.add(company())
        for i, status in enumerate(
            (PaymentStatus.SUCCEEDED, PaymentStatus.FAILED, PaymentStatus.RETURNED, PaymentStatus.RETURNED)
        ):
            s.add(payment(f"p{i}", [str(i)], "10.00", at=at(2, 10), status=status))
        s.add(payment("old", ["9"], "10.00", at=at(1, 1), status=PaymentStatus.FAILED))  # before the window
        # 04:00 UTC on Jan 31 is still Jan 30 in New York: outside a window starting Jan 31 there
        s.add(payment("edge", ["8"], "10.00", at=at(1, 31, 4), status=PaymentStatus.EXPIRED))
        s.add_all(
            [
                effect("q1", "qbo.payment", {}, at=at(1, 1), status="failed"),  # failed long ago: counts
                effect("q2", "qbo.fee", {}, at=at(2, 3), status="pending", attempts=3, held=at(2, 3)),
                effect("m1", "email.reminder", {}, at=at(2, 4), status="pending", attempts=2),
                effect("m2", "email.invoice", {}, at=at(2, 2)),
                effect("m3", "email.invoice", {}, at=at(1, 2)),  # done before the window
                effect("s1", "stripe.checkout", {}, at=at(2, 5), status="pending", attempts=0),  # just queued
                CreditHold(
                    company_id=REALM, customer_id="7", seq=1, placed_at=at(2, 5), strikes_at_placement=2
                ),
                CreditHold(
                    company_id=REALM,
                    customer_id="8",
                    seq=1,
                    placed_at=at(1, 1),
                    strikes_at_placement=2,
                    released_at=at(2, 20),
                    strikes_at_release=2,
                ),
            ]
        )
    with db.transaction() as s:
        report = health.build(s, REALM, as_of=date(2026, 3, 1), zone=ZoneInfo("America/New_York"), days=30)
    assert report.start == date(2026, 1, 31)
    got = {(m.area, m.measure): m.count for m in report.measures if m.count}
    assert got == {
        ("payments", "succeeded"): 1,
        ("payments", "failed"): 1,
        ("payments", "returned"): 2,
        ("effects:qbo", "failed"): 1,
        ("effects:qbo", "held"): 1,
        ("effects:email", "retrying"): 1,
        ("effects:email", "done"): 1,
        ("credit_holds", "on_hold"): 1,
        ("credit_holds", "placed"): 1,
        ("credit_holds", "released"): 1,
    }
    assert ("payments", "expired", "0") in report.table()
    charts = report.charts()
    assert dict(charts[1].series)["held"] == (0, 1, 0, 0)  # stripe, qbo, books, email
