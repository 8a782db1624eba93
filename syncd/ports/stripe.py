"""The typed contract between syncd and a Stripe account."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from syncd.domain import (
    BalanceTxn,
    CheckoutRequest,
    CheckoutSession,
    Dispute,
    PaymentIntent,
    Payout,
    Refund,
    SavedMethod,
    SetupRequest,
    StripeEvent,
)
from syncd.domain.authorizations import CardAuthorization
from syncd.domain.autopay import Mandate


@dataclass(frozen=True, slots=True)
class StripeSettings:
    """``api_base`` is None for real Stripe, else a simulator's base URL (same code path)."""

    api_key: str
    webhook_secret: str
    api_base: str | None = None
    # The version SDK 16.1 is generated for; there is no "2026-10-28.clover" (clover ends at 2026-02-25).
    api_version: str = "2026-10-28.endive"
    webhook_tolerance_seconds: int = 300
    max_network_retries: int = 3
    # Stripe Connect: the connected account (acct_…) every call acts on, sent as ``Stripe-Account``
    # with the platform's ``api_key``; None acts on the key's own account.
    stripe_account: str | None = None


class Stripe(Protocol):
    """One Stripe account. Raises only the syncd error tree: TransientError (429, 5xx, network),
    PermanentError (incl. DeclinedError / AuthenticationRequiredError with a customer message),
    AuthError (bad key). Stripe objects never come out; amounts come out as Decimal major units.

    Creates take an ``idempotency_key``; for a key older than 24 h the connector first looks the
    object up by syncd's metadata so a replay never creates a second one.
    """

    def check_key(self) -> None:
        """Ask Stripe once whether it accepts the key (a read of the balance); AuthError when it
        refuses, TransientError when Stripe cannot be reached."""

    def ensure_customer(
        self, *, company: str, qbo_customer_id: str, name: str, email: str | None, idempotency_key: str
    ) -> str:
        """The Stripe Customer id mapped 1:1 to the QBO customer, created lazily."""

    def create_checkout_session(
        self, request: CheckoutRequest, *, idempotency_key: str, first_attempt_at: datetime | None = None
    ) -> CheckoutSession:
        """``first_attempt_at``: when this ``payment_key`` was first sent (None on the first try);
        once that may be past Stripe's 24 h key window, an existing session is found by metadata.
        ``request.save_method`` keeps the payer's method on their Customer for later
        (``setup_future_usage=off_session``); syncd records the payer's consent under the
        ``payment_key`` first, and ``payment_intent.*`` events carry the saved method's id."""

    def get_checkout_session(self, session_id: str) -> CheckoutSession: ...

    def start_setup_checkout(self, request: SetupRequest, *, idempotency_key: str) -> CheckoutSession:
        """A setup-mode Checkout Session on ``request.customer_id``: the customer saves a card or
        US bank account on Stripe's page and nothing is charged. The same ``idempotency_key``
        within 24 h returns the same session; callers make a new request (a new key) once a
        session has expired. ``request_key``, ``company`` and ``qbo_customer`` are written to the
        session's and its SetupIntent's metadata. Raises ValidationError for a refused request."""

    def saved_methods(self, customer_id: str) -> list[SavedMethod]:
        """The customer's saved cards and US bank accounts (other types skipped), all pages, with
        ``is_default`` from the customer's ``invoice_settings.default_payment_method``. Read-only;
        ValidationError for an unknown customer."""

    def set_default_method(self, customer_id: str, payment_method_id: str, *, idempotency_key: str) -> None:
        """Make the method the customer's default (``invoice_settings.default_payment_method``).
        Setting the same default twice is harmless, so a replay needs no lookup. ValidationError
        when the method is not the customer's."""

    def detach_method(self, payment_method_id: str, *, idempotency_key: str) -> None:
        """Detach the method from its customer at Stripe (it can never be charged again); a
        method that is already detached is success, so replays after Stripe's key window are
        safe. Stripe clears the customer's default when it was this method."""

    def expire_checkout_session(self, session_id: str) -> CheckoutSession:
        """Expire an open session (no-op on an already expired or complete one)."""

    def get_payment_intent(self, payment_intent_id: str) -> PaymentIntent:
        """With its latest charge's balance transaction (fee, net, exchange rate) when settled."""

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
        """Autopay. Declines raise DeclinedError (``kind`` soft or hard); 3-D Secure raises
        AuthenticationRequiredError. ``mandate``: the customer's online acceptance, sent as
        ``mandate_data`` (a US bank account debit needs it). A replay finds the first attempt
        (by key, or by metadata once Stripe forgot the key) unless ``first_send`` says nothing
        was ever sent under this key (then the lookup, a Search call, is skipped)."""

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
        """A hold before the job: an off-session, manual-capture PaymentIntent on the saved card.
        Declines raise DeclinedError, 3-D Secure AuthenticationRequiredError; a replay answers
        with the first attempt's authorisation or decline."""

    def get_authorization(self, payment_intent_id: str) -> CardAuthorization: ...

    def capture_authorization(
        self, payment_intent_id: str, *, amount: Decimal, metadata: dict[str, str], idempotency_key: str
    ) -> CardAuthorization:
        """Capture ``amount`` (at most what is capturable; the rest is released) and write
        ``metadata`` on the intent so its ``payment_intent.succeeded`` finds the syncd payment.
        An intent already captured is returned as it is (never captured twice); one no longer
        capturable raises PermanentError."""

    def cancel_authorization(self, payment_intent_id: str, *, idempotency_key: str) -> CardAuthorization:
        """Release the hold; an intent already cancelled or captured is returned as it is."""

    def refund(
        self,
        *,
        payment_intent_id: str,
        amount: Decimal | None,
        metadata: dict[str, str],
        idempotency_key: str,
    ) -> Refund: ...

    def get_refund(self, refund_id: str) -> Refund: ...

    def get_dispute(self, dispute_id: str) -> Dispute: ...

    def get_payout(self, payout_id: str) -> Payout: ...

    def payout_balance_txns(self, payout_id: str) -> list[BalanceTxn]:
        """Every balance transaction settled by the payout (all pages)."""

    def balance_txns(self, *, created_from: datetime, created_to: datetime) -> Iterator[BalanceTxn]:
        """Every balance transaction created in [from, to), oldest first (all pages)."""

    def events_after(self, last_event_id: str | None, *, since: datetime) -> list[StripeEvent]:
        """Events newer than ``last_event_id`` (or created at/after ``since`` when None),
        oldest first, all pages."""

    def parse_event(self, payload: bytes) -> StripeEvent:
        """Parse an event body that was verified earlier (kept raw in the inbox); raises
        PermanentError for anything unparseable. Never trusts an unverified body: callers only
        pass what ``parse_webhook`` accepted before."""

    def parse_webhook(self, payload: bytes, signature_header: str | None) -> StripeEvent:
        """Verify ``Stripe-Signature`` within the tolerance and parse; raises SignatureError
        for unsigned, forged or stale bodies and PermanentError for unparseable ones."""


@dataclass(frozen=True, slots=True)
class WebhookEndpoint:
    """One webhook endpoint of the account; ``secret`` is only known right after create."""

    id: str
    url: str
    enabled_events: tuple[str, ...]
    enabled: bool
    managed: bool  # carries syncd's metadata, whatever its URL is now
    secret: str | None = field(default=None, repr=False)


class WebhookEndpointAdmin(Protocol):
    """The account's webhook endpoints (``syncd connect stripe``). Raises only the syncd error
    tree: AuthError for a refused key, ValidationError for a refused parameter, TransientError
    for network trouble and 5xx. Creates and updates are safe to retry within one call."""

    def list(self) -> list[WebhookEndpoint]:
        """Every endpoint of the account, all pages, without secrets."""

    def create(self, url: str, events: Sequence[str]) -> WebhookEndpoint:
        """A new enabled endpoint marked as syncd's, with ``secret`` (Stripe answers it once)."""

    def update(self, endpoint_id: str, url: str, events: Sequence[str]) -> WebhookEndpoint:
        """Point the endpoint at ``url`` with exactly ``events``, enabled, marked as syncd's."""

    def delete(self, endpoint_id: str) -> None: ...
