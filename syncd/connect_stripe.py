"""``syncd connect stripe``: syncd's webhook endpoint registered at Stripe, or brought up to date,
and its signing secret stored encrypted.

Idempotent. syncd's endpoint is the one carrying syncd's metadata or pointing at
``<web.public_url>/webhooks/stripe``; the one whose secret is stored here is kept (its URL and
event types corrected when they drifted), any other is deleted once the kept or new one is stored,
so a run cut short leaves one endpoint too many, never none. Stripe answers a secret only on
create: an endpoint whose secret is not stored here is replaced by a new one.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass

from syncd.clock import Clock
from syncd.config import Settings
from syncd.domain import STRIPE_WEBHOOK_EVENTS
from syncd.errors import AuthError, ConfigError, PermanentError
from syncd.ports.stripe import WebhookEndpoint, WebhookEndpointAdmin
from syncd.secrets import SecretBox
from syncd.store import webhook_secret
from syncd.store.engine import Database
from syncd.store.webhook_secret import StoredEndpoint

WEBHOOK_PATH = "/webhooks/stripe"


class Action(enum.Enum):
    CREATED = "created"
    REPLACED = "replaced"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True, slots=True)
class Outcome:
    """The endpoint as Stripe holds it after the run, what the run did to it, and the ids it deleted."""

    endpoint: WebhookEndpoint
    action: Action
    removed: tuple[str, ...]


def webhook_url(settings: Settings) -> str:
    return settings.public_url + WEBHOOK_PATH


def _check_url(settings: Settings, url: str) -> None:
    if re.match(r"^(sk|rk)_live_", settings.stripe.api_key) and not url.startswith("https://"):
        raise ConfigError(
            "web.public_url", "must be https:// for a live Stripe key (Stripe sends there only)"
        )


def _listed(endpoints: WebhookEndpointAdmin) -> list[WebhookEndpoint]:
    try:
        return endpoints.list()
    except AuthError as exc:
        raise ConfigError("stripe.api_key", f"Stripe refused it ({exc})") from None


def connect(
    settings: Settings,
    endpoints: WebhookEndpointAdmin,
    db: Database,
    box: SecretBox,
    clock: Clock,
    events: Sequence[str] = STRIPE_WEBHOOK_EVENTS,
) -> Outcome:
    url = webhook_url(settings)
    _check_url(settings, url)
    ours = [e for e in _listed(endpoints) if e.managed or e.url == url]
    stored = webhook_secret.load(db, box)
    kept = next((e for e in ours if stored is not None and e.id == stored.endpoint_id), None)
    if kept is not None and stored is not None:
        current = kept.url == url and set(kept.enabled_events) == set(events) and kept.enabled
        if not current:
            kept = endpoints.update(kept.id, url, events)
        webhook_secret.save(db, box, StoredEndpoint(kept.id, url, stored.secret), now=clock())
        action = Action.UNCHANGED if current else Action.UPDATED
    else:
        kept = endpoints.create(url, events)
        if kept.secret is None:
            raise PermanentError(f"Stripe created endpoint {kept.id} without a signing secret")
        webhook_secret.save(db, box, StoredEndpoint(kept.id, url, kept.secret), now=clock())
        action = Action.REPLACED if ours else Action.CREATED
    removed = tuple(e.id for e in ours if e.id != kept.id)
    for endpoint_id in removed:
        endpoints.delete(endpoint_id)
    return Outcome(kept, action, removed)


def describe(outcome: Outcome, settings: Settings) -> list[str]:
    """What the command prints: one line per fact, the last one the thing to do if any."""
    lines = [
        f"Stripe webhook endpoint {outcome.endpoint.id} {outcome.action.value}: {outcome.endpoint.url} "
        f"({len(outcome.endpoint.enabled_events)} event types).",
    ]
    if outcome.removed:
        lines.append(f"Deleted syncd's other endpoints: {', '.join(outcome.removed)}.")
    lines.append("Its signing secret is stored encrypted in syncd's database.")
    if settings.stripe.webhook_secret:
        lines.append(
            "stripe.webhook_secret is set and wins over the stored secret: "
            "remove it from the configuration so syncd verifies with the stored one."
        )
    return lines
