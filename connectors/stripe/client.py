"""StripeConnector: the Stripe Protocol on the official SDK's StripeClient."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

import stripe
import structlog

from connectors.stripe import events, idempotency, mapping, methods, webhooks
from connectors.stripe.amounts import to_minor
from connectors.stripe.base import PAGE
from connectors.stripe.checkout import session_params
from connectors.stripe.intents import IntentCalls
from syncd.domain import (
    BalanceTxn,
    CheckoutRequest,
    CheckoutSession,
    CheckoutStatus,
    Dispute,
    Payout,
    Refund,
    SavedMethod,
    SetupRequest,
    StripeEvent,
)
from syncd.errors import PermanentError, TransientError, ValidationError

log = structlog.get_logger(__name__)


class StripeConnector(IntentCalls):
    """One Stripe account over HTTP; the same code path for real Stripe and the simulator.

    ``http_client`` and ``sleep`` exist so tests can avoid real back-off waits; ``clock`` decides
    whether an idempotency key may have expired. ``stored_webhook_secret`` is asked for the signing
    secret at each webhook while ``settings.webhook_secret`` is empty (``syncd connect stripe``).
    """

    def ensure_customer(
        self, *, company: str, qbo_customer_id: str, name: str, email: str | None, idempotency_key: str
    ) -> str:
        """Search first (see idempotency.py); create under the key only when nothing is found."""

        def find() -> str | None:
            return idempotency.find_customer(self._client, company, qbo_customer_id)

        found = self._call(find)
        if found is not None:
            return found
        params: stripe.params.CustomerCreateParams = {
            "name": name,
            "metadata": {"company": company, "qbo_customer": qbo_customer_id},
        }
        if email:
            params["email"] = email
        options = self._options(idempotency_key)
        try:
            created = self._call(lambda: self._client.v1.customers.create(params, options))
        except PermanentError as exc:
            if not isinstance(exc.__cause__, stripe.IdempotencyError):
                raise
            # The key already created this customer with an older name or email, and Search has
            # not caught up yet: it will within about a minute, so this is worth a retry.
            found = self._call(find)
            if found is None:
                raise TransientError(f"customer for QBO {qbo_customer_id} not searchable yet") from exc
            return found
        return mapping.customer_id(created.to_dict())

    def create_checkout_session(
        self, request: CheckoutRequest, *, idempotency_key: str, first_attempt_at: datetime | None = None
    ) -> CheckoutSession:
        """``first_attempt_at`` is when this payment_key was first sent; when that may be outside
        Stripe's key window the session is first looked up by its metadata."""
        params = session_params(request)
        if idempotency.may_have_expired(first_attempt_at, self._clock()):
            assert first_attempt_at is not None
            since = first_attempt_at
            found = self._call(
                lambda: idempotency.find_checkout_session(
                    self._client, company=request.company, payment_key=request.payment_key, since=since
                )
            )
            if found is not None:
                return mapping.checkout_session(found)
        options = self._options(idempotency_key)
        created = self._call(lambda: self._client.v1.checkout.sessions.create(params, options))
        return mapping.checkout_session(created.to_dict())

    def get_checkout_session(self, session_id: str) -> CheckoutSession:
        found = self._call(lambda: self._client.v1.checkout.sessions.retrieve(session_id))
        return mapping.checkout_session(found.to_dict())

    def expire_checkout_session(self, session_id: str) -> CheckoutSession:
        current = self.get_checkout_session(session_id)
        if current.status is not CheckoutStatus.OPEN:
            return current
        try:
            expired = self._call(lambda: self._client.v1.checkout.sessions.expire(session_id))
        except ValidationError:
            # Completed or expired between the read and the expire: report what it is now.
            latest = self.get_checkout_session(session_id)
            if latest.status is CheckoutStatus.OPEN:
                raise
            return latest
        return mapping.checkout_session(expired.to_dict())

    def start_setup_checkout(self, request: SetupRequest, *, idempotency_key: str) -> CheckoutSession:
        params = methods.setup_session_params(request)
        options = self._options(idempotency_key)
        created = self._call(lambda: self._client.v1.checkout.sessions.create(params, options))
        return mapping.checkout_session(created.to_dict())

    def saved_methods(self, customer_id: str) -> list[SavedMethod]:
        """Cards and US bank accounts (other types are skipped), newest first, all pages."""

        def fetch() -> tuple[dict[str, Any], list[dict[str, Any]]]:
            customer = self._client.v1.customers.retrieve(customer_id).to_dict()
            pages = self._client.v1.customers.payment_methods.list(customer_id, {"limit": PAGE})
            return customer, [item.to_dict() for item in pages.auto_paging_iter()]

        customer, found = self._call(fetch)
        default = methods.default_method_id(customer)
        kinds = {"card", "us_bank_account"}
        return [methods.saved_method(obj, default_id=default) for obj in found if obj.get("type") in kinds]

    def set_default_method(self, customer_id: str, payment_method_id: str, *, idempotency_key: str) -> None:
        params: stripe.params.CustomerUpdateParams = {
            "invoice_settings": {"default_payment_method": payment_method_id}
        }
        options = self._options(idempotency_key)
        self._call(lambda: self._client.v1.customers.update(customer_id, params, options))

    def detach_method(self, payment_method_id: str, *, idempotency_key: str) -> None:
        options = self._options(idempotency_key)
        try:
            self._call(lambda: self._client.v1.payment_methods.detach(payment_method_id, None, options))
        except ValidationError:
            # Detached already (a replay past Stripe's key window, or removed at the dashboard).
            found = self._call(lambda: self._client.v1.payment_methods.retrieve(payment_method_id))
            if found.to_dict().get("customer") is not None:
                raise

    def refund(
        self,
        *,
        payment_intent_id: str,
        amount: Decimal | None,
        metadata: dict[str, str],
        idempotency_key: str,
    ) -> Refund:
        key = idempotency.wire_key(idempotency_key)
        earlier = self._call(
            lambda: idempotency.find_refund(self._client, payment_intent_id=payment_intent_id, key=key)
        )
        if earlier is not None:
            return self.get_refund(earlier)
        params: stripe.params.RefundCreateParams = {
            "payment_intent": payment_intent_id,
            "metadata": idempotency.tagged(metadata, key),
            "expand": ["balance_transaction"],
        }
        if amount is not None:
            intent = self.get_payment_intent(payment_intent_id)
            minor = to_minor(amount, intent.currency)
            if minor <= 0:
                raise ValidationError(f"refusing to refund {amount} {intent.currency}")
            params["amount"] = minor
        options = self._options(key)
        created = self._call(lambda: self._client.v1.refunds.create(params, options))
        return mapping.refund(created.to_dict())

    def get_refund(self, refund_id: str) -> Refund:
        found = self._call(
            lambda: self._client.v1.refunds.retrieve(
                refund_id, {"expand": ["balance_transaction", "failure_balance_transaction"]}
            )
        )
        return mapping.refund(found.to_dict())

    def get_dispute(self, dispute_id: str) -> Dispute:
        found = self._call(lambda: self._client.v1.disputes.retrieve(dispute_id))
        return mapping.dispute(found.to_dict())

    def get_payout(self, payout_id: str) -> Payout:
        found = self._call(lambda: self._client.v1.payouts.retrieve(payout_id))
        return mapping.payout(found.to_dict())

    def _all_balance_txns(self, params: stripe.params.BalanceTransactionListParams) -> list[BalanceTxn]:
        """Every page, oldest first (Stripe lists newest first)."""

        def fetch() -> list[dict[str, Any]]:
            pages = self._client.v1.balance_transactions.list(params)
            return [item.to_dict() for item in pages.auto_paging_iter()]

        return [mapping.balance_txn(obj) for obj in reversed(self._call(fetch))]

    def payout_balance_txns(self, payout_id: str) -> list[BalanceTxn]:
        return self._all_balance_txns({"payout": payout_id, "limit": PAGE})

    def balance_txns(self, *, created_from: datetime, created_to: datetime) -> Iterator[BalanceTxn]:
        window: stripe.params.BalanceTransactionListParamsCreated = {
            "gte": int(created_from.timestamp()),
            # Stripe stores whole seconds: round the open end up so nothing before it is lost.
            "lt": math.ceil(created_to.timestamp()),
        }
        yield from self._all_balance_txns({"created": window, "limit": PAGE})

    def events_after(self, last_event_id: str | None, *, since: datetime) -> list[StripeEvent]:
        """With a cursor, pages forward from it (Stripe's ``ending_before``); a cursor Stripe no
        longer knows (events live 30 days) falls back to ``since``."""
        if last_event_id is not None:
            try:
                return self._events({"ending_before": last_event_id, "limit": PAGE}, oldest_first=True)
            except ValidationError as exc:
                log.warning(
                    "stripe.event_cursor_refused",
                    cursor=last_event_id,
                    error=str(exc),
                    listing_since=since.isoformat(),
                )
        return self._events({"created": {"gte": int(since.timestamp())}, "limit": PAGE}, oldest_first=False)

    def _events(self, params: stripe.params.EventListParams, *, oldest_first: bool) -> list[StripeEvent]:
        def fetch() -> list[dict[str, Any]]:
            pages = self._client.v1.events.list(params)
            return [item.to_dict() for item in pages.auto_paging_iter()]

        found = self._call(fetch)
        ordered = found if oldest_first else list(reversed(found))
        return [events.stripe_event(obj) for obj in ordered]

    def parse_event(self, payload: bytes) -> StripeEvent:
        """A body ``parse_webhook`` accepted earlier, replayed from syncd's inbox (no re-verify:
        the signature's timestamp would be stale by then)."""
        return webhooks.parse_verified(payload)

    def parse_webhook(self, payload: bytes, signature_header: str | None) -> StripeEvent:
        secret = self._settings.webhook_secret
        if not secret and self._stored_webhook_secret is not None:
            secret = self._stored_webhook_secret() or ""
        return webhooks.parse(
            payload, signature_header, secret, tolerance=self._settings.webhook_tolerance_seconds
        )
