"""Monotonic time that only moves when slept on: client-side pacing costs tests nothing."""

from __future__ import annotations


class VirtualClock:
    """Call it for the time in seconds; ``sleep`` records the wait and moves the time on."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
