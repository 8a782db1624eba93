"""``syncd bench --reminders`` at a tiny size: every customer one message, every texted customer
one text accepted by the Twilio simulator, spaced at its rate."""

from __future__ import annotations

import json

import pytest

from syncd.bench_reminders import TWILIO_MPS, bench_reminders
from syncd.cli.main import run


def test_every_customer_gets_one_message_and_every_texted_one_a_text() -> None:
    figures = bench_reminders(invoices=40, customers=20)
    assert figures["messages_queued"] == figures["messages_rendered"] == figures["effects_done"] == 20
    assert figures["texts_queued"] == figures["texts_accepted_by_twilio"] == 10  # every second customer
    assert figures["texts_not_done"] == 0
    assert figures["twilio_queue_seconds"] == pytest.approx(9 / TWILIO_MPS, abs=0.5)
    assert figures["twilio_queue_seconds"] < figures["twilio_queue_limit_seconds"]
    gap = figures["twilio_narrowest_gap_seconds"]
    assert gap is None or gap >= 0.9 / TWILIO_MPS


def test_the_command_prints_the_figures_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["bench", "--reminders", "--invoices", "20", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)["reminders"]
    assert figures["customers"] == 10 and figures["texts_queued"] == 5
    assert figures["target_seconds"] == 60 and "total_seconds" in figures
