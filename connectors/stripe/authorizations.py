"""Card authorisations at Stripe: manual-capture PaymentIntents mapped to syncd's view of them."""

from __future__ import annotations

from connectors.stripe.mapping import Json, _currency, expanded, metadata, money, optional_timestamp
from syncd.domain.authorizations import CardAuthorization


def authorization(obj: Json) -> CardAuthorization:
    """A manual-capture PaymentIntent (with ``latest_charge`` expanded when Stripe sent it)."""
    currency = _currency(obj)
    charge = expanded(obj.get("latest_charge"))
    details = expanded(charge.get("payment_method_details")) if charge is not None else None
    card = expanded(details.get("card")) if details is not None else None
    reason = obj.get("cancellation_reason")
    return CardAuthorization(
        id=str(obj["id"]),
        status=str(obj.get("status")),
        amount=money(obj, "amount", currency),
        amount_capturable=money(obj, "amount_capturable", currency),
        amount_received=money(obj, "amount_received", currency),
        currency=currency,
        metadata=metadata(obj),
        capture_before=optional_timestamp(card.get("capture_before")) if card is not None else None,
        cancellation_reason=str(reason) if reason else None,
    )
