"""Shared fixtures: the sandbox, a real Prefect server, SQLite and a real PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from aftercare.clock import pin_world_clock
from aftercare.settings import Settings, get_settings
from tests.support.postgres import create_database, find_bindir, throwaway_postgres

# Prefect's own telemetry writes race on its SQLite database and only add noise to test logs.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

# Pinned business time for the flow tests: Friday 2026-11-20 10:00 in Shanghai.
ANCHOR = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[None]:
    """Run flows against one real, temporary Prefect server for the whole session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    """Start one throw-away PostgreSQL for the session, or skip with the reason."""
    if find_bindir() is None:
        pytest.skip(
            "PostgreSQL tests skipped: no server binaries (initdb, pg_ctl) found; "
            "install Debian's postgresql package or set AFTERCARE_PG_BINDIR"
        )
    with throwaway_postgres() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """A fresh database of each kind, its schema created by the migrations."""
    from models.db import get_engine
    from models.migrate import upgrade

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/aftercare.db"
    else:
        url = create_database(request.getfixturevalue("postgres_admin_url"))
    upgrade(url)
    yield url
    get_engine(url).dispose()


@pytest.fixture
def sandbox() -> Iterator[object]:
    """A fresh sandbox for one test, its business clock pinned at ANCHOR."""
    from sandbox import Sandbox, SandboxConfig

    config = SandboxConfig(seed=7, orders_per_shop=60, anchor=ANCHOR, clock_tick=False)
    with Sandbox(config) as running:
        running.clock.set(ANCHOR)
        yield running


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch, sandbox, database_url: str) -> Iterator[Settings]:
    """Settings pointing at the sandbox and the test database, with fast retries."""
    from deployments.sandbox_world import (
        SANDBOX_ENDPOINTS,
        register_sandbox_shops,
        sandbox_environment,
    )

    urls = {name: sandbox.url(name) for name in SANDBOX_ENDPOINTS}
    for key, value in sandbox_environment(urls, database_url).items():
        monkeypatch.setenv(key, value)
    for rate in ("KUAIDI100_QUERIES", "TAOBAO_CALLS", "SMS_SENDS"):
        monkeypatch.setenv(f"AFTERCARE_{rate}_PER_SECOND", "2000")
    # Push tracking is off unless a test starts a receiver for it (tests/flows/test_push*).
    monkeypatch.setenv("AFTERCARE_LOGISTICS__SUBSCRIBE", "false")
    monkeypatch.setenv("AFTERCARE_RETRY__BACKOFF_BASE_SECONDS", "0.01")
    monkeypatch.setenv("AFTERCARE_RETRY__BACKOFF_CAP_SECONDS", "0.05")
    monkeypatch.setenv("AFTERCARE_RETRY__READ_TIMEOUT_SECONDS", "2")
    # The world's time is the sandbox's: in this process its clock, in a flow's child process
    # (the chaos tests) the pinned anchor.
    monkeypatch.setenv("AFTERCARE_SIMULATED_NOW", ANCHOR.isoformat())
    pin_world_clock(sandbox.clock.now)
    get_settings.cache_clear()
    register_sandbox_shops(database_url)
    yield get_settings()
    pin_world_clock(None)
    get_settings.cache_clear()


@pytest.fixture
def receiver(settings: Settings) -> Iterator[str]:
    """The receiver of pushes and buyers' SMS replies, on a free port; yields its URL."""
    from aftercare.receiver.background import start_receiver

    running = start_receiver()
    yield running.url
    running.stop()


# The chaos, leak-scan and scale-out tests print their figures (items, faults injected,
# duplicates, losses); pytest hides a passing test's output, so gather it for the summary.
FIGURE_TESTS = (
    "tests/chaos/",
    "tests/test_no_leaks.py",
    "tests/scaleout/",
    "tests/flows/test_promises_stateful.py",
    "tests/flows/test_parcels_stateful.py",
)
_figures: list[tuple[str, str]] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Keep the printed figures of the tests that report them."""
    if report.when == "call" and report.nodeid.startswith(FIGURE_TESTS) and report.capstdout:
        _figures.append((report.nodeid, report.capstdout.strip()))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the gathered figures after the run."""
    if _figures:
        terminalreporter.section("figures: chaos, leak scan, scale-out")
        for nodeid, text in _figures:
            terminalreporter.write_line(nodeid)
            for line in text.splitlines():
                terminalreporter.write_line(f"    {line}")
