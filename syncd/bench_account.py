"""``syncd bench`` figures of the customer account: the account page of a customer with 500
invoices (median time over HTTP, database queries per page) and sign-in link asked → email in the
mailbox, over the demo (both simulators, SMTP sink, the real app on loopback)."""

from __future__ import annotations

import re
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import event, select

from syncd.bench_loop import wait_payable, wait_quiet
from syncd.demo import start_demo
from syncd.stages.account import AccountService
from syncd.store.models import CustomerRow, InvoiceRow

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_LINK = re.compile(r"(https?://\S+/account/link/[A-Za-z0-9_-]+)")


@contextmanager
def _counting(engine: Any) -> Iterator[list[str]]:
    statements: list[str] = []
    # The daemon's jobs keep using the engine meanwhile: count this thread's statements only.
    measuring = threading.get_ident()

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        # Transaction control and SQLite's per-connection pragmas are not queries of the page.
        if threading.get_ident() != measuring:
            return
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "PRAGMA")):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", note)


def _customer_with(handle: Any, realm: str, invoices: int, email: str, timeout: float = 120.0) -> str:
    """Give one customer ``invoices`` open invoices in QBO, wait until syncd mirrored them, and
    set the mirrored billing email to ``email``."""
    ctx = handle.ctx
    with ctx.db.transaction() as s:
        model = s.scalars(select(InvoiceRow).where(InvoiceRow.company_id == realm)).first()
        if model is None:
            raise RuntimeError("the demo mirrored no invoices")
        customer_id = str(model.customer_id)
    for n in range(invoices):
        handle.qbo.add_invoice(customer_id, Decimal("100.00") + n)
    ctx.wake("pull", realm)
    deadline = time.monotonic() + timeout
    while True:
        with ctx.db.transaction() as s:
            mirrored = len(
                list(
                    s.scalars(
                        select(InvoiceRow.qbo_id).where(
                            InvoiceRow.company_id == realm,
                            InvoiceRow.customer_id == customer_id,
                            InvoiceRow.status.in_(["open", "partial"]),
                        )
                    )
                )
            )
            if mirrored >= invoices:
                customer = s.get(CustomerRow, (realm, customer_id))
                assert customer is not None
                customer.email = email
                return customer_id
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {mirrored} of {invoices} invoices were mirrored in time")
        time.sleep(0.2)


def _sign_in(url: str, email: str, mailbox: Any) -> tuple[requests.Session, float]:
    """A browser asking for a link and using it; returns it signed in and the ask → mail time."""
    browser = requests.Session()
    form = browser.get(f"{url}/account/sign-in", timeout=10)
    before = len(mailbox)
    csrf = _CSRF.search(form.text)
    assert csrf is not None
    started = time.perf_counter()
    browser.post(f"{url}/account/sign-in", data={"csrf_token": csrf.group(1), "email": email}, timeout=10)
    if not mailbox.wait_for(before + 1, timeout=10):
        raise RuntimeError("no sign-in email arrived")
    elapsed = time.perf_counter() - started
    link = _LINK.search(mailbox.all()[0].text or "")
    assert link is not None
    page = browser.get(link.group(1), timeout=10)
    csrf = _CSRF.search(page.text)
    assert csrf is not None
    browser.post(link.group(1), data={"csrf_token": csrf.group(1)}, timeout=10, allow_redirects=False)
    return browser, elapsed


def bench_account(invoices: int = 500, pages: int = 30, sign_ins: int = 3) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="syncd-bench-") as state:
        handle = start_demo(port=0, invoices=40, state_dir=Path(state), intervals={})
        try:
            realm = handle.qbo.realm_id
            wait_payable(handle.ctx, realm, 1, timeout=60)
            # Measure the account, not the first pull's backlog of emails and link write-backs.
            wait_quiet(handle.ctx, timeout=120)
            _customer_with(handle, realm, invoices, "bench@customer.test")
            mail_times = []
            browser: requests.Session | None = None
            # Three asks: the most one address may make in the rate-limit window.
            for _ in range(sign_ins):
                browser, elapsed = _sign_in(handle.url, "bench@customer.test", handle.mailbox)
                mail_times.append(elapsed)
            assert browser is not None
            times = []
            for _ in range(pages):
                started = time.perf_counter()
                page = browser.get(f"{handle.url}/account", timeout=10, allow_redirects=False)
                times.append(time.perf_counter() - started)
                if page.status_code != 200:
                    raise RuntimeError(f"account page answered {page.status_code}")
            rows = page.text.count('name="invoice"')
            sid = next(str(c.value) for c in browser.cookies if c.name == "syncd_account")
            service = AccountService(handle.ctx)
            with _counting(handle.ctx.db.engine) as statements:
                service.account(sid)
        finally:
            handle.stop()
    return {
        "invoices_on_page": rows,
        "page_median_ms": round(statistics.median(times) * 1000, 1),
        "page_max_ms": round(max(times) * 1000, 1),
        "queries_per_page": sum(1 for q in statements if q.lstrip().upper().startswith("SELECT")),
        # At most once a minute a page also notes the session's last use (one UPDATE).
        "writes_per_page": sum(1 for q in statements if not q.lstrip().upper().startswith("SELECT")),
        "sign_in_email_median_s": round(statistics.median(mail_times), 3),
        "sign_in_email_max_s": round(max(mail_times), 3),
    }
