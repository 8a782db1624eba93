"""The customer page's buttons: make and cancel an installment plan, place and release a card
hold, turn off autopay. Each asks first (a plan shows its exact split), is refused to read-only
members and collectors and without the CSRF token, shows a stage's refusal as one line with
nothing changed, and is audited."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from method_rows import card_on_file
from sqlalchemy import func, select
from staff_console import A, seed_company, signed_in, token

from syncd.context import Context
from syncd.domain.staff import StaffRole
from syncd.store import autopay
from syncd.store.models import (
    AutopayEnrollment,
    CardAuthorizationRow,
    Effect,
    InstallmentPlan,
    PlanInstallment,
    StaffAction,
)

PAGE = f"/staff/c/{A}/customers/c1"
PLAN = {"invoice": "2", "down": "10.00", "count": "3", "every": "month", "start": "2026-12-01"}


def _client(ctx: Context, role: StaffRole = StaffRole.OWNER) -> tuple[Any, str]:
    client = signed_in(ctx, f"{role.value}@firm.test", {A: role})
    return client, token(client.get(PAGE))


def _count(ctx: Context, model: Any) -> int:
    with ctx.db.transaction() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def _audited(ctx: Context) -> list[tuple[str, str]]:
    with ctx.db.transaction() as s:
        rows = s.scalars(
            select(StaffAction).where(StaffAction.action.like("customer.%")).order_by(StaffAction.id)
        )
        return [(a.action, a.target) for a in rows]


def _landed(client: Any, answer: Any) -> Any:
    """The customer page a successful action lands on (303 back to it)."""
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"].startswith(f"{PAGE}?done=")
    return client.get(answer.headers["location"])


def _card(ctx: Context) -> None:
    with ctx.db.transaction() as s:
        s.add(card_on_file("pm_1", A, "c1", ctx.clock(), is_default=True))


def _held(ctx: Context, ident: str = "auth_held") -> None:
    now = ctx.clock()
    with ctx.db.transaction() as s:
        s.add(
            CardAuthorizationRow(
                id=ident,
                company_id=A,
                customer_id="c1",
                amount=Decimal("150.00"),
                currency="USD",
                note=None,
                status="held",
                payment_method_id="pm_1",
                stripe_customer_id="cus_1",
                known_invoice_ids=[],
                placed_on=now.date(),
                release_at=now + timedelta(days=6),
                placed_at=now,
                updated_at=now,
            )
        )


def test_making_a_plan_shows_the_exact_split_then_makes_it(ctx: Context) -> None:
    seed_company(ctx, A)
    client, csrf = _client(ctx)
    page = client.get(PAGE)
    assert 'action="/staff/c/111/customers/c1/plan"' in page.text and "Make a plan" in page.text
    asked = client.post(f"{PAGE}/plan", data={"csrf_token": csrf, **PLAN})
    assert asked.status_code == 200 and "Make this plan?" in asked.text
    # 100.00 open: 10.00 down, then three of 30.00, a month apart from the start.
    assert "Down payment" in asked.text and "Installment 3" in asked.text
    assert asked.text.count("$30.00") == 3 and "$10.00" in asked.text
    assert "December 1, 2026" in asked.text and "March 1, 2027" in asked.text
    assert _count(ctx, InstallmentPlan) == 0  # asking changes nothing
    done = client.post(
        f"{PAGE}/plan", data={"csrf_token": token(asked), **PLAN, "confirm": "yes"}, follow_redirects=False
    )
    assert done.status_code == 303 and done.headers["location"].startswith(f"{PAGE}?done=plan")
    with ctx.db.transaction() as s:
        plan = s.scalars(select(InstallmentPlan)).one()
        assert (plan.invoice_id, plan.customer_id, plan.status) == ("2", "c1", "active")
        parts = s.scalars(select(PlanInstallment).order_by(PlanInstallment.seq)).all()
        assert [p.amount for p in parts] == [Decimal("10.00"), *[Decimal("30.00")] * 3]
    assert _audited(ctx)[-1] == ("customer.plan", f"plan {plan.id} invoice INV-2")
    shown = client.get(done.headers["location"])
    assert "Plan made" in shown.text and f'data-plan="{plan.id}"' in shown.text


def test_a_plan_the_stage_refuses_is_one_line_and_nothing_changes(ctx: Context) -> None:
    seed_company(ctx, A)
    client, csrf = _client(ctx)
    whole = client.post(f"{PAGE}/plan", data={"csrf_token": csrf, **PLAN, "down": "100.00"})
    assert whole.status_code == 409
    assert 'role="alert"' in whole.text and "Not done:" in whole.text
    assert 'value="100.00"' in whole.text  # what was entered stays in the form
    past = client.post(
        f"{PAGE}/plan", data={"csrf_token": csrf, **PLAN, "start": "2026-01-01", "confirm": "yes"}
    )
    assert past.status_code == 409 and "is in the past" in past.text
    junk = client.post(f"{PAGE}/plan", data={"csrf_token": csrf, **PLAN, "count": "three"})
    assert junk.status_code == 409 and "whole number" in junk.text
    assert _count(ctx, InstallmentPlan) == 0 and _audited(ctx) == []
    client.post(f"{PAGE}/plan", data={"csrf_token": csrf, **PLAN, "confirm": "yes"})
    again = client.post(f"{PAGE}/plan", data={"csrf_token": csrf, **PLAN, "confirm": "yes"})
    assert again.status_code == 409 and "already in plan 1" in again.text
    assert _count(ctx, InstallmentPlan) == 1


def test_another_customers_invoice_is_refused(ctx: Context) -> None:
    seed_company(ctx, A)
    client, csrf = _client(ctx)
    other = f"/staff/c/{A}/customers/c2"
    from syncd.store.models import CustomerRow

    with ctx.db.transaction() as s:
        s.add(
            CustomerRow(
                company_id=A, qbo_id="c2", display_name="Other", currency="USD", updated_at=ctx.clock()
            )
        )
    answer = client.post(f"{other}/plan", data={"csrf_token": csrf, **PLAN, "confirm": "yes"})
    assert answer.status_code == 409 and "another customer" in answer.text
    assert _count(ctx, InstallmentPlan) == 0


def test_cancelling_a_plan(ctx: Context) -> None:
    seed_company(ctx, A)
    client, csrf = _client(ctx)
    client.post(f"{PAGE}/plan", data={"csrf_token": csrf, **PLAN, "confirm": "yes"})
    page = client.get(PAGE)
    assert "Cancel plan 1" in page.text
    asked = client.post(f"{PAGE}/cancel-plan", data={"csrf_token": csrf, "plan": "1"})
    assert asked.status_code == 200 and "Cancel plan 1?" in asked.text
    done = client.post(f"{PAGE}/cancel-plan", data={"csrf_token": csrf, "plan": "1", "confirm": "yes"})
    assert "Plan cancelled" in _landed(client, done).text
    with ctx.db.transaction() as s:
        assert s.get(InstallmentPlan, 1).status == "cancelled"  # type: ignore[union-attr]
    twice = client.post(f"{PAGE}/cancel-plan", data={"csrf_token": csrf, "plan": "1", "confirm": "yes"})
    assert twice.status_code == 409 and "plan 1 is cancelled already" in twice.text
    unknown = client.post(f"{PAGE}/cancel-plan", data={"csrf_token": csrf, "plan": "99", "confirm": "yes"})
    assert unknown.status_code == 409 and "no plan 99 for this customer" in unknown.text
    assert [a for a, _ in _audited(ctx)] == ["customer.plan", "customer.cancel-plan"]


def test_placing_a_card_hold_queues_its_stripe_effect(ctx: Context) -> None:
    seed_company(ctx, A)
    client, csrf = _client(ctx)
    refused = client.post(f"{PAGE}/place-hold", data={"csrf_token": csrf, "amount": "150", "confirm": "yes"})
    assert refused.status_code == 409 and "has no default card on file" in refused.text
    assert _count(ctx, CardAuthorizationRow) == 0
    _card(ctx)
    asked = client.post(f"{PAGE}/place-hold", data={"csrf_token": csrf, "amount": "150.00", "note": "Job 7"})
    assert asked.status_code == 200 and "Hold 150.00 on the customer&#39;s Visa ending 4242?" in asked.text
    assert "Job 7" in asked.text
    assert _count(ctx, CardAuthorizationRow) == 0
    bad = client.post(f"{PAGE}/place-hold", data={"csrf_token": csrf, "amount": "-5"})
    assert bad.status_code == 409 and "positive" in bad.text  # refused before asking
    request_id = re.search(r'name="request_id" value="([^"]+)"', asked.text)
    assert request_id is not None
    confirmed = {
        "csrf_token": token(asked),
        "amount": "150.00",
        "note": "Job 7",
        "request_id": request_id.group(1),
        "confirm": "yes",
    }
    done = client.post(f"{PAGE}/place-hold", data=confirmed)
    assert "Card hold queued" in _landed(client, done).text
    again = client.post(f"{PAGE}/place-hold", data=confirmed)  # the same confirmation sent twice
    assert again.status_code == 303
    with ctx.db.transaction() as s:
        row = s.scalars(select(CardAuthorizationRow)).one()
        assert (row.amount, row.status, row.note) == (Decimal("150.00"), "placing", "Job 7")
        keys = s.scalars(select(Effect.key).where(Effect.kind == "stripe.authorize")).all()
        assert keys == [f"stripe:authorize:{row.id}"]
    assert _audited(ctx)[0] == ("customer.place-hold", f"{row.id} 150.00")


def test_releasing_a_card_hold(ctx: Context) -> None:
    seed_company(ctx, A)
    _held(ctx)
    client, csrf = _client(ctx)
    assert 'action="/staff/c/111/customers/c1/release-card-hold"' in client.get(PAGE).text
    asked = client.post(f"{PAGE}/release-card-hold", data={"csrf_token": csrf, "authorization": "auth_held"})
    assert asked.status_code == 200 and "auth_held" in asked.text
    done = client.post(
        f"{PAGE}/release-card-hold",
        data={"csrf_token": csrf, "authorization": "auth_held", "confirm": "yes"},
    )
    assert "Release queued" in _landed(client, done).text
    with ctx.db.transaction() as s:
        assert s.get(CardAuthorizationRow, "auth_held").status == "releasing"  # type: ignore[union-attr]
        assert s.scalar(select(Effect.key).where(Effect.kind == "stripe.authorization_release")) is not None
    twice = client.post(
        f"{PAGE}/release-card-hold",
        data={"csrf_token": csrf, "authorization": "auth_held", "confirm": "yes"},
    )
    assert twice.status_code == 409 and "is releasing: nothing to release" in twice.text
    assert _audited(ctx) == [("customer.release-card-hold", "auth_held")]


def test_turning_off_autopay_for_the_customer(ctx: Context) -> None:
    seed_company(ctx, A)
    _card(ctx)
    with ctx.db.transaction() as s:
        autopay.enroll(
            s,
            realm_id=A,
            customer_id="c1",
            method_id="pm_1",
            cap=Decimal("500.00"),
            consent_reference="autopay:test",
            now=ctx.clock(),
        )
    client, csrf = _client(ctx)
    page = client.get(PAGE)
    assert "Visa ending 4242" in page.text and "$500.00 per charge" in page.text
    assert "Turn off autopay" in page.text
    asked = client.post(f"{PAGE}/autopay-off", data={"csrf_token": csrf})
    assert asked.status_code == 200 and "Turn off autopay for this customer?" in asked.text
    done = client.post(f"{PAGE}/autopay-off", data={"csrf_token": csrf, "confirm": "yes"})
    landed = _landed(client, done).text
    assert "Autopay turned off" in landed and "Off since" in landed and "turned off by staff" in landed
    with ctx.db.transaction() as s:
        row = s.get(AutopayEnrollment, (A, "c1"))
        assert row is not None and row.stopped_at is not None and row.stop_reason == "turned off by staff"
    twice = client.post(f"{PAGE}/autopay-off", data={"csrf_token": csrf, "confirm": "yes"})
    assert twice.status_code == 409 and "autopay is not on" in twice.text
    assert _audited(ctx) == [("customer.autopay-off", "c1")]


@pytest.mark.parametrize("role", [StaffRole.READ_ONLY, StaffRole.COLLECTOR])
def test_readers_and_collectors_see_but_never_act(ctx: Context, role: StaffRole) -> None:
    seed_company(ctx, A)
    _card(ctx)
    _held(ctx)
    client, csrf = _client(ctx, role)
    page = client.get(PAGE)
    assert page.status_code == 200 and "auth_held" in page.text
    assert "Make a plan" not in page.text and "release-card-hold" not in page.text
    for action, fields in (
        ("plan", PLAN),
        ("place-hold", {"amount": "10"}),
        ("release-card-hold", {"authorization": "auth_held"}),
        ("autopay-off", {}),
    ):
        answer = client.post(f"{PAGE}/{action}", data={"csrf_token": csrf, **fields, "confirm": "yes"})
        assert answer.status_code == 403, (action, answer.status_code)
    assert _count(ctx, InstallmentPlan) == 0 and _count(ctx, CardAuthorizationRow) == 1
    assert _audited(ctx) == []


def test_no_action_without_the_csrf_token(ctx: Context) -> None:
    seed_company(ctx, A)
    _held(ctx)
    client, _ = _client(ctx)
    for fields in ({}, {"csrf_token": "1.forged"}):
        answer = client.post(f"{PAGE}/plan", data={**fields, **PLAN, "confirm": "yes"})
        assert answer.status_code == 403
        answer = client.post(
            f"{PAGE}/release-card-hold", data={**fields, "authorization": "auth_held", "confirm": "yes"}
        )
        assert answer.status_code == 403
    assert _count(ctx, InstallmentPlan) == 0
    with ctx.db.transaction() as s:
        assert s.get(CardAuthorizationRow, "auth_held").status == "held"  # type: ignore[union-attr]


def test_an_unknown_action_is_404(ctx: Context) -> None:
    seed_company(ctx, A)
    client, csrf = _client(ctx)
    assert client.post(f"{PAGE}/delete-everything", data={"csrf_token": csrf}).status_code == 404
