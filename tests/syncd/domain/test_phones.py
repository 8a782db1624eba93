"""Phone numbers: E.164 from what people and QBO write, the company's country as the default."""

from __future__ import annotations

import pytest

from syncd.domain.phones import InvalidPhoneError, e164, masked, maybe_e164


@pytest.mark.parametrize(
    ("typed", "region", "expected"),
    [
        ("(415) 555-0123", "US", "+14155550123"),
        ("415.555.0123", "us", "+14155550123"),
        ("+44 20 7946 0958", "US", "+442079460958"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("0030 211 234 5678", "DE", "+302112345678"),
    ],
)
def test_numbers_become_e164(typed: str, region: str, expected: str) -> None:
    assert e164(typed, region) == expected


@pytest.mark.parametrize("typed", ["", "   ", "call me", "555-0123", "+1 555 000 0000", "12"])
def test_invalid_numbers_are_one_line_errors(typed: str) -> None:
    with pytest.raises(InvalidPhoneError) as error:
        e164(typed, "US")
    assert "\n" not in str(error.value)
    assert maybe_e164(typed, "US") is None


def test_missing_and_masked() -> None:
    assert maybe_e164(None, "US") is None
    assert masked("+14155550123") == "…0123"
