"""One started sandbox for the whole suite, reset between tests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import requests

from sandbox import Sandbox, SandboxConfig

ANCHOR = datetime(2026, 11, 20, 10, 0, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(seed=7, orders_per_shop=150, anchor=ANCHOR, clock_tick=False)) as sb:
        yield sb


@pytest.fixture
def sb(sandbox: Sandbox) -> Iterator[Sandbox]:
    """The shared sandbox with faults, counters, locks and SMS cleared and the clock at ANCHOR."""
    sandbox.reset()
    sandbox.clock.set(ANCHOR)
    yield sandbox
    sandbox.faults.clear()
    sandbox.clock.set(ANCHOR)


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session
