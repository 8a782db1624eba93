"""The staff console in Chromium, on a desktop and on a 390 px phone: sign-in with a TOTP code,
each role seeing only what it may, the needs-a-person queue retrying a failed effect and
releasing a hold (each after its confirmation), switching companies, a passkey registered
from the console then signing in (Chromium's virtual authenticator over CDP), and on a phone an
installment plan made (its split shown first) and a card hold released from a customer's page."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyotp
import pytest
from sqlalchemy import select
from staff_console import (
    PASSWORD,
    A,
    B,
    Clock,
    add_person,
    cheap_hashing,
    console_context,
    fresh_code,
    seed_company,
)

from connectors.serving import ThreadedServer
from syncd.context import Context
from syncd.domain.staff import StaffRole
from syncd.store import effects, staff_passkeys
from syncd.store import holds as credit_holds
from syncd.store import staff as roster
from syncd.store.models import CardAuthorizationRow, InstallmentPlan
from syncd.web.app import create_app

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

SECRET = pyotp.random_base32()
VIEWPORTS = {"desktop": {"width": 1200, "height": 900}, "phone": {"width": 390, "height": 844}}


class _Late:
    """The app, set once the server has its port (the console's address names the port)."""

    app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Context, str]]:
    patch = pytest.MonkeyPatch()
    cheap_hashing(patch)
    late = _Late()
    server = ThreadedServer(late)
    # WebAuthn refuses an IP address as its relying party: the browser calls the console localhost.
    url = server.url.replace("127.0.0.1", "localhost")
    contexts = console_context(tmp_path_factory.mktemp("staff"), Clock(), public_url=url)
    ctx = next(contexts)
    seed_company(ctx, A)
    seed_company(ctx, B)
    add_person(ctx, "owner@firm.test", {A: StaffRole.OWNER, B: StaffRole.BOOKKEEPER})
    with ctx.db.transaction() as s:
        user = roster.find(s, "owner@firm.test")
        assert user is not None
        roster.seal_totp(user, ctx.box, SECRET)
        user.totp_confirmed = True
    add_person(ctx, "reader@firm.test", {A: StaffRole.READ_ONLY})
    add_person(ctx, "collector@firm.test", {A: StaffRole.COLLECTOR})
    for viewport in VIEWPORTS:
        add_person(ctx, f"keys-{viewport}@firm.test", {A: StaffRole.BOOKKEEPER})
    late.app = create_app(ctx)
    with server:
        yield ctx, url
    contexts.close()
    patch.undo()


def sign_in(page: Page, console: tuple[Context, str], email: str) -> None:
    ctx, url = console
    page.goto(f"{url}/staff")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("main form button[type=submit]")
    if email == "owner@firm.test":
        page.wait_for_url(f"{url}/staff/totp")
        page.fill("#code", fresh_code(ctx, email, SECRET))  # each code signs in once
        page.click("main button[type=submit]")
    page.wait_for_url(f"{url}/staff")


def open_page(factory: Callable[[], BrowserContext], viewport: str) -> Page:
    page = factory().new_page()
    page.set_viewport_size(VIEWPORTS[viewport])  # type: ignore[arg-type]
    return page


def fits(page: Page) -> None:
    """Nothing wider than the screen (a table may scroll inside its card)."""
    size = page.viewport_size
    assert size is not None
    assert page.evaluate("document.documentElement.scrollWidth") <= size["width"] + 1


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_sign_in_with_totp_and_switch_company(
    browser_context_factory: Callable[[], BrowserContext],
    console: tuple[Context, str],
    viewport: str,
    screenshots: Path,
) -> None:
    _ctx, url = console
    page = open_page(browser_context_factory, viewport)
    sign_in(page, console, "owner@firm.test")
    assert page.locator("[data-company]").count() == 2
    fits(page)
    page.click(f"a[href='/staff/c/{A}']")
    page.select_option("#company-switch", B)
    page.click(".switch button")
    page.wait_for_url(f"{url}/staff/c/{B}")
    assert "Connections" in page.content()
    page.screenshot(path=str(screenshots / f"switched-{viewport}.png"))


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_each_role_sees_only_its_pages(
    browser_context_factory: Callable[[], BrowserContext], console: tuple[Context, str], viewport: str
) -> None:
    _ctx, url = console
    reader = open_page(browser_context_factory, viewport)
    sign_in(reader, console, "reader@firm.test")
    reader.goto(f"{url}/staff/c/{A}/queue")
    assert reader.locator("#failed li").count() >= 1
    assert reader.locator("button", has_text="Retry").count() == 0
    assert reader.locator("nav.tabs a", has_text="Activity").count() == 0
    assert reader.locator("nav.reports a").count() == 6  # every report, read-only
    fits(reader)

    collector = open_page(browser_context_factory, viewport)
    sign_in(collector, console, "collector@firm.test")
    collector.goto(f"{url}/staff/c/{A}")
    collector.wait_for_url(f"{url}/staff/c/{A}/invoices")
    tabs = collector.locator("nav.tabs").inner_text()
    assert "Invoices" in tabs and "Needs a person" not in tabs and "Health" not in tabs
    assert collector.locator("nav.reports").count() == 0
    answer = collector.goto(f"{url}/staff/c/{A}/queue")
    assert answer is not None and answer.status == 403
    fits(collector)


def test_queue_retries_a_failed_effect_and_releases_a_hold(
    browser_context_factory: Callable[[], BrowserContext], console: tuple[Context, str], screenshots: Path
) -> None:
    ctx, url = console
    for viewport, realm in (("desktop", A), ("phone", B)):
        page = open_page(browser_context_factory, viewport)
        sign_in(page, console, "owner@firm.test")
        page.goto(f"{url}/staff/c/{realm}/queue")
        fits(page)
        page.locator(f"li[data-key='test:failed:{realm}'] button", has_text="Retry").click()
        page.wait_for_selector("text=Please confirm")
        page.click("text=Yes, do it")
        page.wait_for_selector("text=Queued again")
        with ctx.db.transaction() as s:
            row = effects.get(s, f"test:failed:{realm}")
            assert row is not None and row.status == "pending"
        page.goto(f"{url}/staff/c/{realm}/queue")
        page.locator("li[data-customer='c1'] button", has_text="Release").click()
        page.click("text=Yes, do it")
        page.wait_for_selector("text=Released")
        with ctx.db.transaction() as s:
            assert credit_holds.active(s, realm, "c1") is None
        page.screenshot(path=str(screenshots / f"released-{viewport}.png"))


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_register_a_passkey_then_sign_in_with_it(
    browser_context_factory: Callable[[], BrowserContext],
    console: tuple[Context, str],
    viewport: str,
    screenshots: Path,
) -> None:
    from playwright.sync_api import expect

    ctx, url = console
    email = f"keys-{viewport}@firm.test"
    page = open_page(browser_context_factory, viewport)
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    authenticator: dict[str, Any] = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    sign_in(page, console, email)
    page.get_by_role("link", name="Passkeys").click()
    expect(page.locator("#passkey-count")).to_have_text("Passkeys: 0")
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.locator("#passkey-count")).to_have_text("Passkeys: 1")
    stored = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator["authenticatorId"]})
    assert len(stored["credentials"]) == 1
    fits(page)
    page.screenshot(path=str(screenshots / f"passkeys-{viewport}.png"))

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{url}/staff/sign-in")
    page.get_by_role("button", name="Sign in with a passkey").click()
    page.wait_for_url(f"{url}/staff")
    expect(page.locator(f"[data-company='{A}']")).to_be_visible()
    with ctx.db.transaction() as s:
        user = roster.find(s, email)
        assert user is not None
        [key] = staff_passkeys.keys_of(s, user.id)
        assert key.last_used_at is not None

    page.goto(f"{url}/staff/passkeys")
    page.locator("ul.passkeys button", has_text="Remove").click()
    page.click("text=Yes, do it")
    expect(page.locator("#passkey-count")).to_have_text("Passkeys: 0")


def test_make_a_plan_and_release_a_card_hold_from_the_customer_page_on_a_phone(
    browser_context_factory: Callable[[], BrowserContext], console: tuple[Context, str], screenshots: Path
) -> None:
    ctx, url = console
    now = ctx.clock()
    with ctx.db.transaction() as s:
        s.add(
            CardAuthorizationRow(
                id="auth_phone",
                company_id=A,
                customer_id="c1",
                amount=Decimal("150.00"),
                currency="USD",
                note="Site visit",
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
    page = open_page(browser_context_factory, "phone")
    sign_in(page, console, "owner@firm.test")
    page.goto(f"{url}/staff/c/{A}/customers/c1")
    fits(page)

    page.select_option("#plan-invoice", "3")
    page.fill("#plan-down", "25.00")
    page.fill("#plan-count", "3")
    page.select_option("#plan-every", "2weeks")
    page.get_by_role("button", name="Make a plan").click()
    split = page.locator("table.split").inner_text()  # the exact split, before anything is made
    assert "Down payment" in split and "$25.00" in split and split.count("$25.00") == 4
    fits(page)
    page.screenshot(path=str(screenshots / "plan-split.png"), full_page=True)
    page.click("text=Yes, do it")
    assert "Plan made" in page.get_by_role("status").inner_text()
    assert "Installment 3" in page.locator("#installment-plans").inner_text()

    page.locator("li[data-hold='auth_phone'] button", has_text="Release").click()
    page.click("text=Yes, do it")
    assert "Release queued" in page.get_by_role("status").inner_text()
    assert "releasing" in page.locator("li[data-hold='auth_phone']").inner_text()
    fits(page)
    page.screenshot(path=str(screenshots / "customer-phone.png"), full_page=True)
    with ctx.db.transaction() as s:
        plan = s.scalars(select(InstallmentPlan).where(InstallmentPlan.invoice_id == "3")).one()
        assert (plan.customer_id, plan.every, plan.status) == ("c1", "2weeks", "active")
        held = s.get(CardAuthorizationRow, "auth_phone")
        assert held is not None and held.status == "releasing"
