"""Which Stripe account each company is paid into, derived from ``[stripe]`` and ``[[company]]``."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from syncd.config.company import CompanySettings
from syncd.ports.stripe import StripeSettings

# The key of the ``[stripe]`` account (also the backfill cursor's id of old: one account then).
DEFAULT_ACCOUNT = "*"


@dataclass(frozen=True, slots=True)
class StripeAccount:
    """One Stripe account syncd acts on and the companies paid into it.

    ``key`` is what ``StripeEvent.account`` holds for its events: DEFAULT_ACCOUNT for the
    ``[stripe]`` account, the ``acct_…`` id of a connected account, ``own:<realm>`` for an own key
    (named after the first company using it).
    """

    key: str
    settings: StripeSettings
    companies: tuple[str, ...]

    @property
    def shared(self) -> bool:
        """The ``[stripe]`` account may pay several companies at once; the others pay one each
        (several companies on one own key or connected account are shared as well)."""
        return self.key == DEFAULT_ACCOUNT or len(self.companies) > 1


def _key(company: CompanySettings) -> str:
    if company.stripe_account:
        return company.stripe_account
    return f"own:{company.realm_id}" if company.stripe.api_key else DEFAULT_ACCOUNT


def _settings(default: StripeSettings, company: CompanySettings) -> StripeSettings:
    own = company.stripe
    return dataclasses.replace(
        default,
        api_key=own.api_key or default.api_key,
        # A connected account's events reach the platform's endpoint, signed with its secret.
        webhook_secret=own.webhook_secret if own.api_key else own.webhook_secret or default.webhook_secret,
        stripe_account=company.stripe_account,
    )


def stripe_accounts(
    default: StripeSettings, companies: tuple[CompanySettings, ...]
) -> tuple[StripeAccount, ...]:
    """The ``[stripe]`` account first (with the companies that have none of their own), then one
    per own key or connected account, in configuration order."""
    keys: dict[tuple[str, str | None], str] = {}
    members: dict[str, list[str]] = {DEFAULT_ACCOUNT: []}
    settings: dict[str, StripeSettings] = {DEFAULT_ACCOUNT: default}
    for company in companies:
        key = _key(company)
        reached = (company.stripe.api_key or default.api_key, company.stripe_account)
        if reached == (default.api_key, None):
            key = DEFAULT_ACCOUNT  # an "own" key that is the [stripe] key itself
        elif key != DEFAULT_ACCOUNT:
            # Companies sharing one own key (and the same connected account, or none) share its account.
            key = keys.setdefault(reached, key)
            settings.setdefault(key, _settings(default, company))
        members.setdefault(key, []).append(company.realm_id)
    return tuple(StripeAccount(key, settings[key], tuple(realms)) for key, realms in members.items())


def account_of(accounts: tuple[StripeAccount, ...], realm_id: str | None) -> StripeAccount:
    """The account ``realm_id`` is paid into (the ``[stripe]`` one for an unknown or no company)."""
    for account in accounts:
        if realm_id in account.companies:
            return account
    return accounts[0]
