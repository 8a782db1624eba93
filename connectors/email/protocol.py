"""Moved to syncd.ports.email; re-exported only for syncd/config.py, whose rewrite imports it
from there (drop this module then)."""

from syncd.ports.email import SmtpSettings

__all__ = ["SmtpSettings"]
