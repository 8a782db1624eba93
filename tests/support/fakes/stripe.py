"""An in-memory Stripe account implementing ``syncd.ports.stripe.Stripe``, held to the same contract
tests as the connector over the simulator."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TypeVar, cast

from syncd.domain import (
    BalanceTxn,
    CheckoutRequest,
    CheckoutSession,
    CheckoutStatus,
    Dispute,
    DisputeStatus,
    MethodKind,
    PaymentIntent,
    PaymentIntentStatus,
    Payout,
    PayoutStatus,
    Refund,
    SavedMethod,
    SetupRequest,
    StripeEvent,
    StripeEventKind,
)
from syncd.domain.authorizations import CardAuthorization
from syncd.domain.autopay import Mandate
from syncd.errors import (
    AuthenticationRequiredError,
    AuthError,
    Credential,
    DeclinedError,
    PermanentError,
    SignatureError,
    ValidationError,
)
from syncd.ports.stripe import Stripe

KEY_WINDOW = timedelta(hours=24)
TOLERANCE = timedelta(seconds=300)
# Stripe's test payment methods whose off-session charge fails.
DECLINED = "pm_card_chargeDeclined"
NEEDS_AUTHENTICATION = "pm_card_authenticationRequired"
CENT = Decimal("0.01")
T = TypeVar("T")
WEBHOOK_SECRET = "whsec_fake"


class FakeStripe:
    """One Stripe account in memory: customers, Checkout Sessions, payments with fees (2.9 % + 0.30),
    refunds, disputes, payouts and the events they raise. Creates are idempotent under their key;
    ``key_refused`` stands for a revoked API key. The payer's side is played by ``pay_checkout``,
    ``save_method``, ``dispute`` and ``pay_out``."""

    def __init__(
        self,
        *,
        webhook_secret: str = WEBHOOK_SECRET,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.webhook_secret = webhook_secret
        self.clock = clock
        self.key_refused = False
        self.customers: dict[str, dict[str, str | None]] = {}
        self.methods: dict[str, SavedMethod] = {}
        self.sessions: dict[str, CheckoutSession] = {}
        self.intents: dict[str, PaymentIntent] = {}
        self.refunds: dict[str, Refund] = {}
        self.disputes: dict[str, Dispute] = {}
        self.payouts: dict[str, Payout] = {}
        self.txns: dict[str, BalanceTxn] = {}
        self.paid_out: dict[str, list[str]] = {}  # payout id -> balance transaction ids
        self.events: list[StripeEvent] = []
        self.holds: dict[str, CardAuthorization] = {}
        self._keys: dict[str, object] = {}
        self._n = 0

    # -- plumbing ---------------------------------------------------------------------------------

    def _id(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}_fake{self._n:06d}"

    def _call(self) -> None:
        if self.key_refused:
            raise AuthError("Stripe refused the API key", credential=Credential.STRIPE_KEY)

    def _once(self, key: str, create: Callable[[], T]) -> T:
        self._call()
        if key not in self._keys:
            self._keys[key] = create()
        return cast(T, self._keys[key])

    def _emit(self, event_type: str, object_id: str, **fields: object) -> StripeEvent:
        event = StripeEvent(
            id=self._id("evt"),
            kind=StripeEventKind.parse(event_type),
            type=event_type,
            created=self.clock(),
            object_id=object_id,
            livemode=False,
            **fields,  # type: ignore[arg-type]
        )
        self.events.append(event)
        return event

    def _txn(self, kind: str, source: str, amount: Decimal, fee: Decimal, currency: str) -> BalanceTxn:
        now = self.clock()
        txn = BalanceTxn(self._id("txn"), kind, source, amount, fee, amount - fee, currency, None, now, now)
        self.txns[txn.id] = txn
        return txn

    @staticmethod
    def _unknown(what: str, object_id: str) -> ValidationError:
        return ValidationError(f"No such {what}: '{object_id}'")

    def _get(self, table: dict[str, T], what: str, object_id: str) -> T:
        self._call()
        if object_id not in table:
            raise self._unknown(what, object_id)
        return table[object_id]

    # -- customers and saved methods --------------------------------------------------------------

    def check_key(self) -> None:
        self._call()

    def ensure_customer(
        self, *, company: str, qbo_customer_id: str, name: str, email: str | None, idempotency_key: str
    ) -> str:
        self._call()
        for customer_id, c in self.customers.items():
            if (c["company"], c["qbo_customer"]) == (company, qbo_customer_id):
                return customer_id

        def create() -> str:
            customer_id = self._id("cus")
            self.customers[customer_id] = {
                "company": company,
                "qbo_customer": qbo_customer_id,
                "name": name,
                "email": email,
                "default": None,
            }
            return customer_id

        return self._once(idempotency_key, create)

    def _customer(self, customer_id: str) -> dict[str, str | None]:
        self._call()
        if customer_id not in self.customers:
            raise self._unknown("customer", customer_id)
        return self.customers[customer_id]

    def save_method(self, customer_id: str, kind: MethodKind = MethodKind.CARD) -> SavedMethod:
        """The payer saves a method on Stripe's page (test hook): attached, with its event."""
        card = kind is MethodKind.CARD
        method = SavedMethod(
            id=self._id("pm"),
            kind=kind,
            last4="4242" if card else "6789",
            customer_id=customer_id,
            created=self.clock(),
            brand="visa" if card else None,
            exp_month=8 if card else None,
            exp_year=2030 if card else None,
            bank_name=None if card else "STRIPE TEST BANK",
        )
        self.methods[method.id] = method
        self._emit("payment_method.attached", method.id)
        return method

    def saved_methods(self, customer_id: str) -> list[SavedMethod]:
        default = self._customer(customer_id)["default"]
        return [
            dataclasses.replace(m, is_default=m.id == default)
            for m in self.methods.values()
            if m.customer_id == customer_id
        ]

    def set_default_method(self, customer_id: str, payment_method_id: str, *, idempotency_key: str) -> None:
        customer = self._customer(customer_id)
        method = self.methods.get(payment_method_id)
        if method is None or method.customer_id != customer_id:
            raise ValidationError(f"payment method {payment_method_id} is not {customer_id}'s")
        customer["default"] = payment_method_id

    def detach_method(self, payment_method_id: str, *, idempotency_key: str) -> None:
        self._call()
        method = self.methods.get(payment_method_id)
        if method is None:
            raise self._unknown("payment_method", payment_method_id)
        if method.customer_id is None:
            return
        customer = self.customers[method.customer_id]
        if customer["default"] == payment_method_id:
            customer["default"] = None
        self.methods[payment_method_id] = dataclasses.replace(method, customer_id=None)
        self._emit("payment_method.detached", payment_method_id)

    # -- Checkout ---------------------------------------------------------------------------------

    def create_checkout_session(
        self, request: CheckoutRequest, *, idempotency_key: str, first_attempt_at: datetime | None = None
    ) -> CheckoutSession:
        self._call()
        if first_attempt_at is not None and self.clock() - first_attempt_at >= KEY_WINDOW:
            for session in self.sessions.values():
                live = session.status is not CheckoutStatus.EXPIRED
                if live and session.metadata.get("payment_key") == request.payment_key:
                    return session

        def create() -> CheckoutSession:
            session_id = self._id("cs")
            session = CheckoutSession(
                id=session_id,
                url=f"https://checkout.stripe.fake/c/pay/{session_id}",
                status=CheckoutStatus.OPEN,
                payment_status="unpaid",
                payment_intent_id=None,
                amount=request.amount,
                currency=request.currency.upper(),
                metadata={
                    "company": request.company,
                    "invoice_ids": ",".join(request.invoice_ids),
                    "payment_key": request.payment_key,
                },
                expires_at=request.expires_at or self.clock() + timedelta(hours=24),
            )
            self.sessions[session_id] = session
            return session

        return self._once(idempotency_key, create)

    def start_setup_checkout(self, request: SetupRequest, *, idempotency_key: str) -> CheckoutSession:
        self._customer(request.customer_id)

        def create() -> CheckoutSession:
            session_id = self._id("cs")
            session = CheckoutSession(
                id=session_id,
                url=f"https://checkout.stripe.fake/c/setup/{session_id}",
                status=CheckoutStatus.OPEN,
                payment_status="no_payment_required",
                payment_intent_id=None,
                amount=Decimal(0),
                currency=request.currency.upper(),
                metadata={
                    "request_key": request.request_key,
                    "company": request.company,
                    "qbo_customer": request.qbo_customer_id,
                },
                expires_at=request.expires_at,
            )
            self.sessions[session_id] = session
            return session

        return self._once(idempotency_key, create)

    def get_checkout_session(self, session_id: str) -> CheckoutSession:
        return self._get(self.sessions, "checkout.session", session_id)

    def expire_checkout_session(self, session_id: str) -> CheckoutSession:
        session = self.get_checkout_session(session_id)
        if session.status is CheckoutStatus.OPEN:
            session = self.sessions[session_id] = dataclasses.replace(session, status=CheckoutStatus.EXPIRED)
            self._emit("checkout.session.expired", session_id, metadata=session.metadata)
        return session

    def pay_checkout(self, session_id: str) -> PaymentIntent:
        """The payer pays an open session by card (test hook): the intent succeeds, with its fee."""
        session = self.get_checkout_session(session_id)
        if session.status is not CheckoutStatus.OPEN:
            raise ValidationError(f"checkout session {session_id} is {session.status.value}")
        intent = self._succeed(session.amount, session.currency, dict(session.metadata), None)
        self.sessions[session_id] = dataclasses.replace(
            session, status=CheckoutStatus.COMPLETE, payment_status="paid", payment_intent_id=intent.id
        )
        fields: dict[str, object] = {"metadata": session.metadata, "payment_intent_id": intent.id}
        self._emit(
            "checkout.session.completed", session_id, checkout_session_id=session_id, paid=True, **fields
        )
        self._emit(
            "payment_intent.succeeded", intent.id, amount=intent.amount, currency=intent.currency, **fields
        )
        return intent

    # -- money ------------------------------------------------------------------------------------

    def _succeed(
        self, amount: Decimal, currency: str, metadata: dict[str, str], customer_id: str | None
    ) -> PaymentIntent:
        charge_id = self._id("ch")
        fee = (amount * Decimal("0.029") + Decimal("0.30")).quantize(CENT, ROUND_HALF_UP)
        intent = PaymentIntent(
            id=self._id("pi"),
            status=PaymentIntentStatus.SUCCEEDED,
            amount=amount,
            amount_received=amount,
            currency=currency,
            metadata=metadata,
            customer_id=customer_id,
            latest_charge_id=charge_id,
            payment_method_type="card",
            balance_txn=self._txn("charge", charge_id, amount, fee, currency),
            created=self.clock(),
        )
        self.intents[intent.id] = intent
        return intent

    def get_payment_intent(self, payment_intent_id: str) -> PaymentIntent:
        return self._get(self.intents, "payment_intent", payment_intent_id)

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
        self._customer(customer_id)

        def charge() -> PaymentIntent | DeclinedError:
            if payment_method_id == NEEDS_AUTHENTICATION:
                return AuthenticationRequiredError(
                    "authentication_required",
                    customer_message="Your bank asks you to confirm this payment: pay from the link.",
                    code="authentication_required",
                )
            if payment_method_id == DECLINED:
                return DeclinedError(
                    "card_declined", customer_message="Your card was declined.", code="card_declined"
                )
            intent = self._succeed(amount, currency.upper(), dict(metadata), customer_id)
            self._emit("payment_intent.succeeded", intent.id, metadata=metadata, payment_intent_id=intent.id)
            return intent

        answer = self._once(idempotency_key, charge)
        if isinstance(answer, DeclinedError):
            raise answer
        return answer

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
        self._customer(customer_id)

        def hold() -> CardAuthorization | DeclinedError:
            if payment_method_id == DECLINED:
                return DeclinedError(
                    "card_declined", customer_message="Your card was declined.", code="card_declined"
                )
            held = CardAuthorization(
                id=self._id("pi"),
                status="requires_capture",
                amount=amount,
                amount_capturable=amount,
                amount_received=Decimal(0),
                currency=currency.upper(),
                metadata=dict(metadata),
                capture_before=self.clock() + timedelta(days=7),
            )
            self.holds[held.id] = held
            return held

        answer = self._once(idempotency_key, hold)
        if isinstance(answer, DeclinedError):
            raise answer
        return answer

    def get_authorization(self, payment_intent_id: str) -> CardAuthorization:
        return self._get(self.holds, "payment_intent", payment_intent_id)

    def capture_authorization(
        self, payment_intent_id: str, *, amount: Decimal, metadata: dict[str, str], idempotency_key: str
    ) -> CardAuthorization:
        held = self.get_authorization(payment_intent_id)
        if held.captured:
            return held
        if not held.held:
            raise PermanentError(f"authorisation {payment_intent_id} is {held.status}: nothing to capture")
        if not Decimal(0) < amount <= held.amount_capturable:
            raise ValidationError(f"refusing to capture {amount} of {held.amount_capturable}")
        tags = {**held.metadata, **metadata}
        intent = self._succeed(amount, held.currency, tags, None)
        self.intents[payment_intent_id] = dataclasses.replace(
            self.intents.pop(intent.id), id=payment_intent_id
        )
        done = dataclasses.replace(
            held, status="succeeded", amount_received=amount, amount_capturable=Decimal(0), metadata=tags
        )
        self.holds[payment_intent_id] = done
        self._emit(
            "payment_intent.succeeded", payment_intent_id, metadata=tags, payment_intent_id=payment_intent_id
        )
        return done

    def cancel_authorization(self, payment_intent_id: str, *, idempotency_key: str) -> CardAuthorization:
        held = self.get_authorization(payment_intent_id)
        if not held.held:
            return held
        gone = dataclasses.replace(
            held, status="canceled", amount_capturable=Decimal(0), cancellation_reason="abandoned"
        )
        self.holds[payment_intent_id] = gone
        return gone

    def refund(
        self,
        *,
        payment_intent_id: str,
        amount: Decimal | None,
        metadata: dict[str, str],
        idempotency_key: str,
    ) -> Refund:
        intent = self.get_payment_intent(payment_intent_id)

        def create() -> Refund:
            refunded = sum(
                (r.amount for r in self.refunds.values() if r.payment_intent_id == intent.id), Decimal(0)
            )
            left = intent.amount_received - refunded
            wanted = left if amount is None else amount
            if not Decimal(0) < wanted <= left:
                raise ValidationError(f"refund of {wanted} is more than the {left} left on {intent.id}")
            assert intent.latest_charge_id is not None
            refund_id = self._id("re")
            refund = Refund(
                id=refund_id,
                charge_id=intent.latest_charge_id,
                payment_intent_id=intent.id,
                amount=wanted,
                currency=intent.currency,
                status="succeeded",
                balance_txn=self._txn("refund", refund_id, -wanted, Decimal(0), intent.currency),
                created=self.clock(),
                metadata=dict(metadata),
            )
            self.refunds[refund_id] = refund
            self._emit("refund.created", refund_id, payment_intent_id=intent.id, metadata=metadata)
            return refund

        return self._once(idempotency_key, create)

    def get_refund(self, refund_id: str) -> Refund:
        return self._get(self.refunds, "refund", refund_id)

    def dispute(self, payment_intent_id: str) -> Dispute:
        """The payer's bank disputes the whole payment (test hook): withdrawn with a 15.00 fee."""
        intent = self.get_payment_intent(payment_intent_id)
        assert intent.latest_charge_id is not None
        dispute_id = self._id("dp")
        withdrawal = self._txn("adjustment", dispute_id, -intent.amount, Decimal("15.00"), intent.currency)
        dispute = Dispute(
            dispute_id,
            intent.latest_charge_id,
            intent.id,
            intent.amount,
            intent.currency,
            DisputeStatus.NEEDS_RESPONSE,
            (withdrawal,),
            self.clock(),
        )
        self.disputes[dispute_id] = dispute
        self._emit("charge.dispute.created", dispute_id, payment_intent_id=intent.id, status="needs_response")
        return dispute

    def get_dispute(self, dispute_id: str) -> Dispute:
        return self._get(self.disputes, "dispute", dispute_id)

    def pay_out(self, currency: str = "USD") -> Payout:
        """Stripe pays the available balance of ``currency`` out to the bank (test hook)."""
        done = {t for ids in self.paid_out.values() for t in ids}
        settled = [t for t in self.txns.values() if t.currency == currency and t.id not in done]
        payout_id = self._id("po")
        amount = sum((t.net for t in settled), Decimal(0))
        txn = self._txn("payout", payout_id, -amount, Decimal(0), currency)
        payout = Payout(payout_id, amount, currency, PayoutStatus.PAID, self.clock(), self.clock(), txn.id)
        self.payouts[payout_id] = payout
        self.paid_out[payout_id] = [t.id for t in settled] + [txn.id]
        self._emit("payout.paid", payout_id, amount=amount, currency=currency, status="paid")
        return payout

    def get_payout(self, payout_id: str) -> Payout:
        return self._get(self.payouts, "payout", payout_id)

    def payout_balance_txns(self, payout_id: str) -> list[BalanceTxn]:
        self.get_payout(payout_id)
        return [self.txns[t] for t in self.paid_out[payout_id]]

    def balance_txns(self, *, created_from: datetime, created_to: datetime) -> Iterator[BalanceTxn]:
        self._call()
        yield from sorted(
            (t for t in self.txns.values() if created_from <= t.created < created_to), key=lambda t: t.created
        )

    # -- events -----------------------------------------------------------------------------------

    def events_after(self, last_event_id: str | None, *, since: datetime) -> list[StripeEvent]:
        self._call()
        ids = [e.id for e in self.events]
        if last_event_id in ids:
            return self.events[ids.index(last_event_id) + 1 :]
        return [e for e in self.events if e.created >= since]

    def body(self, event: StripeEvent) -> bytes:
        """What a webhook delivery of ``event`` carries (this fake's own shape: its id)."""
        return json.dumps({"id": event.id, "object": "event"}).encode()

    def sign(self, body: bytes, at: datetime | None = None) -> str:
        """A ``Stripe-Signature`` header for ``body`` under the webhook secret."""
        t = int((at or self.clock()).timestamp())
        digest = hmac.new(self.webhook_secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
        return f"t={t},v1={digest}"

    def parse_event(self, payload: bytes) -> StripeEvent:
        try:
            event_id = json.loads(payload)["id"]
        except (ValueError, TypeError, KeyError):
            raise PermanentError("unparseable Stripe event body") from None
        found = [e for e in self.events if e.id == event_id]
        if not found:
            raise PermanentError(f"unknown Stripe event {event_id!r}")
        return found[0]

    def parse_webhook(self, payload: bytes, signature_header: str | None) -> StripeEvent:
        parts = dict(p.split("=", 1) for p in (signature_header or "").split(",") if "=" in p)
        try:
            at = datetime.fromtimestamp(int(parts["t"]), UTC)
        except (KeyError, ValueError):
            raise SignatureError("no usable Stripe-Signature header") from None
        if abs(self.clock() - at) > TOLERANCE:
            raise SignatureError("Stripe-Signature is outside the tolerance window")
        if not hmac.compare_digest(self.sign(payload, at), f"t={parts['t']},v1={parts.get('v1', '')}"):
            raise SignatureError("Stripe-Signature does not match")
        return self.parse_event(payload)


def _is_stripe(fake: FakeStripe) -> Stripe:
    return fake  # mypy proves the fake implements the whole Protocol
