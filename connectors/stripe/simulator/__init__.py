"""A local Stripe: a real HTTP server speaking Stripe's REST wire protocol for what syncd uses.

Use it through the official SDK exactly as against Stripe::

    with StripeSimulator(now=datetime(2026, 11, 2, tzinfo=UTC)) as sim:
        client = stripe.StripeClient(sim.api_key, base_addresses={"api": sim.url})
        session = client.v1.checkout.sessions.create(params={...})
        sim.pay_checkout(session.id, "card_success")   # or open session.url in a browser
        sim.clock.advance(timedelta(days=3))            # ACH settlement, payouts, hold expiry

Modules, by noun: ``app`` (wire protocol), ``routing``/``forms``/``listing``/``expand``/
``search`` (request plumbing), ``customers``, ``payment_methods``, ``setup_intents``,
``checkout``/``checkout_flow``/``hosted_page``, ``payment_intents``/``payments``/``charges``,
``captures`` (manual capture; an uncaptured card authorisation expires after 7 days), ``ach``,
``refunds``, ``disputes``, ``balance``, ``payouts``, ``events``, ``webhooks``,
``idempotency``, ``faults``, ``clock``, ``store``/``state``/``ids``/``currency``/``errors``.
"""

from connectors.stripe.simulator.simulator import StripeSimulator

__all__ = ["StripeSimulator"]
