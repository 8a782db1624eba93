"""Translation of Twilio's errors into syncd's one error tree. Twilio's codes live here."""

from __future__ import annotations

from collections.abc import Mapping

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException

from syncd.errors import PermanentError, SyncdError, ThrottledError, TransientError, ValidationError
from syncd.ports.sms import InvalidNumberError, OptedOutError
from syncd.retrying import parse_retry_after

TOO_MANY_REQUESTS = 20429
AUTHENTICATE = 20003
INVALID_TO = 21211
NOT_MOBILE = 21614
UNSUBSCRIBED = 21610


def translate(exc: Exception, headers: Mapping[str, str] | None = None) -> SyncdError:
    """The syncd error for what the SDK raised; ``headers`` are the failed response's, names in
    lower case (Retry-After)."""
    if isinstance(exc, TwilioRestException):
        code, status = exc.code, exc.status
        what = f"Twilio {status} {code or ''}: {exc.msg}".replace("  ", " ")
        if status == 429 or code == TOO_MANY_REQUESTS:
            return ThrottledError(what, retry_after=parse_retry_after((headers or {}).get("retry-after")))
        if code == UNSUBSCRIBED:
            return OptedOutError(what)
        if code in (INVALID_TO, NOT_MOBILE):
            return InvalidNumberError(what)
        if status == 401 or code == AUTHENTICATE:
            # Not an AuthError: a wrong Twilio token must not pause the company's payments.
            return PermanentError(f"{what}: check [company.sms] account_sid and auth_token")
        if status >= 500:
            return TransientError(what)
        return ValidationError(what)
    if isinstance(exc, requests.RequestException):
        return TransientError(f"Twilio unreachable: {type(exc).__name__}")
    if isinstance(exc, TwilioException):
        return TransientError(f"Twilio: {exc}")
    return TransientError(f"Twilio: {type(exc).__name__}: {exc}")
