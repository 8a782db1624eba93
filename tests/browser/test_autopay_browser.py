"""Autopay in real Chromium on a phone (390 px): the enrollment page shows the method, what will be
charged and when, and the authorisation; turning it on; then a notice's "turn off autopay" link
shows its confirmation page and turns autopay off with one press. Nothing scrolls sideways."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from autopay_scene import SKIP, autopay_scene
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import select

from syncd.store.models import AutopayEnrollment, MethodConsent

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def _fits(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width}px wide on a {PHONE['width']}px phone"


def test_enroll_then_turn_off_from_the_notice_on_a_phone(
    tmp_path: Path, browser_context_factory: Callable[[], BrowserContext], screenshots: Path
) -> None:
    with autopay_scene(tmp_path, enroll=False) as scene:
        loop = scene.loop
        page = browser_context_factory().new_page()
        page.set_viewport_size(PHONE)
        page.goto(f"{loop.ctx.links.url(scene.realm, scene.invoice_id)}/account")
        page.goto(f"{loop.url}/account/autopay")
        expect(page.get_by_role("heading", name="Automatic payments")).to_be_visible()
        expect(page.get_by_text("Visa ending 4242")).to_be_visible()
        expect(page.get_by_test_id("autopay-consent")).to_contain_text("I authorise")
        _fits(page)
        page.screenshot(path=str(screenshots / "enroll.png"), full_page=True)
        page.get_by_label("Limit per charge (optional)").fill("500")
        page.get_by_role("button", name="Turn on autopay").click()
        expect(page.get_by_role("alert")).to_contain_text("Tick the box")  # nothing without consent
        page.get_by_label("I agree").check()
        page.get_by_role("button", name="Turn on autopay").click()
        expect(page.get_by_test_id("autopay-on")).to_contain_text("Visa ending 4242")
        _fits(page)
        with loop.ctx.db.transaction() as s:
            enrollment = s.scalars(select(AutopayEnrollment)).one()
            consent = s.get(MethodConsent, enrollment.consent_reference)
            assert consent is not None and "HeadlessChrome" in (consent.user_agent or "")

        scene.cycle(days=2)
        [notice] = scene.emails("will charge")
        stop_link = SKIP.findall(notice.text)[1]
        page.goto(stop_link)
        expect(page.get_by_role("heading", name="Turn off autopay")).to_be_visible()
        _fits(page)
        page.screenshot(path=str(screenshots / "turn-off.png"), full_page=True)
        with loop.ctx.db.transaction() as s:
            assert s.scalars(select(AutopayEnrollment)).one().stopped_at is None  # a GET never acts
        page.get_by_role("button", name="Turn off autopay").click()
        expect(page.get_by_test_id("autopay-link-done")).to_contain_text("is off")
        with loop.ctx.db.transaction() as s:
            assert s.scalars(select(AutopayEnrollment)).one().stopped_at is not None
        assert [c.status for c in scene.charges()] == ["cancelled"]
