"""The queue's "Write-offs to approve" in Chromium on a 390 px phone: a bookkeeper approves a
small debt after its confirmation, and the QBO entry is queued once."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select
from staff_console import PASSWORD, A, Clock, add_person, cheap_hashing, console_context, small_debt

from connectors.serving import ThreadedServer
from syncd.context import Context
from syncd.domain.staff import StaffRole
from syncd.store.models import Effect, WriteOff
from syncd.web.app import create_app

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext

BOOKS = "books@firm.test"


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Context, str, int]]:
    patch = pytest.MonkeyPatch()
    cheap_hashing(patch)
    contexts = console_context(tmp_path_factory.mktemp("staff-writeoffs"), Clock())
    ctx = next(contexts)
    proposed = small_debt(ctx)
    add_person(ctx, BOOKS, {A: StaffRole.BOOKKEEPER})
    with ThreadedServer(create_app(ctx)) as server:
        yield ctx, server.url, proposed
    contexts.close()
    patch.undo()


def test_a_bookkeeper_approves_a_write_off_on_a_phone(
    browser_context_factory: Callable[[], BrowserContext],
    console: tuple[Context, str, int],
    screenshots: Path,
) -> None:
    ctx, url, proposed = console
    page = browser_context_factory().new_page()
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{url}/staff")
    page.fill("#email", BOOKS)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/staff")
    page.goto(f"{url}/staff/c/{A}/queue")
    assert page.evaluate("document.documentElement.scrollWidth") <= 391  # nothing wider than the phone
    item = page.locator(f"li[data-writeoff='{proposed}']")
    assert "Blue Bottle Bakery" in item.inner_text() and "$45.00" in item.inner_text()
    page.screenshot(path=str(screenshots / "writeoffs-phone.png"))
    item.locator("button", has_text="Approve").click()
    page.wait_for_selector("text=Please confirm")
    page.click("text=Yes, do it")
    page.wait_for_selector(f"text=Write-off {proposed} approved")
    with ctx.db.transaction() as s:
        row = s.get(WriteOff, proposed)
        assert row is not None and (row.status, row.decided_by) == ("approved", BOOKS)
        assert len(s.scalars(select(Effect).where(Effect.kind == "qbo.write_off")).all()) == 1
    page.goto(f"{url}/staff/c/{A}/queue")
    assert page.locator(f"li[data-writeoff='{proposed}']").count() == 0
