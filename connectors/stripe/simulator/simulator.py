"""``StripeSimulator``: the public handle tests and ``syncd demo`` use to run and steer the simulator."""

from __future__ import annotations

import copy
import dataclasses
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from connectors.lifecycle import Served
from connectors.serving import ThreadedServer
from connectors.stripe.simulator import (
    checkout_flow,
    customers,
    disputes,
    payment_methods,
    payouts,
    refunds,
    webhook_endpoints,
)
from connectors.stripe.simulator.accounts import Accounts
from connectors.stripe.simulator.app import ApiFront, build_app
from connectors.stripe.simulator.clock import SimClock
from connectors.stripe.simulator.errors import invalid_param
from connectors.stripe.simulator.faults import Faults
from connectors.stripe.simulator.hosted_page import success_target
from connectors.stripe.simulator.idempotency import IdempotencyKeys
from connectors.stripe.simulator.ids import random_token
from connectors.stripe.simulator.limits import RateLimits
from connectors.stripe.simulator.payment_methods import BEHAVIOURS, DEFAULT_EXPIRY
from connectors.stripe.simulator.state import SimConfig, SimState
from connectors.stripe.simulator.store import Store
from connectors.stripe.simulator.webhooks import Endpoint, WebhookDispatcher

JsonDict = dict[str, Any]


class _Clock(SimClock):
    """The simulator clock as tests see it: advancing also releases the events it caused."""

    def __init__(self, start: datetime | None, lock: threading.RLock, sim: StripeSimulator) -> None:
        super().__init__(start, lock)
        self._sim = sim

    def advance(self, delta: timedelta) -> None:
        try:
            super().advance(delta)
            self._sim._keys.expire(self.now())
        finally:
            self._sim.webhooks.commit()


class StripeSimulator(Served):
    """A Stripe account on a local port, speaking the REST wire protocol for what syncd uses.

    Fees: card ``fee_percent`` + ``fee_fixed_minor``; ACH ``ach_fee_percent`` capped at
    ``ach_fee_cap_minor``; both in the settlement currency's minor units, rounded half-up.
    Funds become available ``payout_schedule_days`` after midnight UTC of the charge day and, with
    ``automatic_payouts``, are swept to the bank at that midnight; payouts arrive the next day.
    ``settlement_currency`` (e.g. ``"usd"``) converts other currencies at fixed rates and sets
    ``exchange_rate`` on their balance transactions; by default each currency settles in itself.
    ``webhook_workers`` > 1 delivers webhooks concurrently (faster, and no longer in order).
    ``search_lag``: how long (simulator time) a new object stays invisible to Search.

    ``api_key`` opens the first account; :meth:`add_account` adds more (their own key, or
    connected to the first for Stripe Connect). Steering by object id finds the object's account;
    the others take ``account`` (default: the first).
    """

    def __init__(
        self,
        api_key: str = "sk_test_sim",
        fee_percent: Decimal = Decimal("2.9"),
        fee_fixed_minor: int = 30,
        ach_fee_percent: Decimal = Decimal("0.8"),
        ach_fee_cap_minor: int = 500,
        payout_schedule_days: int = 2,
        now: datetime | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        public_url: str | None = None,
        fault_seed: int | None = None,
        automatic_payouts: bool = True,
        settlement_currency: str | None = None,
        webhook_workers: int = 1,
        search_lag: timedelta = timedelta(0),
    ) -> None:
        self._lock = threading.RLock()
        self.webhooks = WebhookDispatcher(workers=webhook_workers)
        self.clock: SimClock = _Clock(now, self._lock, self)
        config = SimConfig(
            api_key=api_key,
            fee_percent=Decimal(fee_percent),
            fee_fixed_minor=fee_fixed_minor,
            ach_fee_percent=Decimal(ach_fee_percent),
            ach_fee_cap_minor=ach_fee_cap_minor,
            payout_schedule_days=payout_schedule_days,
            settlement_currency=settlement_currency.lower() if settlement_currency else None,
            search_lag_seconds=int(search_lag.total_seconds()),
        )
        self._state = SimState(config, Store(), self.clock, self._lock)
        self._state.publish = self._publisher(self._state)
        self._accounts = Accounts()
        self._accounts.add(self._state)
        self.faults = Faults(fault_seed)
        # Stripe's published rate limits; off by default (``limits.enabled = True`` to enforce).
        self.limits = RateLimits()
        self._keys = IdempotencyKeys()
        self._front = ApiFront(
            self._state, self.faults, self._keys, self.webhooks.commit, self._accounts, self.limits
        )
        self._server = ThreadedServer(build_app(self._front), host, port)
        config.public_url = public_url or self._server.url
        self._automatic_payouts = automatic_payouts
        self._fail_payouts: dict[str, list[bool]] = {}
        self._schedule_payouts(self._state)
        self._started = False
        self._stopped = False

    # lifecycle -----------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return self._server.url

    @property
    def api_key(self) -> str:
        return self._state.config.api_key

    @property
    def api_version(self) -> str:
        return self._state.config.api_version

    def start(self) -> StripeSimulator:
        self.webhooks.start()
        self._server.start()
        self._started = True
        return self

    def stop(self) -> None:
        """Stop serving and delivering; undelivered webhooks are dropped. Also releases the
        port of a simulator that was never started."""
        if self._stopped:
            return
        self._stopped = True
        self._server.stop()
        if self._started:
            self.webhooks.stop()
            self._started = False

    @contextmanager
    def _acting(self, account: str | None = None, *, holding: str | None = None) -> Iterator[SimState]:
        """The account named (the first by default), or the one holding the object ``holding``."""
        with self._lock:
            try:
                yield self._account(account, holding=holding)
            finally:
                self.webhooks.commit()

    def _account(self, account: str | None = None, *, holding: str | None = None) -> SimState:
        if holding is not None:
            return self._accounts.holding(holding)
        return self._accounts.get(account) if account else self._state

    # accounts ------------------------------------------------------------------------------
    def add_account(self, api_key: str | None = None, *, connected: bool = False) -> str:
        """Another Stripe account, same fees and clock; returns its ``acct_`` id. ``connected``: a
        Connect account of the first one, reached with the first account's key and the
        ``Stripe-Account`` header, whose events carry ``account`` and go to the first account's
        ``connect`` endpoints. Otherwise an account of its own, opened by ``api_key`` alone."""
        if connected == bool(api_key):
            raise ValueError("a connected account has no key of its own; any other account needs one")
        with self._lock:
            base = self._state.config
            config = dataclasses.replace(base, api_key=api_key or "", usd_rates=dict(base.usd_rates))
            state = SimState(
                config,
                Store(),
                self.clock,
                self._lock,
                account="acct_1" + random_token(15),
                connected=connected,
            )
            state.publish = self._publisher(state)
            self._accounts.add(state, self._state.account if connected else None)
            self._schedule_payouts(state)
            return state.account

    @property
    def account_id(self) -> str:
        """The first account's id (the platform, under Connect)."""
        return self._state.account

    def _schedule_payouts(self, state: SimState) -> None:
        self._fail_payouts[state.account] = []
        if self._automatic_payouts:
            payouts.schedule_daily(state, self._fail_payouts[state.account])

    def _publisher(self, state: SimState) -> Callable[[JsonDict], None]:
        """Where an account's events go: its own endpoints, or (connected) its platform's Connect
        endpoints; the endpoints are those subscribed when the event happens."""

        def publish(event: JsonDict) -> None:
            platform = self._accounts.platform(state)
            owner = platform if platform is not None else state
            found = webhook_endpoints.subscribers(owner, str(event["type"]), connect=platform is not None)
            self.webhooks.publish(event, [Endpoint(s.url, s.secret) for s in found])

        return publish

    # steering ------------------------------------------------------------------------------
    def add_webhook_endpoint(
        self,
        url: str,
        secret: str | None = None,
        enabled_events: tuple[str, ...] = ("*",),
        *,
        metadata: dict[str, str] | None = None,
        account: str | None = None,
        connect: bool = False,
    ) -> JsonDict:
        """Register an endpoint as the WebhookEndpoints API does, but with a chosen ``secret``
        (a fresh ``whsec_`` one when None); returns it, ``secret`` included. ``connect``: it gets
        the events of the accounts connected to ``account`` instead of the account's own."""
        with self._lock:
            return webhook_endpoints.register(
                self._account(account), url, enabled_events, secret=secret, metadata=metadata, connect=connect
            )

    def checkout_url(self, session_id: str) -> str:
        with self._lock:
            return str(self._account(holding=session_id).store.get("checkout.session", session_id)["url"])

    def pay_checkout(self, session_id: str, outcome: str, expiry: tuple[int, int] = DEFAULT_EXPIRY) -> None:
        """What a person choosing ``outcome`` on the hosted page does (in setup mode: saves that
        method, a card with ``expiry`` as (month, year)). Declines leave the session open (as
        Stripe does); the PaymentIntent or SetupIntent and events record the attempt."""
        with self._acting(holding=session_id) as state:
            session = state.store.get("checkout.session", session_id)
            checkout_flow.pay(state, session, outcome, expiry)

    def success_redirect(self, session_id: str) -> str:
        """Where the hosted page sends the payer after paying (``{CHECKOUT_SESSION_ID}`` filled in)."""
        with self._lock:
            return success_target(self._account(holding=session_id).store.get("checkout.session", session_id))

    def create_payout(self, *, fail: bool = False, account: str | None = None) -> str:
        """Pay out the available balance now; ``fail=True`` makes it fail at arrival."""
        with self._acting(account) as state:
            created = payouts.sweep(state, fail=fail)
            if not created:
                raise invalid_param("amount", "There is no available balance to pay out.")
            return created[0]

    def fail_next_payout(self, account: str | None = None) -> None:
        """The next automatic payout fails at its arrival date (``payout.failed``)."""
        with self._lock:
            self._fail_payouts[self._account(account).account].append(True)

    def open_dispute(self, charge_id: str, reason: str = "fraudulent") -> str:
        with self._acting(holding=charge_id) as state:
            charge = state.store.get("charge", charge_id)
            return str(disputes.open_dispute(state, charge, reason)["id"])

    def close_dispute(self, dispute_id: str, won: bool) -> None:
        with self._acting(holding=dispute_id) as state:
            disputes.close_dispute(state, state.store.get("dispute", dispute_id), won=won)

    def fail_refund(self, refund_id: str, reason: str = "expired_or_canceled_card") -> None:
        """The refund comes back from the customer's bank (``refund.failed``)."""
        with self._acting(holding=refund_id) as state:
            refunds.fail_refund(state, state.store.get("refund", refund_id), reason)

    def set_exchange_rate(self, currency: str, usd_per_unit: Decimal) -> None:
        """Move a conversion rate (US dollars per unit of ``currency``) for what is settled from now
        on: markets move between a charge and its refund."""
        with self._lock:
            for state in self._accounts:
                state.config.usd_rates[currency.lower()] = usd_per_unit

    def roll_api_key(self, new_key: str) -> None:
        """What the dashboard's "Roll key" does: from now on only ``new_key`` is accepted."""
        with self._lock:
            self._state.config.api_key = new_key

    def save_method(
        self,
        name: str,
        token: str = "pm_card_visa",  # noqa: S107 (a Stripe test payment method, not a secret)
        account: str | None = None,
    ) -> tuple[str, str]:
        """A customer with the test method ``token`` attached, as setup-mode Checkout leaves them
        (a seeding shortcut: no API request is counted or limited); (customer id, method id)."""
        with self._lock:
            state = self._account(account=account)
            customer = customers.new_customer(state, {"name": name})
            method = payment_methods.attach(state, payment_methods.resolve(state, token), customer["id"])
        self.webhooks.commit()
        return str(customer["id"]), str(method["id"])

    def set_payment_method_behaviour(self, payment_method_id: str, behaviour: str) -> None:
        """Make a saved method behave differently from now on (e.g. a saved card that starts
        declining): one of card_success, card_declined, insufficient_funds, requires_action,
        ach_success, ach_failure, ach_return."""
        if behaviour not in BEHAVIOURS:
            raise ValueError(f"unknown behaviour {behaviour!r}")
        with self._lock:
            state = self._account(holding=payment_method_id)
            state.store.get("payment_method", payment_method_id)
            state.store.note(payment_method_id)["behaviour"] = behaviour

    # assertions ----------------------------------------------------------------------------
    def request_count(self) -> int:
        with self._lock:
            return self._front.count

    def objects(self, kind: str, account: str | None = None) -> list[JsonDict]:
        """Raw stored objects of a kind (``payment_intent``, ``checkout.session``, ``event`` …) of
        one account (the first by default)."""
        with self._lock:
            return copy.deepcopy(self._account(account).store.all(kind))
