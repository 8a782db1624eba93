"""Off-session PaymentIntents: charging a saved method, and card authorisations (manual capture)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import stripe

from connectors.stripe import authorizations, idempotency, mapping, methods
from connectors.stripe.amounts import to_minor, wire_currency
from connectors.stripe.base import INTENT_EXPAND, StripeBase
from connectors.stripe.errors import declined
from connectors.stripe.pacing import pace_for
from syncd.domain import (
    PaymentIntent,
)
from syncd.domain.authorizations import CardAuthorization
from syncd.domain.autopay import Mandate
from syncd.errors import PermanentError, ValidationError


class IntentCalls(StripeBase):
    """Charges and holds on a customer's saved method, off-session."""

    def _intent(self, payment_intent_id: str) -> dict[str, Any]:
        found = self._call(
            lambda: self._client.v1.payment_intents.retrieve(payment_intent_id, {"expand": INTENT_EXPAND})
        )
        return found.to_dict()

    def get_payment_intent(self, payment_intent_id: str) -> PaymentIntent:
        return mapping.payment_intent(self._intent(payment_intent_id))

    def charge_off_session(
        self,
        *,
        customer_id: str,
        payment_method_id: str,
        amount: Decimal,
        currency: str,
        metadata: dict[str, str],
        idempotency_key: str,
        mandate: Mandate | None = None,
        first_send: bool = False,
    ) -> PaymentIntent:
        """A replay finds the first attempt (by key, or by ``metadata.syncd_key`` once Stripe has
        forgotten the key) and answers as it did: the same PaymentIntent or the same decline.
        ``first_send``: nothing was sent under this key before, so there is nothing to look up
        (Search allows 20 reads a second: a due day of thousands must not spend it for nothing)."""
        minor = to_minor(amount, currency)
        if minor <= 0:
            raise ValidationError(f"refusing to charge {amount} {currency}")
        key = idempotency.wire_key(idempotency_key)
        if not first_send:
            earlier = self._call(lambda: idempotency.find_payment_intent(self._client, key=key))
            if earlier is not None:
                return _settled_or_declined(self._intent(earlier))
        params: stripe.params.PaymentIntentCreateParams = {
            "amount": minor,
            "currency": wire_currency(currency),
            "customer": customer_id,
            "payment_method": payment_method_id,
            "confirm": True,
            "off_session": True,
            "metadata": idempotency.tagged(metadata, key),
            "expand": INTENT_EXPAND,
        }
        if mandate is not None:
            params["mandate_data"] = methods.mandate_data(mandate)
        options = self._options(key)
        pace = pace_for(self._settings.api_key, self._settings.stripe_account)

        def create() -> stripe.PaymentIntent:
            pace.wait()
            return self._client.v1.payment_intents.create(params, options)

        created = self._call(create)
        return mapping.payment_intent(created.to_dict())

    def authorize_card(
        self,
        *,
        customer_id: str,
        payment_method_id: str,
        amount: Decimal,
        currency: str,
        metadata: dict[str, str],
        idempotency_key: str,
    ) -> CardAuthorization:
        """An off-session, manual-capture PaymentIntent confirmed on the saved card; a replay finds
        the first one (by key, or by ``metadata.syncd_key``) and answers as it did."""
        minor = to_minor(amount, currency)
        if minor <= 0:
            raise ValidationError(f"refusing to authorise {amount} {currency}")
        key = idempotency.wire_key(idempotency_key)
        earlier = self._call(lambda: idempotency.find_payment_intent(self._client, key=key))
        if earlier is not None:
            found = self._hold(earlier)
            _settled_or_declined(found)
            return authorizations.authorization(found)
        params: stripe.params.PaymentIntentCreateParams = {
            "amount": minor,
            "currency": wire_currency(currency),
            "customer": customer_id,
            "payment_method": payment_method_id,
            "capture_method": "manual",
            "confirm": True,
            "off_session": True,
            "metadata": idempotency.tagged(metadata, key),
            "expand": ["latest_charge"],
        }
        options = self._options(key)
        created = self._call(lambda: self._client.v1.payment_intents.create(params, options))
        return authorizations.authorization(created.to_dict())

    def _hold(self, payment_intent_id: str) -> dict[str, Any]:
        found = self._call(
            lambda: self._client.v1.payment_intents.retrieve(payment_intent_id, {"expand": ["latest_charge"]})
        )
        return found.to_dict()

    def get_authorization(self, payment_intent_id: str) -> CardAuthorization:
        return authorizations.authorization(self._hold(payment_intent_id))

    def capture_authorization(
        self, payment_intent_id: str, *, amount: Decimal, metadata: dict[str, str], idempotency_key: str
    ) -> CardAuthorization:
        """Capture ``amount`` (the rest is released). Read first: an intent already captured (a
        replay, whatever its key) answers as it is and is never captured again; one that is no
        longer capturable raises PermanentError."""
        current = self.get_authorization(payment_intent_id)
        if current.captured:
            return current
        if not current.held:
            raise PermanentError(f"authorisation {payment_intent_id} is {current.status}: nothing to capture")
        minor = to_minor(amount, current.currency)
        if minor <= 0 or amount > current.amount_capturable:
            raise ValidationError(f"refusing to capture {amount} of {current.amount_capturable}")
        params: stripe.params.PaymentIntentCaptureParams = {
            "amount_to_capture": minor,
            "metadata": metadata,
            "expand": ["latest_charge"],
        }
        options = self._options(idempotency.wire_key(idempotency_key))
        captured = self._call(
            lambda: self._client.v1.payment_intents.capture(payment_intent_id, params, options)
        )
        return authorizations.authorization(captured.to_dict())

    def cancel_authorization(self, payment_intent_id: str, *, idempotency_key: str) -> CardAuthorization:
        """Release the whole hold; one already cancelled (by a replay or by expiry) or captured
        answers as it is."""
        current = self.get_authorization(payment_intent_id)
        if not current.held:
            return current
        params: stripe.params.PaymentIntentCancelParams = {
            "cancellation_reason": "abandoned",
            "expand": ["latest_charge"],
        }
        options = self._options(idempotency.wire_key(idempotency_key))
        try:
            gone = self._call(
                lambda: self._client.v1.payment_intents.cancel(payment_intent_id, params, options)
            )
        except ValidationError:
            after = self.get_authorization(payment_intent_id)
            if after.held:
                raise
            return after  # it expired or was captured meanwhile
        return authorizations.authorization(gone.to_dict())


def _settled_or_declined(intent: dict[str, Any]) -> PaymentIntent:
    """An off-session attempt found again: a failed one raises the decline it raised first."""
    error = mapping.expanded(intent.get("last_payment_error"))
    if intent.get("status") not in ("requires_payment_method", "requires_action") or error is None:
        return mapping.payment_intent(intent)
    message = f"PaymentIntent {intent.get('id')} was declined: {error.get('message')}"
    raise declined(message, error.get("code"), error.get("decline_code"))
