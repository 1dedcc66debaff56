"""Serve the workbench in a background thread of this process (make serve, tests, benchmarks)."""

from __future__ import annotations

from aftercare.background_server import RunningServer, serve_in_background
from aftercare.settings import Settings
from app.workbench.web import create_app


def start_workbench(settings: Settings, port: int | None = None) -> RunningServer:
    """Serve the workbench (on a free port when port is 0) and return once it answers."""
    where = settings.workbench.port if port is None else port
    return serve_in_background(create_app(settings), settings.workbench.host, where, "workbench")
