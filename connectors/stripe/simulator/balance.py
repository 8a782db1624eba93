"""Processor fees, balance transactions (pending until ``available_on``) and the account balance."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from connectors.stripe.simulator.currency import exponent, major_to_minor, percent_of
from connectors.stripe.simulator.errors import bad_state
from connectors.stripe.simulator.events import emit
from connectors.stripe.simulator.forms import opt_str
from connectors.stripe.simulator.listing import LIST_SPEC, created_filter, list_object
from connectors.stripe.simulator.resources import retrieve_route
from connectors.stripe.simulator.routing import Ctx, Route
from connectors.stripe.simulator.state import SimState

JsonDict = dict[str, Any]


@dataclass(frozen=True)
class Settled:
    """An amount as it lands in the balance: maybe converted, with the rate used."""

    amount: int
    currency: str
    exchange_rate: Decimal | None


def settle(state: SimState, amount: int, currency: str) -> Settled:
    """Convert a presentment amount into the settlement currency, if one is configured."""
    target = state.config.settlement_currency
    if target is None or target == currency:
        return Settled(amount, currency, None)
    rates = state.config.usd_rates
    if currency not in rates or target not in rates:
        raise bad_state(f"No conversion rate from {currency} to {target} in this simulator.")
    rate = (rates[currency] / rates[target]).quantize(Decimal("0.000001"))
    major = Decimal(amount).scaleb(-exponent(currency)) * rate
    return Settled(major_to_minor(major, target), target, rate)


def card_fee(state: SimState, amount: int) -> int:
    """Percent plus fixed, in the charge currency's minor units, the percent part rounded half-up.
    The fixed part is taken as-is in the charge currency (30 = 0.30 USD, 30 JPY, 0.030 KWD)."""
    return percent_of(amount, state.config.fee_percent) + state.config.fee_fixed_minor


def ach_fee(state: SimState, amount: int) -> int:
    return min(percent_of(amount, state.config.ach_fee_percent), state.config.ach_fee_cap_minor)


def availability(state: SimState) -> int:
    """Funds become available at midnight UTC ``payout_schedule_days`` days after today."""
    now = state.clock.now()
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return int((day + timedelta(days=state.config.payout_schedule_days)).timestamp())


def book_charge(
    state: SimState, pi: JsonDict, charge: JsonDict, fee: Callable[[SimState, int], int], type_: str
) -> JsonDict:
    """The balance transaction of ``pi``'s succeeded ``charge``: settled, less ``fee`` of the
    settled amount, available on the payout schedule."""
    settled = settle(state, int(pi["amount"]), pi["currency"])
    return new_balance_txn(
        state,
        amount=settled.amount,
        fee=fee(state, settled.amount),
        currency=settled.currency,
        exchange_rate=settled.exchange_rate,
        type_=type_,
        source=charge["id"],
        reporting_category="charge",
        description=pi["description"],
        available_on=availability(state),
    )


def new_balance_txn(
    state: SimState,
    *,
    amount: int,
    fee: int,
    currency: str,
    type_: str,
    source: str,
    reporting_category: str,
    description: str | None,
    available_on: int | None = None,
    fee_description: str = "Stripe processing fees",
    exchange_rate: Decimal | None = None,
) -> JsonDict:
    now = state.now()
    available_at = now if available_on is None else available_on
    fee_details = (
        [
            {
                "amount": fee,
                "application": None,
                "currency": currency,
                "description": fee_description,
                "type": "stripe_fee",
            }
        ]
        if fee
        else []
    )
    txn: JsonDict = {
        "id": state.store.new_id("balance_transaction"),
        "object": "balance_transaction",
        "amount": amount,
        "available_on": available_at,
        "balance_type": "payments",
        "created": now,
        "currency": currency,
        "description": description,
        # A JSON number on the wire, as Stripe sends it; the rate is a fixed 6-decimal value.
        "exchange_rate": None if exchange_rate is None else float(exchange_rate),
        "fee": fee,
        "fee_details": fee_details,
        "net": amount - fee,
        "reporting_category": reporting_category,
        "source": source,
        "status": "available" if available_at <= now else "pending",
        "type": type_,
    }
    state.store.add(txn)
    if txn["status"] == "pending":
        state.clock.schedule(datetime.fromtimestamp(available_at, UTC), lambda: _make_available(state, txn))
    return txn


def _make_available(state: SimState, txn: JsonDict) -> None:
    txn["status"] = "available"
    # One ``balance.available`` per instant, however many transactions matured at it.
    note = state.store.note("balance")
    if note.get("announced_at") != state.now():
        note["announced_at"] = state.now()
        emit(state, "balance.available", balance_object(state))


def balance_by_currency(state: SimState, status: str) -> dict[str, int]:
    totals: dict[str, int] = {}
    for txn in state.store.all("balance_transaction"):
        if txn["status"] == status:
            totals[txn["currency"]] = totals.get(txn["currency"], 0) + int(txn["net"])
    return totals


def balance_object(state: SimState) -> JsonDict:
    def rows(status: str) -> list[JsonDict]:
        totals = balance_by_currency(state, status)
        return [
            {"amount": amount, "currency": cur, "source_types": {"card": amount}}
            for cur, amount in totals.items()
        ]

    return {
        "object": "balance",
        "available": rows("available") or [{"amount": 0, "currency": "usd", "source_types": {"card": 0}}],
        "connect_reserved": [],
        "livemode": False,
        "pending": rows("pending") or [{"amount": 0, "currency": "usd", "source_types": {"card": 0}}],
    }


def _balance(ctx: Ctx) -> JsonDict:
    return balance_object(ctx.state)


def _list(ctx: Ctx) -> JsonDict:
    store = ctx.state.store
    payout = opt_str(ctx.params, "payout")
    type_ = opt_str(ctx.params, "type")
    source = opt_str(ctx.params, "source")
    currency = opt_str(ctx.params, "currency")
    keep_created = created_filter(ctx.params)
    if payout is not None:
        store.get("payout", payout, "payout")

    def keep(txn: JsonDict) -> bool:
        if payout is not None and store.note(txn["id"]).get("payout") != payout and txn["source"] != payout:
            return False
        return (
            (type_ is None or txn["type"] == type_)
            and (source is None or txn["source"] == source)
            and (currency is None or txn["currency"] == currency)
            and keep_created(txn)
        )

    return list_object(
        store.newest_first("balance_transaction", keep), ctx.params, "/v1/balance_transactions"
    )


ROUTES = [
    Route("GET", "/v1/balance", _balance, {}),
    Route(
        "GET",
        "/v1/balance_transactions",
        _list,
        {**LIST_SPEC, "payout": "str", "type": "str", "source": "str", "currency": "str", "created": "any"},
    ),
    retrieve_route("balance_transaction", "/v1/balance_transactions/{id}"),
]
