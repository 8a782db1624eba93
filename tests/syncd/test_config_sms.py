"""``[company.sms]``: complete when enabled, numbers in E.164, SIDs shaped, quiet hours wrap."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from syncd.config.sms import SmsSettings

SID = "AC" + "0123456789abcdef" * 2


def test_enabled_needs_account_token_and_sender() -> None:
    with pytest.raises(ValidationError, match="account_sid, auth_token, from_number"):
        SmsSettings(enabled=True)
    ok = SmsSettings(enabled=True, account_sid=SID, auth_token="t", from_number="(415) 555-0100")
    assert ok.from_number == "+14155550100" and ok.sender() == "+14155550100"
    service = SmsSettings(
        enabled=True, account_sid=SID, auth_token="t", messaging_service_sid="MG" + "a" * 32
    )
    assert service.sender().startswith("MG")
    assert "auth_token='t'" not in repr(ok)


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"account_sid": "sk_live_x"}, "account SID"),
        ({"messaging_service_sid": "MG1"}, "Messaging Service"),
        ({"from_number": "not a number"}, "not a phone number"),
        ({"country": "USA"}, "two-letter"),
        ({"quiet_start": 24}, "less than or equal"),
    ],
)
def test_wrong_values_name_the_problem(changes: dict[str, object], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        SmsSettings(**changes)  # type: ignore[arg-type]


def test_quiet_hours_wrap_midnight_or_are_off() -> None:
    night = SmsSettings(quiet_start=21, quiet_end=8)
    assert [h for h in range(24) if night.quiet(h)] == [0, 1, 2, 3, 4, 5, 6, 7, 21, 22, 23]
    assert [h for h in range(24) if SmsSettings(quiet_start=1, quiet_end=3).quiet(h)] == [1, 2]
    assert not any(SmsSettings(quiet_start=5, quiet_end=5).quiet(h) for h in range(24))
