"""Verification of ``Stripe-Signature`` and parsing of webhook bodies, with no HTTP at all."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from decimal import Decimal

from connectors.stripe.events import stripe_event
from syncd.domain import StripeEvent
from syncd.errors import PermanentError, SignatureError

SCHEME = "v1"


def _parse_header(header: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep:
            continue
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError:
                raise SignatureError("Stripe-Signature has a malformed timestamp") from None
        elif key == SCHEME:
            signatures.append(value)
    if timestamp is None:
        raise SignatureError("Stripe-Signature has no timestamp")
    if not signatures:
        raise SignatureError(f"Stripe-Signature has no {SCHEME} signature")
    return timestamp, signatures


def sign(payload: bytes, secret: str, timestamp: int) -> str:
    """The header Stripe would send for ``payload`` at ``timestamp`` (tests and simulators)."""
    return f"t={timestamp},{SCHEME}={_digest(payload, secret, timestamp)}"


def _digest(payload: bytes, secret: str, timestamp: int) -> str:
    signed = str(timestamp).encode("ascii") + b"." + payload
    return hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


def verify(
    payload: bytes, header: str | None, secret: str, *, tolerance: int, now: float | None = None
) -> None:
    """Raise SignatureError unless one v1 signature matches and the timestamp is fresh.

    As Stripe's SDK does, only stale timestamps are refused: a signer clock running ahead is not
    an attack (a replay is always of an older body). Every candidate is compared in constant time.
    """
    if not header:
        raise SignatureError("no Stripe-Signature header")
    if not secret:
        raise SignatureError("no webhook secret: run `syncd connect stripe` or set stripe.webhook_secret")
    timestamp, signatures = _parse_header(header)
    expected = _digest(payload, secret, timestamp).encode("ascii")
    matched = False
    for candidate in signatures:
        matched |= hmac.compare_digest(expected, candidate.encode("ascii", "replace"))
    if not matched:
        raise SignatureError("no Stripe-Signature matches the body")
    current = time.time() if now is None else now
    if tolerance > 0 and timestamp < current - tolerance:
        raise SignatureError(f"Stripe-Signature timestamp is older than {tolerance} s")


def parse(
    payload: bytes, header: str | None, secret: str, *, tolerance: int, now: float | None = None
) -> StripeEvent:
    """Verify, then map the event; unparseable but signed bodies raise PermanentError."""
    verify(payload, header, secret, tolerance=tolerance, now=now)
    return parse_verified(payload)


def parse_verified(payload: bytes) -> StripeEvent:
    """Map a body that was verified when it arrived (kept raw in syncd's inbox)."""
    try:
        body = json.loads(payload, parse_float=Decimal)
    except (UnicodeDecodeError, ValueError) as exc:
        raise PermanentError(f"webhook body is not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise PermanentError("webhook body is not a JSON object")
    return stripe_event(body)
