"""`make serve`: a local Prefect server with its UI, the deployments served on schedule.

Beside the deployments it serves the receiver (Kuaidi100 tracking pushes, buyers' SMS replies);
on the embedded default (AFTERCARE_ENVIRONMENT=sandbox) it also starts the sandbox APIs, so
everything runs for real on one machine.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import requests

SANDBOX_PORT = 8765


def start_prefect_server(port: int) -> subprocess.Popen[bytes]:
    """Start `prefect server start` and wait until it answers; return the process."""
    prefect = Path(sys.executable).parent / "prefect"
    process = subprocess.Popen(
        [str(prefect), "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/api/health", timeout=2).ok:
                return process
        except requests.RequestException:
            pass
        if process.poll() is not None:
            raise RuntimeError("the Prefect server exited while starting")
        time.sleep(0.5)  # waiting for a process we started, not for business time
    process.terminate()
    raise TimeoutError("the Prefect server did not come up within 3 minutes")


def run(port: int = 4200) -> None:
    """Start the server (and the sandbox), set everything up, serve until interrupted."""
    os.environ.setdefault("PREFECT_HOME", str(Path("var/prefect").resolve()))
    server = start_prefect_server(port)
    os.environ["PREFECT_API_URL"] = f"http://127.0.0.1:{port}/api"
    try:
        _serve(port)
    finally:
        server.terminate()
        server.wait(timeout=30)


def _serve(port: int) -> None:
    from aftercare.receiver.background import start_receiver
    from aftercare.settings import get_settings
    from deployments.serve import SCHEDULED, all_deployments
    from deployments.setup import ensure_automations, ensure_rate_limits
    from models.migrate import upgrade

    sandbox = _start_sandbox() if get_settings().environment == "sandbox" else None
    receiver = start_receiver(get_settings().receiver_port, get_settings().receiver_host)
    if sandbox is not None:
        sandbox.set_uplink_url(f"{receiver.url}/sms/uplink")  # type: ignore[attr-defined]
    print(f"receiver of tracking pushes and SMS replies at {receiver.url}")
    os.environ["AFTERCARE_PREFECT_RATE_LIMITS"] = "true"
    get_settings.cache_clear()
    settings = get_settings()
    upgrade(settings.database_url)
    if settings.environment == "sandbox":
        from aftercare.demo import register_sandbox_shops

        register_sandbox_shops(settings.database_url)
    ensure_rate_limits(settings)
    deployments = all_deployments()
    ids = [deployment.apply() for deployment in deployments]
    by_name = {d.flow_name: (i, d) for i, d in zip(ids, deployments, strict=True)}
    scheduled = {by_name[flow.name][0]: (flow.name, cron) for flow, cron, _ in SCHEDULED}
    ensure_automations(by_name["staff-alert"][0], scheduled)
    print(f"\nPrefect UI: http://127.0.0.1:{port}  (flow runs: /runs, artifacts: /artifacts)\n")

    from prefect import serve

    serve(*deployments)


def _start_sandbox() -> object:
    from aftercare.demo import sandbox_environment
    from aftercare.sandbox import Sandbox, SandboxConfig
    from aftercare.settings import get_settings

    sandbox = Sandbox(SandboxConfig(seed=7, orders_per_shop=150, port=SANDBOX_PORT))
    sandbox.start()
    urls = {name: sandbox.url(name) for name in ("kuaidi100", "taobao", "sms", "dingtalk")}
    for key, value in sandbox_environment(urls, get_settings().database_url).items():
        os.environ.setdefault(key, value)
    get_settings.cache_clear()
    print(f"sandbox APIs at {sandbox.base_url}")
    return sandbox
