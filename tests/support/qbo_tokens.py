"""QBO tokens as syncd stores them, from a token endpoint's answer (``QboSimulator.mint_tokens()``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from syncd.ports.quickbooks import QboTokens


def tokens_from(answer: dict[str, Any], *, now: datetime | None = None) -> QboTokens:
    """The answer's lifetimes counted from ``now`` (the present by default); no refresh expiry when
    the answer gives none."""
    now = now or datetime.now(UTC)
    refresh_in = answer.get("x_refresh_token_expires_in")
    return QboTokens(
        access_token=str(answer["access_token"]),
        refresh_token=str(answer["refresh_token"]),
        access_expires_at=now + timedelta(seconds=int(answer["expires_in"])),
        refresh_expires_at=now + timedelta(seconds=int(refresh_in)) if refresh_in else None,
    )
