"""The signing secret of syncd's Stripe webhook endpoint, encrypted at rest (like QBO tokens).

One account-wide row in ``secrets`` (company ``*``, name ``stripe_webhook``) holding the endpoint's
id, its URL and its ``whsec_`` secret. ``syncd connect stripe`` writes it in one transaction; the
daemon reads it for every webhook while ``stripe.webhook_secret`` is empty in the configuration.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from syncd.secrets import SecretBox
from syncd.store.engine import Database
from syncd.store.models import Secret

ACCOUNT = "*"
NAME = "stripe_webhook"


@dataclass(frozen=True, slots=True)
class StoredEndpoint:
    endpoint_id: str
    url: str
    secret: str = field(repr=False)


def load(db: Database, box: SecretBox) -> StoredEndpoint | None:
    with db.transaction() as session:
        row = session.get(Secret, (ACCOUNT, NAME))
        if row is None:
            return None
        data = json.loads(box.decrypt(row.ciphertext))
    return StoredEndpoint(str(data["endpoint_id"]), str(data["url"]), str(data["secret"]))


def save(db: Database, box: SecretBox, endpoint: StoredEndpoint, *, now: datetime) -> None:
    blob = json.dumps(
        {"endpoint_id": endpoint.endpoint_id, "url": endpoint.url, "secret": endpoint.secret}
    ).encode()
    ciphertext = box.encrypt(blob)
    with db.transaction() as session:
        row = session.get(Secret, (ACCOUNT, NAME))
        if row is None:
            session.add(Secret(company_id=ACCOUNT, name=NAME, ciphertext=ciphertext, updated_at=now))
        else:
            row.ciphertext = ciphertext
            row.version += 1
            row.updated_at = now
