"""A plain clone runs its tests: nothing reads outside the checkout for samples."""

from __future__ import annotations

from pathlib import Path

from samples import QBO_SAMPLES, SAMPLES, STRIPE_SAMPLES

ROOT = Path(__file__).resolve().parents[1]
OUTSIDE = ("../shared", "shared/contracts", "SYNCD_CONTRACTS")


def test_samples_live_in_the_repository() -> None:
    assert SAMPLES.is_relative_to(ROOT)
    assert (SAMPLES / "PROVENANCE.md").is_file()
    assert len(list(QBO_SAMPLES.glob("*.*"))) >= 30 and len(list(STRIPE_SAMPLES.rglob("*.json"))) >= 25


def test_no_code_reads_beside_the_checkout() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}: {needle}"
        for folder in ("syncd", "connectors", "tests")
        for path in (ROOT / folder).rglob("*.py")
        if path != Path(__file__).resolve()
        for needle in OUTSIDE
        if needle in path.read_text(encoding="utf-8")
    ]
    assert offenders == []
