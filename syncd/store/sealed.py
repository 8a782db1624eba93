"""Sealed documents in the ``secrets`` table: one JSON object per (company, name), encrypted at rest.

``write`` replaces the document and bumps the row's version in one transaction; ``read`` gives
None when nothing was ever written under that name.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from syncd.secrets import SecretBox
from syncd.store.engine import Database
from syncd.store.models import Secret


def read(db: Database, box: SecretBox, company_id: str, name: str) -> dict[str, Any] | None:
    with db.transaction() as session:
        row = session.get(Secret, (company_id, name))
        if row is None:
            return None
        data: dict[str, Any] = json.loads(box.decrypt(row.ciphertext))
    return data


def write(
    db: Database, box: SecretBox, company_id: str, name: str, data: dict[str, Any], *, now: datetime
) -> None:
    ciphertext = box.encrypt(json.dumps(data).encode())
    with db.transaction() as session:
        row = session.get(Secret, (company_id, name))
        if row is None:
            session.add(Secret(company_id=company_id, name=name, ciphertext=ciphertext, updated_at=now))
        else:
            row.ciphertext = ciphertext
            row.version += 1
            row.updated_at = now
