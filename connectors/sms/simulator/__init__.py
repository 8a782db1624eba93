"""A local Twilio: a real HTTP server speaking the part of Twilio's REST API syncd uses (Messages:
create, list, fetch), signing its status callbacks and incoming-message webhooks as Twilio does,
and a phone page (``/phone``) showing each number's texts with a box to reply.

Rate limit: like Twilio's long codes, each sender sends one message per ``1 / mps`` seconds;
messages beyond that are accepted (``queued``) and wait their turn — never refused — so syncd's
effects never see a 429 for volume. ``throttle(n)`` makes the next ``n`` API requests answer 429
(code 20429, Retry-After) as Twilio does when an account exceeds its API concurrency.

Modules: ``signing`` (X-Twilio-Signature), ``state`` (messages, opt-outs, the send queue),
``dispatch`` (sending in turn, callbacks), ``api`` (the REST routes), ``phone`` (the page),
``simulator`` (the handle), ``cli``.
"""

from connectors.sms.simulator.simulator import TwilioSimulator

__all__ = ["TwilioSimulator"]
