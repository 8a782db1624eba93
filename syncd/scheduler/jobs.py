"""Jobs on one APScheduler 3 scheduler: one run of a job at a time, and no wake ever lost."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog
from apscheduler.executors.pool import ThreadPoolExecutor as JobExecutor
from apscheduler.schedulers.background import BackgroundScheduler

log = structlog.get_logger(__name__)

# A pull woken again sooner than this after its last start waits for the rest: the QBO webhooks
# of a burst of payments (syncd's own Payments among them) cost one CDC read per spacing, not one
# each, and leave the company's request budget to the payments themselves.
PULL_SPACING = 5.0


@dataclass
class JobState:
    fn: Callable[[], None]
    running: bool = False
    again: bool = False
    runs: int = 0
    started: float = -math.inf  # monotonic time of the last run's start
    done: threading.Condition = field(default_factory=threading.Condition)


class Jobs:
    """APScheduler 3 ``BackgroundScheduler`` with syncd's jobs by id; ``run_now`` runs one now.

    ``lock`` guards each job's ``running``/``again`` and ``stopping`` (the lanes keep what they
    hold under it too)."""

    def __init__(self, max_workers: int, *, pull_spacing: float = PULL_SPACING) -> None:
        self.pull_spacing = pull_spacing
        self.sched = BackgroundScheduler(
            executors={"default": JobExecutor(max_workers=max_workers)},
            # ``_run`` lets one instance of a job run at a time; a second instance allowed here is
            # a wake arriving as a run ends (APScheduler still counts it), which would else be lost.
            job_defaults={"max_instances": 2, "coalesce": True, "misfire_grace_time": None},
            timezone=UTC,
        )
        self.lock = threading.Lock()
        self.states: dict[str, JobState] = {}
        self.stopping = False

    def add(self, job_id: str, fn: Callable[[], None], seconds: float, *, first: datetime | None) -> None:
        self.states[job_id] = JobState(fn)
        extra: dict[str, Any] = {"next_run_time": first} if first is not None else {}
        self.sched.add_job(
            self._run, "interval", seconds=seconds, id=job_id, name=job_id, args=(job_id, fn), **extra
        )

    def start(self) -> None:
        self.sched.start()

    @property
    def running(self) -> bool:
        """The scheduler thread is alive and accepting jobs."""
        return bool(self.sched.running) and not self.stopping

    @property
    def ids(self) -> list[str]:
        return sorted(self.states)

    def _run(self, job_id: str, fn: Callable[[], None]) -> None:
        state = self.states[job_id]
        with self.lock:
            if state.running:
                state.again = True
                return
            state.running, state.again = True, False
        try:
            while True:
                self._space(job_id, state)
                state.started = time.monotonic()
                try:
                    fn()
                except Exception:
                    # One failure never stops the schedule: log and wait for the next run.
                    log.exception("job_failed", job=job_id)
                with self.lock:
                    if not state.again or self.stopping:
                        # Stop running under the same lock that read ``again``: a wake in
                        # between would see us running, set ``again`` and be lost.
                        state.running = False
                        break
                    state.again = False
        finally:
            with self.lock:
                state.running = False
            with state.done:
                state.runs += 1
                state.done.notify_all()

    def _spacing(self, job_id: str, state: JobState) -> float:
        """Seconds a run of ``job_id`` starting now should wait (pulls only, see PULL_SPACING)."""
        if not job_id.startswith("pull:"):
            return 0.0
        return max(0.0, state.started + self.pull_spacing - time.monotonic())

    def _space(self, job_id: str, state: JobState) -> None:
        # A rerun asked for during a run (``again``) waits out the spacing in the job's own thread.
        wait = self._spacing(job_id, state)
        with state.done:
            state.done.wait_for(lambda: self.stopping, wait)

    def run_now(self, job_id: str) -> None:
        """Run ``job_id`` now; during a run, once more right after it, so no wake is lost."""
        state = self.states.get(job_id)
        if state is None:
            log.info("wake_ignored", job=job_id, reason="no such job")
            return
        with self.lock:
            if self.stopping:
                return
            if state.running:
                state.again = True
                return
        # A one-off run, not the interval job moved to now: APScheduler counts that job's last run
        # until just after ``_run`` returned and would skip, so lose, a wake landing meanwhile.
        # ``_run`` itself keeps to one run of a job at a time.
        self.sched.add_job(self._run, args=(job_id, state.fn), name=f"{job_id} (woken)")

    def runs(self, job_id: str) -> int:
        return self.states[job_id].runs

    def wait_for_run(self, job_id: str, after: int, timeout: float) -> bool:
        """Block until ``job_id`` completed more than ``after`` runs (tests, the bench)."""
        state = self.states[job_id]
        with state.done:
            return state.done.wait_for(lambda: state.runs > after, timeout)

    def stop(self, wait: bool) -> bool:
        """Stop scheduling and let in-flight runs finish (``wait``); False when already stopping."""
        with self.lock:
            if self.stopping:
                return False
            self.stopping = True
        for state in self.states.values():
            with state.done:
                state.done.notify_all()  # a rerun waiting out its spacing stops waiting
        if self.sched.running:
            self.sched.shutdown(wait=wait)
        return True
