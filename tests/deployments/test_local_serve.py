"""`make serve` on any port: the UI asks the server it came from, not port 4200."""

from __future__ import annotations

import socket

import pytest
import requests

from deployments.local import start_prefect_server


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.prefect
def test_the_ui_on_another_port_asks_that_port_for_its_api(tmp_path, monkeypatch):
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "prefect"))
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    port = free_port()
    server = start_prefect_server(port)
    try:
        settings = requests.get(f"http://127.0.0.1:{port}/ui-settings", timeout=10).json()
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert settings["api_url"] == f"http://127.0.0.1:{port}/api"
