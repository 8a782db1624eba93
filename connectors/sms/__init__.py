"""Outgoing text messages."""
