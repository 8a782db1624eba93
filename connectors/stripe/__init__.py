"""Stripe: the connector (official SDK, the only package importing it) and its simulator."""
