"""How many QBO requests syncd spends: initial pull, an idle poll, batched payment writes."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from connectors.quickbooks.client import QboConnector
from connectors.quickbooks.limits import CompanyLimits
from connectors.quickbooks.simulator import QboSimulator
from syncd.domain import QboPaymentDraft, QboPaymentLine
from syncd.ports.quickbooks import (
    BATCH_ITEMS,
    AccountNames,
    QboSettings,
    QboTokens,
    RequestCounts,
    WriteItem,
)

PAYMENTS = 1000


class MemoryTokenStore:
    """A process-local TokenStore for the benchmark (syncd's real store encrypts at rest)."""

    def __init__(self) -> None:
        self._tokens: dict[str, QboTokens] = {}
        self._lock = threading.Lock()

    def load(self, realm_id: str) -> QboTokens | None:
        return self._tokens.get(realm_id)

    def save(self, realm_id: str, tokens: QboTokens) -> None:
        self._tokens[realm_id] = tokens

    def refresh_lock(self, realm_id: str) -> AbstractContextManager[None]:
        @contextmanager
        def hold() -> Iterator[None]:
            with self._lock:
                yield

        return hold()


def _total(c: RequestCounts) -> int:
    return c.reads + c.writes + c.batches


def _delta(after: RequestCounts, before: RequestCounts) -> dict[str, int]:
    return {
        "reads": after.reads - before.reads,
        "writes": after.writes - before.writes,
        "batches": after.batches - before.batches,
        "requests": _total(after) - _total(before),
    }


def run_qbo_bench(invoices: int) -> dict[str, Any]:
    """Run against a fresh simulator of ``invoices`` invoices; returns the request counts."""
    with QboSimulator(seed=0, invoices=invoices) as sim:
        settings = QboSettings(
            client_id="sim-client",
            client_secret="sim-secret",  # noqa: S106 - the simulator's fixed demo secret
            redirect_uri="http://127.0.0.1:9/callback",
            environment=sim.discovery_url,
            api_base_url=sim.api_base_url,
            webhook_verifier_token="sim-verifier",  # noqa: S106
        )
        store = MemoryTokenStore()
        minted = sim.mint_tokens()
        now = datetime.now(UTC)
        store.save(
            sim.realm_id,
            QboTokens(
                minted["access_token"],
                minted["refresh_token"],
                now + timedelta(seconds=int(minted["expires_in"])),
                None,
            ),
        )
        with QboConnector(settings, sim.realm_id, store, limits=CompanyLimits.standard()) as qbo:
            return _measure(qbo)


def _measure(qbo: QboConnector) -> dict[str, Any]:
    started = time.perf_counter()
    zero = qbo.counts()
    qbo.company_info()
    pages = list(qbo.initial_pull())
    pulled = qbo.counts()
    pull_seconds = time.perf_counter() - started
    rows = [i for page in pages for i in page.invoices]
    as_of = pages[-1].as_of or datetime.now(UTC)

    qbo.changes_since(as_of - timedelta(seconds=1), datetime.now(UTC))
    polled = qbo.counts()

    books = qbo.ensure_accounts("USD", AccountNames())
    payable = [i for i in rows if i.status.payable and i.currency == "USD"][:PAYMENTS]
    drafts = [
        WriteItem(
            f"bench:payment:{i.qbo_id}",
            QboPaymentDraft(
                customer_id=i.customer_id,
                total=Decimal("1.00"),
                currency="USD",
                txn_date=datetime.now(UTC).date(),
                deposit_account_id=books.clearing.qbo_id,
                lines=(QboPaymentLine(i.qbo_id, Decimal("1.00")),),
                reference=f"bench-{i.qbo_id}",
                memo="syncd benchmark",
            ),
        )
        for i in payable
    ]
    before_writes = qbo.counts()
    write_started = time.perf_counter()
    failures = 0
    for first in range(0, len(drafts), BATCH_ITEMS):
        answers = qbo.write_batch(drafts[first : first + BATCH_ITEMS])
        failures += sum(isinstance(r, Exception) for r in answers)
    written = qbo.counts()
    pull = _delta(pulled, zero)
    return {
        "invoices": len(rows),
        "open_invoices": sum(i.status.payable for i in rows),
        "initial_pull_requests": pull["requests"],
        "initial_pull": pull,
        "initial_pull_seconds": round(pull_seconds, 3),
        "idle_poll_requests": _delta(polled, pulled)["requests"],
        "payments_written": len(drafts) - failures,
        "payment_failures": failures,
        "payment_write_requests": _delta(written, before_writes)["requests"],
        "payment_write_seconds": round(time.perf_counter() - write_started, 3),
        "metered_reads_per_1000_invoices": round(
            (pull["reads"] + pull["batches"]) / max(len(rows), 1) * 1000, 3
        ),
        "throttled": written.throttled,
    }
