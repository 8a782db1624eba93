"""The payloads of card authorisations: place, capture and release at Stripe, and their emails."""

from __future__ import annotations

from dataclasses import dataclass

from syncd.catalog.kinds import EffectKind as K
from syncd.catalog.payloads import Payload, key_part


@dataclass(frozen=True, slots=True)
class AuthorizationPlace(Payload):
    """One per authorisation: its key is the Stripe idempotency key of the manual-capture intent."""

    KIND = K.STRIPE_AUTHORIZE
    CUSTOMER = "customer_id"
    KEY = "stripe:authorize:{authorization_id}"
    authorization_id: str
    customer_id: str = key_part()


@dataclass(frozen=True, slots=True)
class AuthorizationCapture(Payload):
    """One per authorisation and matched invoice (an invoice paid before its capture ran leaves
    the hold for the next one); the handler and the connector make sure it is captured once."""

    KIND = K.STRIPE_AUTHORIZATION_CAPTURE
    CUSTOMER = "customer_id"
    KEY = "stripe:capture:{authorization_id}:{invoice_id}"
    authorization_id: str
    invoice_id: str
    customer_id: str = key_part()


@dataclass(frozen=True, slots=True)
class AuthorizationRelease(Payload):
    KIND = K.STRIPE_AUTHORIZATION_RELEASE
    CUSTOMER = "customer_id"
    KEY = "stripe:release:{authorization_id}"
    authorization_id: str
    customer_id: str = key_part()


@dataclass(frozen=True, slots=True)
class AuthorizationEmail(Payload):
    """``event`` is placed, captured or released: one email per authorisation and event."""

    KIND = K.EMAIL_AUTHORIZATION
    KEY = "email:authorization:{authorization_id}:{event}"
    authorization_id: str
    event: str


AUTHORIZATION_PAYLOADS: tuple[type[Payload], ...] = (
    AuthorizationPlace,
    AuthorizationCapture,
    AuthorizationRelease,
    AuthorizationEmail,
)
