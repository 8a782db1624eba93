"""The collector pages: who sees which account, CSRF on every form, and what each form records."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from collect_app import ANA, SignedIn, collect_app, overdue_account
from loop_harness import Loop, running_loop
from sqlalchemy import select
from starlette.exceptions import StarletteDeprecationWarning

from syncd.store import collections
from syncd.store.models import Effect, OfflinePayment

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
REQUEST = re.compile(r'name="request_id" value="([^"]+)"')


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[tuple[Loop, SignedIn, TestClient, dict[str, Any]]]:
    with running_loop(tmp_path, invoices=0, timezone="UTC") as loop:
        signed_in = SignedIn()
        client = TestClient(collect_app(loop, signed_in))
        account = overdue_account(loop)
        yield loop, signed_in, client, account


def forms(html: str) -> dict[str, str]:
    """Each account form's action tail and its CSRF token (the console's own forms, such as
    Sign out, are not the account's)."""
    found = re.findall(r'<form[^>]*action="[^"]*/collect/[^/"]+/([a-z]+)"(.*?)</form>', html, re.S)
    return {action: TOKEN.findall(body)[0] for action, body in found}  # one token, in every form


def test_each_member_sees_only_what_their_role_allows(desk: Any) -> None:
    loop, signed_in, client, account = desk
    base = f"/staff/c/{loop.realm}/collect"
    page = f"{base}/{account['customer_id']}"
    signed_in.as_(None)
    assert client.get(base).status_code == 403
    signed_in.as_(ANA)
    listing = client.get(base)
    assert listing.status_code == 200 and "$180.00" in listing.text and account["customer_id"] in listing.text
    assert client.get(page).status_code == 200
    signed_in.as_("ben@northwind.test")  # another collector: neither listed nor reachable
    assert account["customer_id"] not in client.get(base).text
    assert client.get(page).status_code == 404
    signed_in.as_("books@northwind.test")  # the bookkeeper reads, never acts
    shown = client.get(page)
    assert shown.status_code == 200 and not forms(shown.text) and "Open invoices" in shown.text
    signed_in.as_(ANA)
    token = forms(client.get(page).text)["note"]
    signed_in.as_("books@northwind.test")
    assert client.post(f"{page}/note", data={"csrf_token": token, "text": "x"}).status_code == 403
    other = f"/staff/c/other-realm/collect/{account['customer_id']}"
    signed_in.as_(ANA)
    assert client.get(other).status_code == 403  # no role in that company


def test_forms_record_once_with_csrf(desk: Any) -> None:
    loop, signed_in, client, account = desk
    signed_in.as_(ANA)
    page = f"/staff/c/{loop.realm}/collect/{account['customer_id']}"
    html = client.get(page).text
    tokens = forms(html)
    assert set(tokens) == {"call", "promise", "payment", "note"}
    refused = client.post(f"{page}/note", data={"csrf_token": "1.x", "text": "called twice"})
    assert refused.status_code == 403
    noted = client.post(f"{page}/note", data={"csrf_token": tokens["note"], "text": "<b>left a message</b>"})
    assert noted.status_code == 200 and "Note saved." in noted.text
    assert "&lt;b&gt;left a message&lt;/b&gt;" in noted.text  # escaped
    promised_on = (datetime.now(UTC).date() + timedelta(days=7)).isoformat()
    wrong = client.post(
        f"{page}/promise", data={"csrf_token": tokens["promise"], "on": promised_on, "amount": "lots"}
    )
    assert wrong.status_code == 400 and "the amount must be a number like 120.00" in wrong.text
    promised = client.post(
        f"{page}/promise", data={"csrf_token": tokens["promise"], "on": promised_on, "amount": "90"}
    )
    assert "reminders pause until that date" in promised.text
    payment = {
        "csrf_token": tokens["payment"],
        "request_id": REQUEST.findall(html)[0],
        "invoice_id": account["invoice_id"],
        "method": "check",
        "amount": "180.00",
        "reference": "CHK 77",
    }
    assert "Payment recorded" in client.post(f"{page}/payment", data=payment).text
    client.post(f"{page}/payment", data=payment)  # sent twice
    loop.drain()
    with loop.ctx.db.transaction() as s:
        assert len(s.scalars(select(OfflinePayment)).all()) == 1
        assert len(s.scalars(select(Effect).where(Effect.kind == "qbo.offline_payment")).all()) == 1
        kinds = [a.kind for a in collections.history(s, loop.realm, account["customer_id"])]
    assert kinds == ["payment", "promise", "note", "assigned"]
    assert len([p for p in loop.qbo.entities("Payment") if p.get("PaymentRefNum") == "CHK 77"]) == 1
