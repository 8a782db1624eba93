"""Fair turns for company cycles: a company never served goes before ones served lately, whatever
order their threads arrived in; never more holders than slots."""

from __future__ import annotations

import threading

from virtual_clock import VirtualClock

from syncd.turns import Turns

WAIT = 10.0


def test_the_company_served_longest_ago_goes_first() -> None:
    clock = VirtualClock()
    turns = Turns(1, clock=clock)
    for name in ("other", "busy"):  # both served once, "busy" last
        with turns.turn(name):
            clock.sleep(1)
    order: list[str] = []
    held = threading.Event()
    release = threading.Event()

    def holder() -> None:
        with turns.turn("holder"):
            held.set()
            release.wait(WAIT)

    def waiter(name: str) -> None:
        with turns.turn(name):
            order.append(name)

    first = threading.Thread(target=holder)
    first.start()
    assert held.wait(WAIT)
    # Arriving in the order a semaphore would serve them: re-pulls first, the first sync last.
    threads = []
    for name in ("busy", "other", "never"):
        thread = threading.Thread(target=waiter, args=(name,))
        thread.start()
        threads.append(thread)
        while turns.waiting() < len(threads):
            held.wait(0.01)
    release.set()
    for thread in [first, *threads]:
        thread.join(WAIT)
    assert order == ["never", "other", "busy"]


def test_no_more_holders_than_slots() -> None:
    turns = Turns(2)
    lock = threading.Lock()
    inside = peak = 0

    def work(name: str) -> None:
        nonlocal inside, peak
        for _ in range(20):
            with turns.turn(name):
                with lock:
                    inside += 1
                    peak = max(peak, inside)
                with lock:
                    inside -= 1

    threads = [threading.Thread(target=work, args=(f"c{i}",)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    assert peak <= 2 and turns.waiting() == 0
