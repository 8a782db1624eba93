"""A local Stripe: a real HTTP server speaking Stripe's REST wire protocol for what syncd uses."""

from connectors.stripe.simulator.simulator import StripeSimulator

__all__ = ["StripeSimulator"]
