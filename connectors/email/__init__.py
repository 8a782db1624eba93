"""Outgoing email: the SMTP sender and a local SMTP sink (the demo's mailbox)."""
