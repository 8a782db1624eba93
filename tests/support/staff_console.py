"""The staff console under test: a migrated store with two companies, the assembled app, people
with a role, and signing them in over HTTP (TestClient or any httpx-like client)."""

from __future__ import annotations

import dataclasses
import re
import shutil
import tempfile
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyotp
import pytest
from argon2 import PasswordHasher
from starlette.exceptions import StarletteDeprecationWarning

from syncd.bootstrap import build_context
from syncd.companies import ensure_companies
from syncd.config import parse
from syncd.context import Context
from syncd.domain.staff import StaffRole
from syncd.secrets import SecretBox
from syncd.store import effects, migrate
from syncd.store import staff as roster
from syncd.store.engine import Database
from syncd.store.models import CreditHold, CustomerRow, InvoiceRow, StaffUser, WriteOff
from syncd.web.app import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

A, B = "111", "222"  # two companies; people get roles in one or both
PASSWORD = "correct horse battery staple"
NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


# argon2 at its production cost takes a second or more on a busy test machine; the tests check
# what is hashed and when, not how hard, so they hash at the lowest cost argon2 allows.
CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def cheap_hashing(patch: pytest.MonkeyPatch) -> None:
    patch.setattr(roster, "HASHER", CHEAP)
    patch.setattr(roster, "_DUMMY_HASH", CHEAP.hash("unknown"))


def console_settings(
    tmp_path: Path,
    database_url: str | None = None,
    public_url: str = "http://testserver",
    companies: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "secret_key": SecretBox.generate(),
        "database": {"url": database_url or f"sqlite:///{tmp_path / 'syncd.db'}"},
        "web": {"public_url": public_url},
        "quickbooks": {"client_id": "c", "client_secret": "s", "webhook_verifier_token": "verifier"},
        "stripe": {"api_key": "sk_test_123", "webhook_secret": "whsec_test"},
        "company": companies or [{"realm_id": A}, {"realm_id": B}],
    }


@dataclass
class Clock:
    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


_MIGRATED: list[Path] = []  # one migrated SQLite file per test session, copied for each test


def _migrated_copy(target: Path) -> None:
    if not _MIGRATED:
        template = Path(tempfile.mkdtemp(prefix="syncd-staff-")) / "template.db"
        db = Database(f"sqlite:///{template}")
        migrate.upgrade(db)
        db.dispose()  # the last connection closing folds the WAL into the file
        _MIGRATED.append(template)
    shutil.copyfile(_MIGRATED[0], target)


def console_context(
    tmp_path: Path,
    clock: Clock,
    database_url: str | None = None,
    public_url: str = "http://testserver",
    companies: list[dict[str, Any]] | None = None,
) -> Iterator[Context]:
    """``public_url``: the console's address (passkeys are for its host, which cannot be an IP);
    ``companies``: the ``[[company]]`` tables (A and B, configured by default)."""
    if database_url is None:
        _migrated_copy(tmp_path / "syncd.db")
    ctx = build_context(parse(console_settings(tmp_path, database_url, public_url, companies)))
    ctx.clock = clock
    if database_url is not None:
        migrate.upgrade(ctx.db)
    ensure_companies(ctx)
    yield ctx
    ctx.db.dispose()


def client_for(ctx: Context, **kwargs: Any) -> TestClient:
    return TestClient(create_app(ctx), follow_redirects=False, **kwargs)


def add_person(ctx: Context, email: str, roles: dict[str, StaffRole], *, temporary: bool = False) -> str:
    """A person with ``roles``; returns their password (``PASSWORD`` unless ``temporary``)."""
    password = PASSWORD
    with ctx.db.transaction() as s:
        for company, role in roles.items():
            _user, given = roster.add(s, email, company_id=company, role=role, name=None, now=ctx.clock())
            password = given or password
        user = roster.find(s, email)
        assert user is not None
        if not temporary:
            user.password_hash = roster.hash_password(PASSWORD)
            user.password_temporary = False
            password = PASSWORD
    return password


def fresh_code(ctx: Context, email: str, secret: str) -> str:
    """A TOTP code the console has not accepted yet for ``email`` (each code is good once): the
    current step or, when that was used, the next (waiting for time to move on if need be)."""
    with ctx.db.transaction() as s:
        user = roster.find(s, email)
        assert user is not None
        last = user.totp_last_step
    totp = pyotp.TOTP(secret)
    while True:
        current = int(time.time()) // totp.interval
        step = current if last is None else max(current, last + 1)  # not the last step: it may pass
        if step <= current + 1:
            return totp.at(step * totp.interval)
        time.sleep(1)


def token(page: Any) -> str:
    found = CSRF.search(page.text)
    assert found, page.text[:500]
    return found.group(1)


def sign_in(client: Any, email: str, password: str = PASSWORD) -> Any:
    form = client.get("/staff/sign-in")
    return client.post(
        "/staff/sign-in", data={"csrf_token": token(form), "email": email, "password": password}
    )


def signed_in(ctx: Context, email: str, roles: dict[str, StaffRole], **kwargs: Any) -> TestClient:
    add_person(ctx, email, roles)
    client = client_for(ctx, **kwargs)
    answer = sign_in(client, email)
    assert answer.status_code == 303 and answer.headers["location"] == "/staff", answer.text[:300]
    return client


def user_row(ctx: Context, email: str) -> StaffUser:
    with ctx.db.transaction() as s:
        user = roster.find(s, email)
        assert user is not None
        s.expunge(user)
        return user


def seed_company(ctx: Context, realm: str, *, invoices: int = 3, today: date | None = None) -> None:
    """A customer with ``invoices`` invoices (the first overdue), a failed effect and a credit hold."""
    now = ctx.clock()
    day = today or now.date()
    with ctx.db.transaction() as s:
        s.add(
            CustomerRow(
                company_id=realm,
                qbo_id="c1",
                display_name="Blue Bottle Bakery",
                email="bb@example.com",
                currency="USD",
                updated_at=now,
            )
        )
        for n in range(invoices):
            s.add(
                InvoiceRow(
                    company_id=realm,
                    qbo_id=f"{n + 1}",
                    doc_number=f"INV-{n + 1}",
                    customer_id="c1",
                    customer_name="Blue Bottle Bakery",
                    currency="USD",
                    txn_date=day - timedelta(days=40),
                    due_date=day + timedelta(days=-10 if n == 0 else 20),
                    total=Decimal("100.00"),
                    balance=Decimal("100.00"),
                    tax=Decimal(0),
                    lines=[],
                    status="open",
                    sync_token="0",
                    qbo_updated_at=now,
                    mirrored_at=now,
                )
            )
        s.add(CreditHold(company_id=realm, customer_id="c1", seq=1, placed_at=now, strikes_at_placement=2))
        effects.insert(
            s, key=f"test:failed:{realm}", kind="email.staff", company_id=realm, payload={}, now=now
        )
    with ctx.db.transaction() as s:
        row = effects.get(s, f"test:failed:{realm}")
        assert row is not None
        row.status = "failed"
        row.last_error = "550 mailbox unavailable"
        row.done_at = now


def small_debt(ctx: Context) -> int:
    """Company A's customer owes 45.00 overdue past the last step, proposed for write-off."""
    company = ctx.settings.company(A)
    collections = company.collections.model_copy(
        update={"write_off_below": Decimal("50"), "write_off_item": "9"}
    )
    companies = tuple(
        c.model_copy(update={"collections": collections}) if c.realm_id == A else c
        for c in ctx.settings.companies
    )
    ctx.settings = dataclasses.replace(ctx.settings, companies=companies)
    seed_company(ctx, A, invoices=1)
    with ctx.db.transaction() as s:
        invoice = s.get(InvoiceRow, (A, "1"))
        assert invoice is not None
        invoice.balance = Decimal("45.00")
        row = WriteOff(
            company_id=A,
            customer_id="c1",
            amount=Decimal("45.00"),
            currency="USD",
            status="proposed",
            proposed_at=ctx.clock(),
        )
        s.add(row)
        s.flush()
        return row.id
