"""Moved to syncd.ports.address; re-exported only for syncd/config.py, whose rewrite imports it
from there (drop this module then)."""

from syncd.ports.address import recipient

__all__ = ["recipient"]
