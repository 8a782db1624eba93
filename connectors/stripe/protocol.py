"""Moved to syncd.ports.stripe; re-exported only for syncd/config.py, whose rewrite imports it
from there (drop this module then)."""

from syncd.ports.stripe import StripeSettings

__all__ = ["StripeSettings"]
