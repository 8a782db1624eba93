"""Where the published QBO and Stripe samples live: ``../shared/contracts`` beside the checkout."""

from __future__ import annotations

import os
from pathlib import Path

SAMPLES = Path(
    os.environ.get("SYNCD_CONTRACTS") or Path(__file__).resolve().parents[2].parent / "shared" / "contracts"
)
QBO_SAMPLES = SAMPLES / "qbo"
STRIPE_SAMPLES = SAMPLES / "stripe"

if not QBO_SAMPLES.is_dir() or not STRIPE_SAMPLES.is_dir():
    raise RuntimeError(
        f"contract samples not found at {SAMPLES}: check out ../shared beside the repository "
        "or set SYNCD_CONTRACTS to the contracts folder"
    )
