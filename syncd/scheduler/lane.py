"""A lane: a pool of its own serving each company at most once at a time, again if due meanwhile."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor

from syncd.scheduler.jobs import Jobs


class Lane:
    """Companies handed over are served side by side on the lane's threads; the pass handing them
    returns at once, so a company never waits for another's slower one to finish."""

    def __init__(self, jobs: Jobs, *, workers: int, name: str) -> None:
        self._jobs = jobs
        # The companies in hand (value: due again meanwhile), kept under the jobs' lock.
        self._in_hand: dict[str, bool] = {}
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)

    def hand(self, realms: Iterable[str], serve: Callable[[str], None]) -> None:
        """``serve`` each of ``realms`` on the lane; one already in hand is served once more after."""
        for realm in realms:
            with self._jobs.lock:
                if self._jobs.stopping:
                    return
                if realm in self._in_hand:
                    self._in_hand[realm] = True
                    continue
                self._in_hand[realm] = False
            self._pool.submit(self._serve, realm, serve)

    def _serve(self, realm: str, serve: Callable[[str], None]) -> None:
        while True:
            serve(realm)
            with self._jobs.lock:
                if not self._in_hand.get(realm) or self._jobs.stopping:
                    self._in_hand.pop(realm, None)
                    return
                self._in_hand[realm] = False  # due again while it ran: once more

    def shutdown(self, wait: bool) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=True)
