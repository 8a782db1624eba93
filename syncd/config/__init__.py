"""Configuration: one TOML file, validated up front against one definition; every mistake names
its setting."""

from syncd.config.company import AccountsSection, BrandingSettings, CompanySettings
from syncd.config.indirection import resolve
from syncd.config.loading import load, parse
from syncd.config.models import (
    HEX_COLOUR,
    LOG_FORMATS,
    LOG_LEVELS,
    PAYMENT_METHODS,
    QBO_PRODUCTION,
    QBO_SANDBOX,
    FirstSync,
    Intervals,
)
from syncd.config.settings import ConfigFile, Settings
from syncd.config.stripe_accounts import DEFAULT_ACCOUNT, StripeAccount, account_of

# The fallbacks of the web and email theming: the branding defaults themselves.
DEFAULT_BRANDING = BrandingSettings()

__all__ = [
    "DEFAULT_ACCOUNT",
    "DEFAULT_BRANDING",
    "HEX_COLOUR",
    "LOG_FORMATS",
    "LOG_LEVELS",
    "PAYMENT_METHODS",
    "QBO_PRODUCTION",
    "QBO_SANDBOX",
    "AccountsSection",
    "BrandingSettings",
    "CompanySettings",
    "ConfigFile",
    "FirstSync",
    "Intervals",
    "Settings",
    "StripeAccount",
    "account_of",
    "load",
    "parse",
    "resolve",
]
