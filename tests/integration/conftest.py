"""Integration fixtures: the outside world on loopback (``world``), the daemon as a real
``syncd run`` subprocess (``daemon``) and a payer's HTTP client (``portal``); see tests/support/world.py."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from outside import outside
from world import Daemon, PortalClient, World


@pytest.fixture
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    """QBO simulator (12 seeded invoices; an indirect parameter may name its currencies), Stripe
    simulator and SMTP sink, stopped afterwards."""
    currencies = getattr(request, "param", {}).get("currencies", ("USD", "CAD"))
    with outside(invoices=12, currencies=currencies) as out:
        yield World(qbo=out.qbo, stripe=out.stripe, sink=out.sink, state_dir=tmp_path)


@pytest.fixture
def daemon(world: World) -> Iterator[Callable[[], Daemon]]:
    """A factory for the daemon over ``world``'s config (write it first); killed at teardown."""
    made: list[Daemon] = []

    def make() -> Daemon:
        proc = Daemon(world.config_path, world.url)
        made.append(proc)
        return proc

    yield make
    for proc in made:
        proc.close()


@pytest.fixture
def portal() -> Iterator[PortalClient]:
    client = PortalClient()
    yield client
    client.close()
