"""The simulator's shared state: configuration, objects, clock, event log hook and the one lock."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from connectors.stripe.simulator.clock import SimClock
from connectors.stripe.simulator.store import Store

JsonDict = dict[str, Any]

API_VERSION = "2026-10-28.endive"

# Fixed, illustrative conversion rates (US dollars per unit), so converted amounts are predictable.
USD_RATES: dict[str, Decimal] = {
    "usd": Decimal(1),
    "eur": Decimal("1.08"),
    "gbp": Decimal("1.27"),
    "cad": Decimal("0.73"),
    "aud": Decimal("0.66"),
    "jpy": Decimal("0.0067"),
    "kwd": Decimal("3.25"),
}


@dataclass
class SimConfig:
    api_key: str
    fee_percent: Decimal
    fee_fixed_minor: int
    ach_fee_percent: Decimal
    ach_fee_cap_minor: int
    payout_schedule_days: int
    dispute_fee_major: Decimal = Decimal("15.00")
    ach_settle_business_days: int = 4
    ach_return_business_days: int = 2
    api_version: str = API_VERSION
    public_url: str = "http://127.0.0.1"
    # None: each currency settles in itself (one balance per currency). Else charges in other
    # currencies are converted into it at ``usd_rates`` (US dollars per unit of each currency).
    settlement_currency: str | None = None
    # Seconds before a new object shows up in search results (Stripe: "usually within a minute").
    search_lag_seconds: int = 0
    usd_rates: dict[str, Decimal] = field(default_factory=lambda: dict(USD_RATES))


@dataclass
class RequestInfo:
    """The API request being served, echoed in each event's ``request`` field."""

    id: str | None = None
    idempotency_key: str | None = None


# The id of the account ``StripeSimulator(api_key=…)`` opens (the platform, under Connect).
FIRST_ACCOUNT = "acct_1SimPlatform0000"


@dataclass
class SimState:
    """One Stripe account. ``connected``: a Connect account reached through its platform's key;
    its events carry ``account`` (as Stripe's do) and go to the platform's Connect endpoints."""

    config: SimConfig
    store: Store
    clock: SimClock
    lock: threading.RLock
    request: RequestInfo = field(default_factory=RequestInfo)
    publish: Callable[[JsonDict], None] = lambda event: None
    account: str = FIRST_ACCOUNT
    connected: bool = False

    def now(self) -> int:
        return self.clock.timestamp()
