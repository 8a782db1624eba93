"""The collector's forms as ``syncd run`` serves them (the console's guard in front of the
collection routes): a recorded note answers 303 back to the account page, named as the routes
name it, rather than a 500 after the note was written."""

from __future__ import annotations

from staff_console import A, seed_company, signed_in, token

from syncd.context import Context
from syncd.domain.staff import StaffRole
from syncd.stages import ladder
from syncd.store import collections

ANA = "ana@northwind.test"


def test_a_note_recorded_in_the_daemons_app_goes_back_to_the_account(ctx: Context) -> None:
    seed_company(ctx, A)
    with ctx.db.transaction() as s:
        ladder.assign(s, A, "c1", ANA, by="owner@northwind.test", now=ctx.clock())
    client = signed_in(ctx, ANA, {A: StaffRole.COLLECTOR})
    page = client.get(f"/staff/c/{A}/collect/c1")
    assert page.status_code == 200, page.text[:300]
    answer = client.post(
        f"/staff/c/{A}/collect/c1/note", data={"csrf_token": token(page), "text": "Left a voicemail"}
    )
    assert answer.status_code == 303, answer.text[:300]
    assert answer.headers["location"] == f"/staff/c/{A}/collect/c1?ok=note"
    with ctx.db.transaction() as s:
        bodies = [a.body for a in collections.history(s, A, "c1")]
    assert "Left a voicemail" in bodies


def test_the_collection_pages_are_console_pages_with_its_nav(ctx: Context) -> None:
    seed_company(ctx, A)
    with ctx.db.transaction() as s:
        ladder.assign(s, A, "c1", ANA, by="owner@northwind.test", now=ctx.clock())
    client = signed_in(ctx, ANA, {A: StaffRole.COLLECTOR})
    for path in (f"/staff/c/{A}/collect", f"/staff/c/{A}/collect/c1"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert 'href="/assets/staff.css"' in page.text and "portal.css" not in page.text
        assert f'<a href="/staff/c/{A}/invoices">Invoices</a>' in page.text  # the console's nav
        assert 'action="/staff/sign-out"' in page.text
        assert "Needs a person" not in page.text  # a collector's nav: no queue
    elsewhere = client.get(f"/staff/c/{A}/collect/nobody")
    assert elsewhere.status_code == 404 and "/assets/staff.css" in elsewhere.text
