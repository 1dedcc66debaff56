"""`make serve`: a local Prefect server with its UI, the deployments served on schedule.

Beside the deployments it serves the receiver (Kuaidi100 tracking pushes, buyers' SMS replies);
on the embedded default (AFTERCARE_ENVIRONMENT=sandbox) it also starts the sandbox APIs, so
everything runs for real on one machine.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from uuid import UUID

import requests

from aftercare.clients.platform import PINDUODUO

TWIN_CHECK_SECONDS = 600  # how often a served set-up looks for runs scheduled twice
RUNNER_QUERY_SECONDS = 2.0


def prefect_server_environment(port: int) -> dict[str, str]:
    """Return the environment of a Prefect server on `port`, its UI asking that same port."""
    api_url = f"http://127.0.0.1:{port}/api"
    return {
        **os.environ,
        "PREFECT_SERVER_API_PORT": str(port),
        # The UI asks /ui-settings where the API is; unset, it says port 4200.
        "PREFECT_UI_API_URL": api_url,
        "PREFECT_SERVER_UI_API_URL": api_url,
    }


def start_prefect_server(port: int) -> subprocess.Popen[bytes]:
    """Start `prefect server start` and wait until it answers; return the process."""
    prefect = Path(sys.executable).parent / "prefect"
    process = subprocess.Popen(
        [str(prefect), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=prefect_server_environment(port),
    )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/api/health", timeout=2).ok:
                return process
        except requests.RequestException:
            pass
        if process.poll() is not None:
            raise RuntimeError(
                f"the Prefect server exited while starting (is port {port} taken? "
                "choose another with --port)"
            )
        time.sleep(0.5)  # waiting for a process we started, not for business time
    process.terminate()
    raise TimeoutError("the Prefect server did not come up within 3 minutes")


def run(port: int = 4200, sandbox_port: int = 8765) -> None:
    """Start the server (and the sandbox), set everything up, serve until interrupted."""
    from aftercare.home import use_home

    use_home()
    server = start_prefect_server(port)
    os.environ["PREFECT_API_URL"] = f"http://127.0.0.1:{port}/api"
    try:
        _serve(port, sandbox_port)
    finally:
        server.terminate()
        server.wait(timeout=30)


def _serve(port: int, sandbox_port: int) -> None:
    from prefect.runner import Runner

    from aftercare.receiver.background import start_receiver
    from aftercare.settings import get_settings
    from deployments.push_events import Coalesced, emit_pushes_stored
    from deployments.serve import SCHEDULED, all_deployments
    from deployments.setup import ensure_automations, ensure_rate_limits, remove_twin_runs
    from models.migrate import upgrade

    sandbox = _start_sandbox(sandbox_port) if get_settings().environment == "sandbox" else None
    # Each commit of new courier pushes asks Prefect for a parcel-pushes run (coalesced).
    announce = Coalesced(emit_pushes_stored, get_settings().events.trigger_seconds)
    receiver = start_receiver(
        get_settings().receiver_port, get_settings().receiver_host, on_pushes_stored=announce
    )
    if sandbox is not None:
        sandbox.set_uplink_url(f"{receiver.url}/sms/uplink")  # type: ignore[attr-defined]
    print(f"receiver of tracking pushes and SMS replies at {receiver.url}")
    os.environ["AFTERCARE_PREFECT_RATE_LIMITS"] = "true"
    get_settings.cache_clear()
    settings = get_settings()
    upgrade(settings.database_url)
    if settings.environment == "sandbox":
        from deployments.sandbox_world import register_sandbox_shops

        register_sandbox_shops(settings.database_url, ("taobao", "pinduoduo"))
    ensure_rate_limits(settings)
    deployments = all_deployments()
    # Applied once, by the runner that serves them: every apply renews the schedules' ids.
    # Runs an automation starts (stored platform messages) begin within this, not Prefect's 10 s.
    runner = Runner(query_seconds=RUNNER_QUERY_SECONDS)
    ids: list[UUID] = [runner.add_deployment(d) for d in deployments]  # type: ignore[misc]
    by_name = {d.flow_name: (i, d) for i, d in zip(ids, deployments, strict=True)}
    scheduled = {by_name[flow.name][0]: (flow.name, cron) for flow, cron, _ in SCHEDULED}
    ensure_automations(
        by_name["staff-alert"][0], scheduled, by_name["platform-events"][0],
        by_name["parcel-pushes"][0],
    )  # fmt: skip
    if settings.events.enabled and settings.events.transport == "stream":
        from deployments.message_stream import start_consumer

        start_consumer(settings)
        print(f"consuming the platform's message stream at {settings.events.stream_url}")
        if settings.pinduoduo_malls:
            start_consumer(settings, PINDUODUO)
            print(f"consuming Pinduoduo's messages at {settings.events.pinduoduo_stream_url}")
    _watch_for_twins(ids, remove_twin_runs)
    print(f"\nPrefect UI: http://127.0.0.1:{port}  (flow runs: /runs, artifacts: /artifacts)\n")
    asyncio.run(runner.start())


def _watch_for_twins(ids: list[Any], remove: Any) -> None:
    """Remove runs scheduled twice now and every few minutes (a restart can race a tick)."""

    def watch() -> None:
        while True:
            try:
                removed = remove(ids)
                if removed:
                    print(f"removed {removed} runs scheduled twice")
            except Exception as error:  # the next look tries again
                print(f"could not look for runs scheduled twice: {type(error).__name__}")
            time.sleep(TWIN_CHECK_SECONDS)

    threading.Thread(target=watch, name="aftercare-twin-runs", daemon=True).start()


def _start_sandbox(port: int) -> object:
    from aftercare.settings import get_settings
    from deployments.sandbox_world import SANDBOX_ENDPOINTS, sandbox_environment
    from sandbox import Sandbox, SandboxConfig

    config = SandboxConfig(seed=7, orders_per_shop=150, port=port, pinduoduo_orders_per_shop=75)
    sandbox = Sandbox(config)
    sandbox.start()
    urls = {name: sandbox.url(name) for name in SANDBOX_ENDPOINTS}
    for key, value in sandbox_environment(urls, get_settings().database_url).items():
        os.environ.setdefault(key, value)
    get_settings.cache_clear()
    print(f"sandbox APIs at {sandbox.base_url}")
    return sandbox
