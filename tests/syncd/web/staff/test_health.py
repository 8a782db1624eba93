"""The health page's connections: QuickBooks, Stripe, email and, only for a company that texts,
Twilio, with the reason a text was refused and what to do about it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from staff_console import A, B, Clock, console_context, signed_in

from syncd.context import Context
from syncd.domain.staff import StaffRole
from syncd.store import effects

SMS = {
    "enabled": True,
    "account_sid": "AC" + "0" * 32,
    "auth_token": "token",
    "from_number": "+12025550100",
}


@pytest.fixture
def texting(tmp_path: Path, clock: Clock) -> Iterator[Context]:
    yield from console_context(tmp_path, clock, companies=[{"realm_id": A, "sms": SMS}, {"realm_id": B}])


def _text(ctx: Context, key: str, status: str, *, minutes: int, error: str | None = None) -> None:
    now = ctx.clock() + timedelta(minutes=minutes)
    with ctx.db.transaction() as s:
        effects.insert(s, key=key, kind="sms.message", company_id=A, payload={}, now=now)
    with ctx.db.transaction() as s:
        row = effects.get(s, key)
        assert row is not None
        row.status, row.done_at, row.last_error = status, now, error


def _twilio_row(html: str) -> str:
    start = html.find("<td>Texts (Twilio)</td>")
    assert start >= 0, "no Twilio line"
    return html[start : html.find("</tr>", start)]


def test_twilio_shows_only_for_a_company_that_texts(texting: Context) -> None:
    client = signed_in(texting, "owner@firm.test", {A: StaffRole.OWNER, B: StaffRole.OWNER})
    other = client.get(f"/staff/c/{B}")
    assert other.status_code == 200 and "Twilio" not in other.text
    for service in ("QuickBooks", "Stripe", "Email (SMTP)"):
        assert f"<td>{service}</td>" in other.text
    row = _twilio_row(client.get(f"/staff/c/{A}").text)
    assert ">OK<" in row and "no text sent yet" in row


def test_twilio_reason_and_fix_follow_the_latest_text(texting: Context) -> None:
    client = signed_in(texting, "books@firm.test", {A: StaffRole.BOOKKEEPER})
    _text(texting, "sms:1", "done", minutes=1)
    row = _twilio_row(client.get(f"/staff/c/{A}").text)
    assert ">OK<" in row and "last text accepted" in row

    refused = "Twilio 401 20003: Authenticate: check [company.sms] account_sid and auth_token"
    _text(texting, "sms:2", "failed", minutes=2, error=refused)
    row = _twilio_row(client.get(f"/staff/c/{A}").text)
    assert "Needs a person" in row and "20003" in row
    assert "correct [company.sms] account_sid and auth_token" in row and "Retry" in row

    _text(texting, "sms:3", "failed", minutes=3, error="Twilio 400 21408: Permission to send to this region")
    row = _twilio_row(client.get(f"/staff/c/{A}").text)
    assert "21408" in row and "under Needs a person" in row and "auth_token" not in row

    _text(texting, "sms:4", "done", minutes=4)  # the cause was fixed: texts go through again
    row = _twilio_row(client.get(f"/staff/c/{A}").text)
    assert ">OK<" in row
