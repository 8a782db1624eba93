"""Redraw the README's staff console screenshots: `python tests/browser/staff_screenshots.py`.

Two companies of an accounting firm over a throwaway store, signed in as their owner in Debian's
chromium: the overview on a desktop, the needs-a-person queue on a 390 px phone, the aging report
in the console on a desktop and, on a phone, the split an installment plan made from a customer's
page shows before it is confirmed, written to docs/images/ (each kept under 150 KB)."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "support"))
sys.path.insert(0, str(ROOT / "tests" / "browser"))

from conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from playwright.sync_api import Page, sync_playwright  # noqa: E402
from staff_console import PASSWORD, A, B, Clock, add_person, console_context, seed_company  # noqa: E402

from connectors.serving import ThreadedServer  # noqa: E402
from syncd.companies import CompanyStatus, set_status  # noqa: E402
from syncd.domain.staff import StaffRole  # noqa: E402
from syncd.store.models import Company  # noqa: E402
from syncd.web.app import create_app  # noqa: E402

IMAGES = ROOT / "docs" / "images"
LIMIT = 150_000


def plan_split(page: Page) -> None:
    """From the customer page: a plan over INV-3, asked (its split shown), not yet made."""
    page.select_option("#plan-invoice", "3")
    page.fill("#plan-down", "25.00")
    page.fill("#plan-count", "3")
    page.select_option("#plan-every", "2weeks")
    page.get_by_role("button", name="Make a plan").click()
    page.wait_for_selector("table.split")


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        contexts = console_context(Path(tmp), Clock())
        ctx = next(contexts)
        seed_company(ctx, A, invoices=12)
        seed_company(ctx, B, invoices=4)
        with ctx.db.transaction() as s:
            for realm, name in ((A, "Northwind Alarm Co"), (B, "Blue Harbor Cleaning")):
                row = s.get(Company, realm)
                assert row is not None
                row.name = name
        set_status(ctx, B, CompanyStatus.PAUSED, "Stripe refused syncd's API key")
        add_person(ctx, "ann@firm.example", {A: StaffRole.OWNER, B: StaffRole.BOOKKEEPER})
        with ThreadedServer(create_app(ctx)) as server, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            shots = [
                ("staff-overview.png", 1100, "/staff", None),
                ("staff-queue-phone.png", 390, f"/staff/c/{A}/queue", None),
                ("staff-report-aging.png", 1100, f"/staff/c/{A}/reports/aging", None),
                ("staff-plan-split-phone.png", 390, f"/staff/c/{A}/customers/c1", plan_split),
            ]
            for name, width, path, act in shots:
                page = browser.new_context(viewport={"width": width, "height": 760}).new_page()
                page.goto(f"{server.url}/staff/sign-in")
                page.fill("#email", "ann@firm.example")
                page.fill("#password", PASSWORD)
                page.click("main button[type=submit]")
                page.goto(f"{server.url}{path}")
                if act is not None:
                    act(page)
                target = IMAGES / name
                page.screenshot(path=str(target))
                size = target.stat().st_size
                print(f"{target.relative_to(ROOT)}: {size // 1000} KB")
                if size > LIMIT:
                    print(f"  over {LIMIT // 1000} KB: make the page shorter", file=sys.stderr)
                    return 1
            browser.close()
        contexts.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
