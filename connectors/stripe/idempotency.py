"""Idempotency keys from syncd's effect keys, and finding objects whose key Stripe may have forgotten.

Rule: Stripe keeps an Idempotency-Key for at least 24 h. Within that window the key alone makes a
replay return the first object; past it, the object is found by the metadata syncd writes:
- checkout sessions: looked up (recent sessions, ``metadata.payment_key``) only when the caller's
  ``first_attempt_at`` may be outside the window (:func:`may_have_expired`);
- customers: always searched first (``metadata.qbo_customer`` + ``company``); Search is cheap and
  also finds customers an older install created;
- refunds and off-session PaymentIntents carry the key itself as ``metadata.syncd_key`` and are
  always looked up first (a payment's refund list; PaymentIntent Search).
Search lags writes by about a minute; the key covers that gap.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

import stripe

from connectors.stripe.mapping import metadata

MAX_KEY_LENGTH = 255
KEY_TAG = "syncd_key"
# An hour short of Stripe's 24 h so a clock difference cannot open a gap.
KEY_WINDOW = timedelta(hours=23)
# Sessions are created right when an attempt starts; this absorbs clock skew around the search.
SESSION_SEARCH_SLACK = timedelta(minutes=10)


def derive_key(effect_key: str, operation: str) -> str:
    """The Idempotency-Key for ``operation`` (e.g. "checkout", "refund") of one syncd effect.

    Deterministic, so a replay after a crash sends the same key; distinct per operation so two
    Stripe calls made for one effect never collide.
    """
    if not effect_key or not operation:
        raise ValueError("effect key and operation are required")
    return wire_key(f"syncd:{operation}:{effect_key}")


def wire_key(key: str) -> str:
    """``key`` if Stripe accepts it as is, else a stable hash of it (same input, same key)."""
    if key and len(key) <= MAX_KEY_LENGTH and key.isascii() and key.isprintable():
        return key
    return "syncd:sha256:" + hashlib.sha256(key.encode("utf-8")).hexdigest()


def may_have_expired(first_attempt_at: datetime | None, now: datetime) -> bool:
    """True when the first attempt may be outside Stripe's key window, so look up first.

    ``None`` means this is the first attempt: nothing can exist yet.
    """
    if first_attempt_at is None:
        return False
    if first_attempt_at.tzinfo is None:
        raise ValueError("first_attempt_at must be timezone-aware")
    return now - first_attempt_at >= KEY_WINDOW


def _quote(value: str) -> str:
    """A Stripe Search string literal: single quotes, with quote and backslash escaped."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def customer_query(company: str, qbo_customer_id: str) -> str:
    return f"metadata['qbo_customer']:{_quote(qbo_customer_id)} AND metadata['company']:{_quote(company)}"


def find_customer(client: stripe.StripeClient, company: str, qbo_customer_id: str) -> str | None:
    """The oldest Stripe customer syncd created for this QBO customer, if any.

    Search results can lag writes by about a minute; the Idempotency-Key covers that window.
    """
    result = client.v1.customers.search({"query": customer_query(company, qbo_customer_id), "limit": 10})
    found: list[dict[str, Any]] = [item.to_dict() for item in result.auto_paging_iter()]
    matching = [
        obj
        for obj in found
        if metadata(obj).get("qbo_customer") == qbo_customer_id and metadata(obj).get("company") == company
    ]
    if not matching:
        return None
    return str(min(matching, key=lambda obj: (obj.get("created", 0), obj["id"]))["id"])


def find_checkout_session(
    client: stripe.StripeClient, *, company: str, payment_key: str, since: datetime
) -> dict[str, Any] | None:
    """A session created since ``since`` carrying this ``payment_key``, whatever its status."""
    created_from = int((since - SESSION_SEARCH_SLACK).timestamp())
    pages = client.v1.checkout.sessions.list({"created": {"gte": created_from}, "limit": 100})
    for item in pages.auto_paging_iter():
        obj = item.to_dict()
        tags = metadata(obj)
        if tags.get("payment_key") == payment_key and tags.get("company") == company:
            return obj
    return None


def tagged(metadata_in: dict[str, str], key: str) -> dict[str, str]:
    """``metadata_in`` plus the Idempotency-Key, so the object can be found once Stripe forgets it."""
    return {**metadata_in, KEY_TAG: key}


def find_refund(client: stripe.StripeClient, *, payment_intent_id: str, key: str) -> str | None:
    """The refund of this payment made under ``key``, if any (a payment has few refunds)."""
    pages = client.v1.refunds.list({"payment_intent": payment_intent_id, "limit": 100})
    for item in pages.auto_paging_iter():
        obj = item.to_dict()
        if metadata(obj).get(KEY_TAG) == key:
            return str(obj["id"])
    return None


def find_payment_intent(client: stripe.StripeClient, *, key: str) -> str | None:
    """The PaymentIntent created under ``key``, if Search already sees it."""
    result = client.v1.payment_intents.search({"query": f"metadata[{_quote(KEY_TAG)}]:{_quote(key)}"})
    for item in result.auto_paging_iter():
        obj = item.to_dict()
        if metadata(obj).get(KEY_TAG) == key:
            return str(obj["id"])
    return None
