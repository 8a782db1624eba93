"""Every SDK exception lands on the right branch of syncd's error tree."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from connectors.stripe.errors import GENERIC_DECLINE, customer_message, decline_kind, translate
from connectors.stripe.throttle import backoff_delay, call
from syncd.errors import (
    AuthenticationRequiredError,
    AuthError,
    DeclinedError,
    DeclineKind,
    PermanentError,
    SignatureError,
    ThrottledError,
    TransientError,
    ValidationError,
)

# The SDK's exception constructors are untyped; these aliases keep the tests under mypy --strict.
CardError: Any = stripe.CardError
APIConnectionError: Any = stripe.APIConnectionError
InvalidRequestError: Any = stripe.InvalidRequestError
SignatureVerificationError: Any = stripe.SignatureVerificationError


def _body(kind: str, code: str | None = None, decline_code: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"type": kind, "message": "Your card was declined."}
    if code:
        error["code"] = code
    if decline_code:
        error["decline_code"] = decline_code
    return {"error": error}


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("insufficient_funds", DeclineKind.SOFT),
        ("try_again_later", DeclineKind.SOFT),
        ("processing_error", DeclineKind.SOFT),
        ("expired_card", DeclineKind.HARD),
        ("lost_card", DeclineKind.HARD),
        ("stolen_card", DeclineKind.HARD),
        ("do_not_honor", DeclineKind.HARD),
        ("generic_decline", DeclineKind.HARD),
        ("card_declined", DeclineKind.HARD),
        ("something_new", DeclineKind.HARD),  # never retried blindly
        (None, DeclineKind.HARD),
        ("authentication_required", DeclineKind.AUTHENTICATION),
    ],
)
def test_decline_kinds(code: str | None, kind: DeclineKind) -> None:
    assert decline_kind(code) is kind


def test_a_soft_decline_says_so() -> None:
    exc = CardError(
        "Try again later.",
        None,
        "card_declined",
        http_status=402,
        json_body=_body("card_error", "card_declined", "try_again_later"),
    )
    error = translate(exc)
    assert isinstance(error, DeclinedError) and error.kind is DeclineKind.SOFT


def test_card_declined() -> None:
    exc = CardError(
        "Your card was declined.",
        None,
        "card_declined",
        http_status=402,
        json_body=_body("card_error", "card_declined", "insufficient_funds"),
    )
    error = translate(exc)
    assert type(error) is DeclinedError
    assert error.code == "insufficient_funds"
    assert "insufficient funds" in error.customer_message


def test_authentication_required() -> None:
    exc = CardError(
        "This payment requires authentication.",
        None,
        "authentication_required",
        http_status=402,
        json_body=_body("card_error", "authentication_required", "authentication_required"),
    )
    error = translate(exc)
    assert isinstance(error, AuthenticationRequiredError) and isinstance(error, DeclinedError)
    assert error.code == "authentication_required"


def test_unknown_decline_code_gets_the_generic_message() -> None:
    assert customer_message("something_new") == GENERIC_DECLINE
    assert customer_message(None) == GENERIC_DECLINE


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (stripe.RateLimitError("slow down", http_status=429), ThrottledError),
        (APIConnectionError("reset"), TransientError),
        (stripe.APIError("boom", http_status=500), TransientError),
        (stripe.APIError("busy", http_status=409), TransientError),
        (stripe.APIError("odd", http_status=418), PermanentError),
        (stripe.AuthenticationError("bad key", http_status=401), AuthError),
        (stripe.PermissionError("restricted key", http_status=403), AuthError),
        (
            InvalidRequestError("No such payment_intent", "id", "resource_missing", http_status=404),
            ValidationError,
        ),
        (
            stripe.IdempotencyError("Keys for idempotent requests can only be used with the same parameters"),
            PermanentError,
        ),
        (SignatureVerificationError("bad", "t=1"), SignatureError),
    ],
)
def test_mapping(exc: stripe.StripeError, expected: type[Exception]) -> None:
    error = translate(exc)
    assert type(error) is expected


def test_messages_carry_no_secrets() -> None:
    exc = stripe.AuthenticationError("Invalid API Key provided: sk_test_****1234", http_status=401)
    assert "sk_test_sim" not in str(translate(exc))


def test_retry_after_is_kept() -> None:
    exc = stripe.RateLimitError("slow", http_status=429, headers={"Retry-After": "2"})
    error = translate(exc)
    assert isinstance(error, ThrottledError) and error.retry_after == 2.0


def test_call_retries_throttling_then_succeeds() -> None:
    attempts: list[int] = []
    sleeps: list[float] = []

    def flaky() -> str:
        attempts.append(1)
        if len(attempts) <= 2:
            raise stripe.RateLimitError("slow", http_status=429)
        return "ok"

    assert call(flaky, retries=3, sleep=sleeps.append) == "ok"
    assert len(attempts) == 3 and len(sleeps) == 2


def test_call_gives_up_after_bounded_retries() -> None:
    def always() -> None:
        raise stripe.RateLimitError("slow", http_status=429)

    sleeps: list[float] = []
    with pytest.raises(ThrottledError):
        call(always, retries=2, sleep=sleeps.append)
    assert len(sleeps) == 2


def test_call_never_repeats_a_decline() -> None:
    attempts: list[int] = []

    def declined() -> None:
        attempts.append(1)
        raise CardError("declined", None, "card_declined", http_status=402)

    with pytest.raises(DeclinedError):
        call(declined, retries=5, sleep=lambda _: None)
    assert attempts == [1]


def test_backoff_is_bounded_and_honours_hints() -> None:
    assert all(0 < backoff_delay(n, None) <= 8 for n in range(1, 20))
    assert backoff_delay(1, 3.0) >= 3.0
    assert backoff_delay(1, 3600.0) <= 8
