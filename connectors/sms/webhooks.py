"""Twilio's webhook signature (X-Twilio-Signature), checked with the SDK's RequestValidator."""

from __future__ import annotations

from collections.abc import Mapping

from twilio.request_validator import RequestValidator

from syncd.errors import SignatureError


def verify(auth_token: str, url: str, params: Mapping[str, str], signature: str | None) -> None:
    """Raise SignatureError unless ``signature`` is Twilio's for ``url`` and the form ``params``."""
    if not signature:
        raise SignatureError("X-Twilio-Signature is missing")
    if not RequestValidator(auth_token).validate(url, dict(params), signature):
        raise SignatureError(
            "X-Twilio-Signature does not match: check [company.sms] auth_token and public_url"
        )
