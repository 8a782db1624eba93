"""STOP typed on the Twilio simulator's phone page, on a 390 px phone: syncd opts the number out
at once, the text already queued for it is dropped, and the phone shows the confirmation."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext
from texting import CUSTOMER, PHONE, REALM, T0, consent, send_texts, texting_world

from syncd.stages.texts import TextOutcome, queue_text
from syncd.store.models import TextNumber, TextRow

pytestmark = pytest.mark.browser

SCREEN = {"width": 390, "height": 844}


def test_stop_on_the_phone_page_stops_the_queued_text(
    tmp_path: Path, browser_context_factory: Callable[[], BrowserContext]
) -> None:
    with texting_world(tmp_path) as world:
        consent(world.ctx)
        world.sim.text_from(PHONE, "HELP")  # the phone's thread exists, with syncd's HELP answer
        with world.ctx.db.transaction() as s:
            queued = queue_text(
                s,
                company_id=REALM,
                customer_id=CUSTOMER,
                purpose="reminder",
                ref="1042-3",
                body="Pay now",
                now=T0,
            )
        assert queued is TextOutcome.QUEUED
        page = browser_context_factory().new_page()
        page.set_viewport_size(SCREEN)
        page.goto(world.sim.phone_url(PHONE))
        assert "Reply STOP to end texts" in page.inner_text("#thread")
        assert page.evaluate("document.documentElement.scrollWidth") <= SCREEN["width"]
        page.fill("input[name=body]", "STOP")
        page.click("button[type=submit]")
        page.wait_for_selector("text=you will get no more texts")
        with world.ctx.db.transaction() as s:
            number = s.get(TextNumber, (REALM, CUSTOMER))
            assert number is not None and number.opted_out_at is not None
        assert send_texts(world.ctx) == 1
        page.reload()
        assert "Pay now" not in page.inner_text("#thread")
        assert [m for m in world.sim.sent_to(PHONE) if m.direction == "outbound-api"] == []
        with world.ctx.db.transaction() as s:
            row = s.get(TextRow, f"sms:{REALM}:reminder:1042-3")
            assert row is not None and row.status == "dropped"
