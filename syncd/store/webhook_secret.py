"""The signing secret of syncd's Stripe webhook endpoint, encrypted at rest (like QBO tokens).

One account-wide row in ``secrets`` (company ``*``, name ``stripe_webhook``) holding the endpoint's
id, its URL and its ``whsec_`` secret. ``syncd connect stripe`` writes it in one transaction; the
daemon reads it for every webhook while ``stripe.webhook_secret`` is empty in the configuration.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from syncd.secrets import SecretBox
from syncd.store import sealed
from syncd.store.engine import Database

ACCOUNT = "*"
NAME = "stripe_webhook"


@dataclass(frozen=True, slots=True)
class StoredEndpoint:
    endpoint_id: str
    url: str
    secret: str = field(repr=False)


def load(db: Database, box: SecretBox) -> StoredEndpoint | None:
    data = sealed.read(db, box, ACCOUNT, NAME)
    if data is None:
        return None
    return StoredEndpoint(str(data["endpoint_id"]), str(data["url"]), str(data["secret"]))


def save(db: Database, box: SecretBox, endpoint: StoredEndpoint, *, now: datetime) -> None:
    data = {"endpoint_id": endpoint.endpoint_id, "url": endpoint.url, "secret": endpoint.secret}
    sealed.write(db, box, ACCOUNT, NAME, data, now=now)
