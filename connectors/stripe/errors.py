"""Translation of the Stripe SDK's exceptions into syncd's one error tree."""

from __future__ import annotations

from typing import Any

import stripe

from syncd.errors import (
    AuthenticationRequiredError,
    AuthError,
    Credential,
    DeclinedError,
    DeclineKind,
    PermanentError,
    SignatureError,
    SyncdError,
    ThrottledError,
    TransientError,
    ValidationError,
)
from syncd.retrying import parse_retry_after

# Stripe's own messages are written for developers; payers get plain words keyed by decline code.
_CUSTOMER_MESSAGES: dict[str, str] = {
    "insufficient_funds": "Your card has insufficient funds. Please use another card or payment method.",
    "expired_card": "Your card has expired. Please use another card.",
    "incorrect_cvc": "The card's security code is incorrect. Please check it and try again.",
    "invalid_cvc": "The card's security code is incorrect. Please check it and try again.",
    "incorrect_number": "The card number is incorrect. Please check it and try again.",
    "invalid_number": "The card number is incorrect. Please check it and try again.",
    "invalid_expiry_month": "The card's expiry date is incorrect. Please check it and try again.",
    "invalid_expiry_year": "The card's expiry date is incorrect. Please check it and try again.",
    "processing_error": "Something went wrong while processing your card. Please try again in a moment.",
    "lost_card": "Your card was declined. Please use another card or contact your bank.",
    "stolen_card": "Your card was declined. Please use another card or contact your bank.",
    "authentication_required": (
        "Your bank needs you to confirm this payment. Please pay using the link we sent you."
    ),
    "payment_intent_authentication_failure": (
        "Your bank could not confirm this payment. Please try again or use another card."
    ),
}
# Decline codes that may pass on a later try with the same method (Stripe's "try again" advice);
# every other code, generic card_declined and do_not_honor included, stops charging that method:
# retrying a generic decline rarely works and banks count repeated attempts against the merchant.
SOFT_DECLINES = frozenset(
    {
        "insufficient_funds",
        "try_again_later",
        "processing_error",
        "issuer_not_available",
        "reenter_transaction",
        "approve_with_id",
    }
)
GENERIC_DECLINE = "Your payment was declined. Please use another card or contact your bank."


def customer_message(code: str | None) -> str:
    """A plain sentence safe to show the payer for a decline ``code``."""
    if code is None:
        return GENERIC_DECLINE
    return _CUSTOMER_MESSAGES.get(code, GENERIC_DECLINE)


def _error_body(exc: stripe.StripeError) -> dict[str, Any]:
    body = exc.json_body
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return dict(body["error"])
    return {}


def _retry_after(exc: stripe.StripeError) -> float | None:
    raw = (exc.headers or {}).get("Retry-After") or (exc.headers or {}).get("retry-after")
    return parse_retry_after(raw)


def _describe(exc: stripe.StripeError) -> str:
    """No request bodies or keys: Stripe's message plus its request id is enough to look it up."""
    request_id = f" (request {exc.request_id})" if exc.request_id else ""
    return f"{type(exc).__name__}: {exc.user_message or 'no message'}{request_id}"


def declined(message: str, code: object, decline_code: object) -> DeclinedError:
    """The decline for Stripe's error ``code`` / ``decline_code`` (an API error or a
    PaymentIntent's ``last_payment_error``)."""
    if "authentication_required" in (code, decline_code):
        return AuthenticationRequiredError(
            message,
            customer_message=customer_message("authentication_required"),
            code="authentication_required",
        )
    reason = decline_code if isinstance(decline_code, str) else code if isinstance(code, str) else None
    return DeclinedError(
        message, customer_message=customer_message(reason), code=reason, kind=decline_kind(reason)
    )


def decline_kind(reason: str | None) -> DeclineKind:
    """What Stripe's decline code (or error code, when it gave none) means for a retry."""
    if reason == "authentication_required":
        return DeclineKind.AUTHENTICATION
    return DeclineKind.SOFT if reason in SOFT_DECLINES else DeclineKind.HARD


def _declined(exc: stripe.StripeError) -> DeclinedError:
    body = _error_body(exc)
    return declined(_describe(exc), body.get("code") or exc.code, body.get("decline_code"))


def translate(exc: stripe.StripeError) -> SyncdError:
    """The syncd error for an SDK exception (raise it ``from`` the original)."""
    if isinstance(exc, stripe.CardError):
        return _declined(exc)
    if isinstance(exc, stripe.RateLimitError):
        return ThrottledError(_describe(exc), retry_after=_retry_after(exc))
    if isinstance(exc, stripe.APIConnectionError):
        return TransientError(_describe(exc))
    if isinstance(exc, (stripe.AuthenticationError, stripe.PermissionError)):
        return AuthError(_describe(exc), credential=Credential.STRIPE_KEY)
    if isinstance(exc, stripe.IdempotencyError):
        return PermanentError(_describe(exc))
    if isinstance(exc, stripe.SignatureVerificationError):
        return SignatureError(_describe(exc))
    if isinstance(exc, stripe.InvalidRequestError):
        if _error_body(exc).get("type") == "card_error":
            return _declined(exc)
        return ValidationError(_describe(exc))
    status = exc.http_status
    # 409 is a concurrent request on the same idempotency key: the SDK already retried it.
    if status is None or status >= 500 or status == 409:
        return TransientError(_describe(exc), retry_after=_retry_after(exc))
    return PermanentError(_describe(exc))
