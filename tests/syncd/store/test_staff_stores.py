"""The console's stores on both backends: the overview's counts and sums, the invoice filters,
a customer's file, the sign-in rate limit, sessions, and retrying one failed effect."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any, cast

import pytest
from staff_console import CHEAP, NOW, A, B, seed_company

from syncd.domain.staff import StaffPrincipal, StaffRole
from syncd.store import effects, staff_sessions
from syncd.store import staff as roster
from syncd.store import staff_views as views
from syncd.store.engine import Database
from syncd.store.models import Company, EntryReview


@pytest.fixture
def ctx(db: Database, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(roster, "HASHER", CHEAP)
    with db.transaction() as s:
        s.add_all(
            [Company(realm_id=A, name="Alpha", created_at=NOW), Company(realm_id=B, name="", created_at=NOW)]
        )
    return cast(Any, SimpleNamespace(db=db, clock=lambda: NOW))


def test_overview_counts_and_sums_per_company(ctx: Any) -> None:
    seed_company(ctx, A, invoices=5)
    with ctx.db.transaction() as s:
        s.add(
            EntryReview(
                company_id=B,
                qbo_payment_id="9",
                payment_key="p",
                invoice_ids=["1"],
                amount=Decimal(5),
                currency="USD",
                change="deleted",
                detail="",
                status="open",
                detected_at=NOW,
            )
        )
    with ctx.db.transaction() as s:
        ranked = views.overview(s, [A, B], today=NOW.date())
    first, second = ranked
    assert (first.realm_id, first.failed, first.holds, first.reviews, first.open_invoices) == (A, 1, 1, 0, 5)
    assert first.overdue == {"USD": Decimal("100.00")}
    assert (second.realm_id, second.name, second.reviews, second.overdue) == (B, B, 1, {})


def test_invoice_filters(ctx: Any) -> None:
    seed_company(ctx, A, invoices=55)
    today = NOW.date()
    with ctx.db.transaction() as s:
        page = views.invoices(s, A, views.InvoiceQuery(page=9), today=today)
        assert (page.total, page.page, page.pages, len(page.rows)) == (55, 2, 2, 5)
        overdue = views.invoices(s, A, views.InvoiceQuery(status=views.InvoiceFilter.OVERDUE), today=today)
        assert [r.qbo_id for r in overdue.rows] == ["1"]
        found = views.invoices(s, A, views.InvoiceQuery(search="INV-5"), today=today)
        assert {r.doc_number for r in found.rows} == {"INV-5", *(f"INV-5{n}" for n in range(6))}
        assert views.invoices(s, A, views.InvoiceQuery(search="100%"), today=today).total == 0
        assert views.invoices(s, A, views.InvoiceQuery(min_amount=Decimal("100.01")), today=today).total == 0
        assert views.invoices(s, B, views.InvoiceQuery(), today=today).total == 0


def test_customer_file(ctx: Any) -> None:
    seed_company(ctx, A, invoices=2)
    with ctx.db.transaction() as s:
        effects.insert(
            s,
            key="email:invoice:111:2",
            kind="email.invoice",
            company_id=A,
            payload={"invoice_id": "2"},
            now=NOW,
        )
        effects.insert(
            s,
            key="email:invoice:222:2",
            kind="email.invoice",
            company_id=B,
            payload={"invoice_id": "2"},
            now=NOW,
        )
    with ctx.db.transaction() as s:
        found = views.customer_file(s, A, "c1")
        assert found is not None and found.hold is not None
        assert [m.key for m in found.messages] == ["email:invoice:111:2"]
        assert views.customer_file(s, B, "c1") is None


def test_rate_limit_counts_per_email_and_per_address(ctx: Any) -> None:
    with ctx.db.transaction() as s:
        for n in range(staff_sessions.PER_EMAIL - 1):
            staff_sessions.failed(s, "a@x.test", f"10.0.0.{n}", now=NOW)
        assert not staff_sessions.limited(s, "a@x.test", "10.9.9.9", now=NOW)
        staff_sessions.failed(s, "a@x.test", "10.0.0.9", now=NOW)
        assert staff_sessions.limited(s, "a@x.test", "10.9.9.9", now=NOW)
        assert not staff_sessions.limited(s, "a@x.test", "10.9.9.9", now=NOW + staff_sessions.WINDOW)
        assert not staff_sessions.limited(s, "b@x.test", "10.0.0.1", now=NOW)
        assert staff_sessions.purge(s, now=NOW + staff_sessions.WINDOW) == staff_sessions.PER_EMAIL


def test_sessions_resolve_until_revoked_or_idle(ctx: Any) -> None:
    with ctx.db.transaction() as s:
        user, password = roster.add(s, "Ann@X.test", company_id=A, role=StaffRole.OWNER, name="Ann", now=NOW)
        assert password is not None and user.email == "ann@x.test"
        cookie = staff_sessions.open_session(s, user.id, totp_pending=False, now=NOW)
    with ctx.db.transaction() as s:
        opened = staff_sessions.resolve(s, cookie, now=NOW + timedelta(minutes=5))
        assert opened is not None and roster.principal(s, opened.user) == (
            StaffPrincipal(opened.user.id, "ann@x.test", "Ann", {A: StaffRole.OWNER}),
            {A: "Alpha"},
        )
        assert staff_sessions.resolve(s, cookie, now=NOW + timedelta(minutes=6) + staff_sessions.IDLE) is None
        staff_sessions.revoke(s, cookie, now=NOW)
        assert staff_sessions.resolve(s, cookie, now=NOW) is None
        live = staff_sessions.open_session(s, user.id, totp_pending=False, now=NOW + timedelta(days=1))
    with ctx.db.transaction() as s:
        assert staff_sessions.purge(s, now=NOW + timedelta(days=1, seconds=1)) == 1  # the revoked one
        assert staff_sessions.resolve(s, live, now=NOW + timedelta(days=1, seconds=1)) is not None


def test_requeue_one_effect_of_the_company_only(ctx: Any) -> None:
    seed_company(ctx, A)
    assert not effects.requeue_one(ctx.db, company_id=B, key="test:failed:111", now=NOW)
    assert effects.requeue_one(ctx.db, company_id=A, key="test:failed:111", now=NOW)
    assert not effects.requeue_one(ctx.db, company_id=A, key="test:failed:111", now=NOW)
    with ctx.db.transaction() as s:
        row = effects.get(s, "test:failed:111")
        assert row is not None and row.status == "pending" and row.next_attempt_at == NOW
