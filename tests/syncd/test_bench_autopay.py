"""``syncd bench --autopay``: every enrolled charge gets one notice, then, on the due day, one
charge over both simulators, within Stripe's rate limits as the simulator enforces them."""

from __future__ import annotations

import pytest

from syncd.bench_autopay import bench_autopay

pytestmark = pytest.mark.timeout(300)


def test_every_charge_gets_one_notice_then_one_charge_on_the_due_day() -> None:
    figures = bench_autopay(20)
    assert figures["enrolled_customers"] == 20
    assert figures["notices_queued"] == figures["notices_rendered"] == 20
    assert figures["planned_queued_rendered_s"] >= figures["planned_and_queued_s"] > 0
    assert figures["charge_effects_queued"] == figures["succeeded"] == 20
    assert figures["statuses"] == {"succeeded": 20}
    assert figures["stripe_429"] == 0  # paced under the limit, not backing off from it
    assert figures["qbo_reads_on_the_due_day"] == 1  # one re-read for the day's 20 invoices
    assert figures["every_charge_answered_s"] >= figures["every_charge_started_s"] > 0
    assert figures["qbo_payments_left_to_book"] == 20  # the books path takes it from here
