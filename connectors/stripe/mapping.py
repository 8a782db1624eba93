"""Stripe objects (as plain JSON dicts) mapped onto syncd's domain types."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from connectors.stripe.amounts import domain_currency, from_minor
from syncd.domain import (
    BalanceTxn,
    CheckoutSession,
    CheckoutStatus,
    Dispute,
    DisputeStatus,
    PaymentIntent,
    PaymentIntentStatus,
    Payout,
    PayoutStatus,
    Refund,
)
from syncd.errors import PermanentError

Json = Mapping[str, Any]


def timestamp(value: object) -> datetime:
    """A Stripe unix timestamp as an aware UTC datetime."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise PermanentError(f"not a Stripe timestamp: {value!r}")
    return datetime.fromtimestamp(value, tz=UTC)


def optional_timestamp(value: object) -> datetime | None:
    return None if value is None else timestamp(value)


def ref_id(value: object) -> str | None:
    """The id of a field that is either an id string or an expanded object."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and isinstance(value.get("id"), str):
        return str(value["id"])
    raise PermanentError(f"not a Stripe reference: {type(value).__name__}")


def expanded(value: object) -> Json | None:
    """The object of an expanded field, or None when Stripe sent only the id."""
    return value if isinstance(value, Mapping) else None


def metadata(obj: Json) -> dict[str, str]:
    """Stripe keeps metadata as strings only; anything else is not Stripe's object."""
    raw = obj.get("metadata") or {}
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise PermanentError(f"malformed metadata on {obj.get('id')!r}")
    return {str(key): value for key, value in raw.items()}


def rate(value: object) -> Decimal | None:
    """Exchange rates arrive as JSON numbers; the shortest repr of the float is the literal sent."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise PermanentError(f"not an exchange rate: {value!r}")
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, (int, str, Decimal)):
        return Decimal(value)
    raise PermanentError(f"not an exchange rate: {value!r}")


def money(obj: Json, field: str, currency: str) -> Decimal:
    value = obj.get(field)
    if isinstance(value, bool) or not isinstance(value, int):
        raise PermanentError(f"{obj.get('object')} {obj.get('id')}: {field} is not minor units: {value!r}")
    return from_minor(value, currency)


def _currency(obj: Json) -> str:
    value = obj.get("currency")
    if not isinstance(value, str):
        raise PermanentError(f"{obj.get('object')} {obj.get('id')} has no currency")
    return domain_currency(value)


def _enum(kind: type[Any], value: object, obj: Json) -> Any:
    try:
        return kind(value)
    except ValueError:
        raise PermanentError(f"{obj.get('object')} {obj.get('id')}: unknown status {value!r}") from None


def balance_txn(obj: Json) -> BalanceTxn:
    currency = _currency(obj)
    return BalanceTxn(
        id=str(obj["id"]),
        type=str(obj["type"]),
        source_id=ref_id(obj.get("source")),
        amount=money(obj, "amount", currency),
        fee=money(obj, "fee", currency),
        net=money(obj, "net", currency),
        currency=currency,
        exchange_rate=rate(obj.get("exchange_rate")),
        created=timestamp(obj["created"]),
        available_on=timestamp(obj["available_on"]),
        reporting_category=obj.get("reporting_category"),
    )


def optional_balance_txn(value: object) -> BalanceTxn | None:
    """Only an expanded balance transaction carries fee and net; a bare id maps to None."""
    obj = expanded(value)
    return None if obj is None else balance_txn(obj)


def checkout_session(obj: Json) -> CheckoutSession:
    """``amount``/``currency`` are 0 and "" on sessions that have none (setup mode, old API)."""
    raw_currency = obj.get("currency")
    currency = domain_currency(raw_currency) if isinstance(raw_currency, str) else ""
    total = obj.get("amount_total")
    return CheckoutSession(
        id=str(obj["id"]),
        url=obj.get("url"),
        status=_enum(CheckoutStatus, obj.get("status"), obj),
        payment_status=str(obj.get("payment_status") or ""),
        payment_intent_id=ref_id(obj.get("payment_intent")),
        amount=from_minor(total, currency or "USD") if isinstance(total, int) else Decimal(0),
        currency=currency,
        metadata=metadata(obj),
        expires_at=optional_timestamp(obj.get("expires_at")),
    )


def payment_method_type(intent: Json) -> str | None:
    """From the expanded payment method, else the charge's details, else the only allowed type."""
    method = expanded(intent.get("payment_method"))
    if method is not None and isinstance(method.get("type"), str):
        return str(method["type"])
    charge = expanded(intent.get("latest_charge"))
    details = expanded(charge.get("payment_method_details")) if charge is not None else None
    if details is not None and isinstance(details.get("type"), str):
        return str(details["type"])
    types = intent.get("payment_method_types") or []
    return str(types[0]) if len(types) == 1 else None


def payment_intent(obj: Json) -> PaymentIntent:
    currency = _currency(obj)
    charge = expanded(obj.get("latest_charge"))
    error = expanded(obj.get("last_payment_error"))
    return PaymentIntent(
        id=str(obj["id"]),
        status=_enum(PaymentIntentStatus, obj.get("status"), obj),
        amount=money(obj, "amount", currency),
        amount_received=from_minor(int(obj.get("amount_received") or 0), currency),
        currency=currency,
        metadata=metadata(obj),
        customer_id=ref_id(obj.get("customer")),
        latest_charge_id=ref_id(obj.get("latest_charge")),
        payment_method_type=payment_method_type(obj),
        balance_txn=optional_balance_txn(charge.get("balance_transaction")) if charge is not None else None,
        created=timestamp(obj["created"]),
        failure_message=(error.get("message") if error is not None else None),
    )


def refund(obj: Json) -> Refund:
    currency = _currency(obj)
    return Refund(
        id=str(obj["id"]),
        charge_id=ref_id(obj.get("charge")) or "",
        payment_intent_id=ref_id(obj.get("payment_intent")),
        amount=money(obj, "amount", currency),
        currency=currency,
        status=str(obj.get("status")),
        balance_txn=optional_balance_txn(obj.get("balance_transaction")),
        created=timestamp(obj["created"]),
        metadata=metadata(obj),
        failure_balance_txn=optional_balance_txn(obj.get("failure_balance_transaction")),
        failure_reason=str(obj["failure_reason"]) if obj.get("failure_reason") else None,
    )


def dispute(obj: Json) -> Dispute:
    currency = _currency(obj)
    txns = obj.get("balance_transactions") or []
    return Dispute(
        id=str(obj["id"]),
        charge_id=ref_id(obj.get("charge")) or "",
        payment_intent_id=ref_id(obj.get("payment_intent")),
        amount=money(obj, "amount", currency),
        currency=currency,
        status=_enum(DisputeStatus, obj.get("status"), obj),
        balance_txns=tuple(balance_txn(txn) for txn in txns),
        created=timestamp(obj["created"]),
    )


def payout(obj: Json) -> Payout:
    currency = _currency(obj)
    return Payout(
        id=str(obj["id"]),
        amount=money(obj, "amount", currency),
        currency=currency,
        status=_enum(PayoutStatus, obj.get("status"), obj),
        arrival_date=timestamp(obj["arrival_date"]),
        created=timestamp(obj["created"]),
        balance_txn_id=ref_id(obj.get("balance_transaction")),
        failure_message=obj.get("failure_message"),
    )


def customer_id(obj: Json) -> str:
    if obj.get("object") != "customer" or not isinstance(obj.get("id"), str):
        raise PermanentError(f"not a customer: {obj.get('object')!r}")
    return str(obj["id"])


def saved_payment_method(obj: Json) -> str | None:
    """The payment method a succeeded SetupIntent or PaymentIntent left for off-session use."""
    return ref_id(obj.get("payment_method"))
