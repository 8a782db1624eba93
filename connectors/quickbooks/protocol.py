"""Moved to syncd.ports.quickbooks; re-exported only for syncd/config.py, whose rewrite imports it
from there (drop this module then)."""

from syncd.ports.quickbooks import AccountNames, QboSettings

__all__ = ["AccountNames", "QboSettings"]
