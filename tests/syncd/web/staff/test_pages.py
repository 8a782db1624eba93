"""The console's pages: the overview ranks companies by what needs attention in a few queries,
the queue retries a failed effect and releases a hold (each after a confirmation, audited on the
owners' Activity page), Resume, the invoice filters and the customer page."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from staff_console import A, B, seed_company, signed_in, token

from syncd.companies import CompanyStatus, set_status
from syncd.context import Context
from syncd.domain.staff import StaffRole
from syncd.stages.notify import queue_staff_alert
from syncd.store import effects
from syncd.store import holds as credit_holds
from syncd.store.models import Company

BOTH = {A: StaffRole.OWNER, B: StaffRole.BOOKKEEPER}


@contextmanager
def counted(ctx: Context) -> Iterator[list[str]]:
    seen: list[str] = []

    def note(*args: Any) -> None:
        if not str(args[2]).startswith("BEGIN"):  # SQLite's BEGIN IMMEDIATE is no query
            seen.append(str(args[2]))

    engine = ctx.db.engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def test_overview_ranks_paused_then_busiest_in_five_queries(ctx: Context) -> None:
    seed_company(ctx, A, invoices=40)
    client = signed_in(ctx, "firm@firm.test", BOTH)
    client.get("/staff")  # the idle clock written once; the page below only reads
    with counted(ctx) as queries:
        page = client.get("/staff")
    assert page.status_code == 200
    assert len(queries) <= 5, queries
    assert page.text.index('data-company="111"') < page.text.index('data-company="222"')
    assert "$100.00" in page.text  # the one overdue invoice

    set_status(ctx, B, CompanyStatus.PAUSED, "Stripe refused the key")
    page = client.get("/staff")
    assert page.text.index('data-company="222"') < page.text.index('data-company="111"')
    assert "Stripe refused the key" in page.text


def test_queue_retries_a_failed_effect_after_confirming_and_audits_it(ctx: Context) -> None:
    seed_company(ctx, A)
    client = signed_in(ctx, "owner@firm.test", {A: StaffRole.OWNER})
    queue = client.get(f"/staff/c/{A}/queue")
    assert "550 mailbox unavailable" in queue.text
    fields = {"csrf_token": token(queue), "key": "test:failed:111"}
    asked = client.post(f"/staff/c/{A}/queue/retry", data=fields)
    assert asked.status_code == 200 and "Please confirm" in asked.text
    with ctx.db.transaction() as s:
        assert effects.get(s, "test:failed:111").status == "failed"  # type: ignore[union-attr]
    done = client.post(f"/staff/c/{A}/queue/retry", data={**fields, "confirm": "yes"})
    assert done.status_code == 200 and "Queued again" in done.text
    with ctx.db.transaction() as s:
        row = effects.get(s, "test:failed:111")
        assert row is not None and row.status == "pending" and row.done_at is None
    again = client.post(f"/staff/c/{A}/queue/retry", data={**fields, "confirm": "yes"})
    assert again.status_code == 409
    activity = client.get(f"/staff/c/{A}/activity")
    assert (
        "queue.retry" in activity.text
        and "owner@firm.test" in activity.text
        and "test:failed:111" in activity.text
    )


def test_queue_lists_charges_left_as_customer_credit(ctx: Context) -> None:
    with ctx.db.transaction() as s:
        queue_staff_alert(
            ctx,
            s,
            A,
            "credit:pi_123",
            "Payment left as customer credit",
            "Stripe payment pi_123 of 80 USD",
            ctx.clock(),
        )
        queue_staff_alert(ctx, s, A, "paused:x", "Paused", "not a credit", ctx.clock())
    client = signed_in(ctx, "reader@firm.test", {A: StaffRole.READ_ONLY})
    page = client.get(f"/staff/c/{A}/queue").text
    credits = page.split('id="credits"')[1].split("</section>")[0]
    assert "Stripe payment pi_123 of 80 USD" in credits and "not a credit" not in credits


def test_queue_releases_a_credit_hold(ctx: Context) -> None:
    seed_company(ctx, A)
    client = signed_in(ctx, "books@firm.test", {A: StaffRole.BOOKKEEPER})
    queue = client.get(f"/staff/c/{A}/queue")
    assert 'data-customer="c1"' in queue.text
    fields = {"csrf_token": token(queue), "customer": "c1", "confirm": "yes"}
    assert client.post(f"/staff/c/{A}/queue/release-hold", data=fields).status_code == 200
    with ctx.db.transaction() as s:
        assert credit_holds.active(s, A, "c1") is None
    assert client.post(f"/staff/c/{A}/queue/release-hold", data=fields).status_code == 409
    assert 'data-customer="c1"' not in client.get(f"/staff/c/{A}/queue").text


def test_resume_button_resumes_a_paused_company(ctx: Context) -> None:
    set_status(ctx, A, CompanyStatus.PAUSED, "mail server refused the login")
    client = signed_in(ctx, "owner@firm.test", {A: StaffRole.OWNER})
    home = client.get(f"/staff/c/{A}")
    assert "mail server refused the login" in home.text and ">Resume<" in home.text
    done = client.post(f"/staff/c/{A}/resume", data={"csrf_token": token(home), "confirm": "yes"})
    assert "Resumed" in done.text
    assert ">Resume<" not in client.get(f"/staff/c/{A}").text


def test_invoice_filters_and_pages(ctx: Context) -> None:
    seed_company(ctx, A, invoices=60)
    client = signed_in(ctx, "reader@firm.test", {A: StaffRole.READ_ONLY})
    first = client.get(f"/staff/c/{A}/invoices")
    assert "60 invoice(s)" in first.text and "page 1 of 2" in first.text and 'rel="next"' in first.text
    assert "61" not in first.text.split("<tbody>")[1].split("INV-")[0]
    assert "1 invoice(s)" in client.get(f"/staff/c/{A}/invoices?status=overdue").text
    assert "0 invoice(s)" in client.get(f"/staff/c/{A}/invoices?status=paid").text
    assert "11 invoice(s)" in client.get(f"/staff/c/{A}/invoices?q=inv-1&status=all").text
    assert "0 invoice(s)" in client.get(f"/staff/c/{A}/invoices?min=100.01").text
    odd = client.get(f"/staff/c/{A}/invoices?status=nope&min=abc&page=-3&q=%25")
    assert odd.status_code == 200 and "0 invoice(s)" in odd.text


def test_customer_page_shows_invoices_hold_and_messages(ctx: Context) -> None:
    seed_company(ctx, A)
    with ctx.db.transaction() as s:
        effects.insert(
            s,
            key="email:invoice:111:1",
            kind="email.invoice",
            company_id=A,
            payload={"invoice_id": "1"},
            now=ctx.clock(),
        )
    client = signed_in(ctx, "owner@firm.test", {A: StaffRole.OWNER})
    page = client.get(f"/staff/c/{A}/customers/c1")
    assert page.status_code == 200
    assert "Blue Bottle Bakery" in page.text and "INV-3" in page.text and "On credit hold" in page.text
    assert "email.invoice" in page.text
    assert client.get(f"/staff/c/{A}/customers/nobody").status_code == 404


def test_switching_goes_only_to_companies_of_the_person(ctx: Context) -> None:
    with ctx.db.transaction() as s:
        company = s.get(Company, B)
        assert company is not None
        company.name = "Blue Harbor <Cleaning>"
    client = signed_in(ctx, "firm@firm.test", BOTH)
    page = client.get(f"/staff/c/{A}")
    assert (
        'name="company"' in page.text
        and f'<option value="{B}">Blue Harbor &lt;Cleaning&gt;</option>' in page.text
    )
    switched = client.get(f"/staff/switch?company={B}")
    assert switched.headers["location"] == f"/staff/c/{B}"
    assert client.get("/staff/switch?company=999").headers["location"] == "/staff"


def test_switching_from_a_report_opens_the_same_report_where_the_role_may_read_it(ctx: Context) -> None:
    client = signed_in(ctx, "firm@firm.test", {A: StaffRole.OWNER, B: StaffRole.READ_ONLY})
    report = client.get(f"/staff/c/{A}/reports/forecast")
    assert '<input type="hidden" name="report" value="forecast">' in report.text
    switched = client.get(f"/staff/switch?company={B}&report=forecast")
    assert switched.headers["location"] == f"/staff/c/{B}/reports/forecast"
    assert client.get(f"/staff/switch?company={B}&report=../queue").headers["location"] == f"/staff/c/{B}"
    collector = signed_in(ctx, "mixed@firm.test", {A: StaffRole.OWNER, B: StaffRole.COLLECTOR})
    moved = collector.get(f"/staff/switch?company={B}&report=forecast")
    assert moved.headers["location"] == f"/staff/c/{B}"  # a collector reads no reports there
