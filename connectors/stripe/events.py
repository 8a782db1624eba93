"""Stripe events (webhook bodies and /v1/events items) reduced to syncd's StripeEvent."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from connectors.stripe import methods
from connectors.stripe.amounts import domain_currency, from_minor
from connectors.stripe.mapping import Json, expanded, metadata, ref_id, timestamp
from syncd.domain import StripeEvent, StripeEventKind
from syncd.errors import PermanentError


def _amount(obj: Json, event_type: str) -> Decimal | None:
    """The object's own amount; for ``charge.refunded`` the cumulative amount refunded."""
    currency = obj.get("currency")
    if not isinstance(currency, str):
        return None
    kind = obj.get("object")
    if kind == "checkout.session":
        field = "amount_total"
    elif kind == "charge" and event_type == "charge.refunded":
        field = "amount_refunded"
    else:
        field = "amount"
    value = obj.get(field)
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return from_minor(value, currency)


def _links(obj: Json) -> tuple[str | None, str | None, str | None]:
    """(payment_intent_id, checkout_session_id, charge_id) of the object an event is about."""
    kind = obj.get("object")
    own_id = ref_id(obj.get("id"))
    if kind == "payment_intent":
        return own_id, None, ref_id(obj.get("latest_charge"))
    if kind == "checkout.session":
        return ref_id(obj.get("payment_intent")), own_id, None
    if kind == "charge":
        return ref_id(obj.get("payment_intent")), None, own_id
    if kind in ("refund", "dispute"):
        return ref_id(obj.get("payment_intent")), None, ref_id(obj.get("charge"))
    return None, None, None


def _paid(obj: Json) -> bool | None:
    kind = obj.get("object")
    if kind == "checkout.session":
        status = obj.get("payment_status")
        return None if status is None else status == "paid"
    if kind == "payment_intent":
        return obj.get("status") == "succeeded"
    if kind == "charge":
        paid = obj.get("paid")
        return paid if isinstance(paid, bool) else None
    return None


def stripe_event(event: Json) -> StripeEvent:
    """Map one event envelope; raises PermanentError when it is not a Stripe event."""
    if event.get("object") != "event":
        raise PermanentError(f"not a Stripe event: object={event.get('object')!r}")
    # The envelope keys the inbox (deduplication by id) and the dispatch: only Stripe's own shapes.
    for key in ("id", "type"):
        if not isinstance(event.get(key), str) or not event[key]:
            raise PermanentError(f"malformed Stripe event: {key} is not a string")
    if not isinstance(event.get("created"), int) or isinstance(event.get("created"), bool):
        raise PermanentError(f"malformed Stripe event {event['id']!r}: created is not a timestamp")
    try:
        data = expanded(event.get("data"))
        obj = expanded(data.get("object")) if data is not None else None
        if obj is None:
            raise PermanentError(f"event {event.get('id')} has no data.object")
        event_type = str(event["type"])
        payment_intent_id, checkout_session_id, charge_id = _links(obj)
        currency: Any = obj.get("currency")
        status = obj.get("status")
        return StripeEvent(
            id=str(event["id"]),
            kind=StripeEventKind.parse(event_type),
            type=event_type,
            created=timestamp(event["created"]),
            object_id=str(obj.get("id") or ""),  # a Balance (balance.available) has no id
            livemode=bool(event.get("livemode", False)),
            metadata=metadata(obj),
            payment_intent_id=payment_intent_id,
            checkout_session_id=checkout_session_id,
            charge_id=charge_id,
            amount=_amount(obj, event_type),
            currency=domain_currency(currency) if isinstance(currency, str) else None,
            paid=_paid(obj),
            status=status if isinstance(status, str) else None,
            method_change=methods.change(obj, event_type, (data or {}).get("previous_attributes")),
            account=_account(event.get("account")),
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise PermanentError(f"malformed Stripe event {event.get('id')!r}: {exc!r}") from exc


def _account(value: Any) -> str | None:
    """Connect's ``account`` field: the connected account the event happened on."""
    return value if isinstance(value, str) and value else None
