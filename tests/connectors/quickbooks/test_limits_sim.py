"""syncd's limiter against the simulator's sliding windows: a burst is never throttled."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.quickbooks.client import QboConnector
from connectors.quickbooks.limits import CompanyLimits
from connectors.quickbooks.simulator import QboSimulator


class SharedClock:
    """One virtual clock for the simulator (datetime) and the limiter (seconds); sleeping advances it."""

    def __init__(self) -> None:
        self.start = datetime.now(UTC)
        self.offset = 0.0
        self._lock = threading.Lock()

    def seconds(self) -> float:
        with self._lock:
            return self.offset

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.seconds())

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.offset += seconds
        time.sleep(0.0005)


def test_a_burst_of_reads_and_batch_calls_never_gets_a_429(
    token_store: Any, settings_for: Callable[..., Any]
) -> None:
    clock = SharedClock()
    with QboSimulator(seed=1, invoices=50, now=clock.now) as sim:
        store = token_store
        store.save_payload(sim.realm_id, sim.mint_tokens())
        limits = CompanyLimits.standard(clock=clock.seconds, sleep=clock.sleep)
        connector = QboConnector(
            settings_for(sim),
            sim.realm_id,
            store,
            clock=clock.now,
            sleep=clock.sleep,
            limits=limits,
            max_throttle_retries=0,  # a single 429 fails the test
        )
        query = {"bId": "1", "Query": "SELECT COUNT(*) FROM Invoice"}

        def work(n: int) -> Any:
            if n % 6 == 0:
                return connector.calls.batch([query], None)
            return connector.calls.query("SELECT * FROM Customer MAXRESULTS 5")

        with connector, ThreadPoolExecutor(max_workers=14) as pool:
            answers = list(pool.map(work, range(720)))  # 120 batch calls, 600 reads
        assert len(answers) == 720
        counts = sim.counts()
        assert counts["batch"] == 120 and counts["read"] == 600
        assert counts["throttled"] == 0
        assert connector.counts().throttled == 0
        assert clock.seconds() >= 120  # 120 batch calls need three windows: 40 + 40 + 40
