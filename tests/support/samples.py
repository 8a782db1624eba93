"""Where the published QBO and Stripe samples live: ``tests/contracts``, kept in the repository."""

from __future__ import annotations

from pathlib import Path

SAMPLES = Path(__file__).resolve().parents[1] / "contracts"
QBO_SAMPLES = SAMPLES / "qbo"
STRIPE_SAMPLES = SAMPLES / "stripe"
