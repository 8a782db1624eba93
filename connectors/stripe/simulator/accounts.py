"""The simulator's Stripe accounts: the first one (``api_key``), standalone accounts with keys of
their own, and accounts connected to one of those (its key plus ``Stripe-Account``). Every object
lives in exactly one account's store; a request sees only the account it authenticates as."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from dataclasses import dataclass, field

from connectors.stripe.simulator.errors import ApiError, auth_invalid
from connectors.stripe.simulator.state import SimState


def account_invalid(key: str, account: str) -> ApiError:
    """Stripe's answer to a ``Stripe-Account`` the key may not act on (403, never the account's data)."""
    shown = "*" * 4 + key[-4:] if len(key) > 8 else "****"
    return ApiError(
        403,
        f"The provided key '{shown}' does not have access to account '{account}' (or that account does "
        "not exist). Application access may have been revoked.",
        code="account_invalid",
    )


def _same(given: str, expected: str) -> bool:
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


@dataclass
class Accounts:
    """Every account by id, the first one's state first. ``platform_of`` maps a connected account
    to the account whose key reaches it."""

    states: dict[str, SimState] = field(default_factory=dict)
    platform_of: dict[str, str] = field(default_factory=dict)

    def add(self, state: SimState, platform: str | None = None) -> None:
        self.states[state.account] = state
        if platform is not None:
            self.platform_of[state.account] = platform

    def __iter__(self) -> Iterator[SimState]:
        return iter(list(self.states.values()))

    def get(self, account: str) -> SimState:
        found = self.states.get(account)
        if found is None:
            raise KeyError(f"no simulated Stripe account {account!r}")
        return found

    def authenticate(self, key: str, stripe_account: str | None) -> SimState:
        """The account a request acts on: the key's own, or the connected one its header names."""
        owner = next((s for s in self.states.values() if _same(key, s.config.api_key)), None)
        if owner is None:
            raise auth_invalid(key)
        if not stripe_account or stripe_account == owner.account:
            return owner
        connected = self.states.get(stripe_account)
        if connected is None or self.platform_of.get(stripe_account) != owner.account:
            raise account_invalid(key, stripe_account)
        return connected

    def holding(self, object_id: str) -> SimState:
        """The account an object (a Checkout Session, a charge …) lives in; the first one when none has it."""
        for state in self.states.values():
            if state.store.find(object_id) is not None:
                return state
        return next(iter(self.states.values()))

    def platform(self, state: SimState) -> SimState | None:
        """The account a connected one belongs to (None for an account of its own)."""
        owner = self.platform_of.get(state.account)
        return self.states[owner] if owner is not None else None
