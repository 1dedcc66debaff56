"""Serve the workbench in a background thread of this process (make serve, tests, benchmarks)."""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass

import uvicorn

from aftercare.settings import Settings
from app.workbench.web import create_app


@dataclass
class RunningWorkbench:
    """The workbench served by uvicorn in a daemon thread."""

    server: uvicorn.Server
    thread: threading.Thread
    url: str

    def stop(self) -> None:
        """Ask uvicorn to finish and wait for it."""
        self.server.should_exit = True
        self.thread.join(10)


def start_workbench(settings: Settings, port: int | None = None) -> RunningWorkbench:
    """Serve the workbench (on a free port when port is 0) and return once it answers."""
    host = settings.workbench.host
    port = settings.workbench.port if port is None else port
    if not port:
        with socket.socket() as sock:
            sock.bind((host, 0))
            port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(settings), host=host, port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="aftercare-workbench", daemon=True)
    thread.start()
    while not server.started:  # uvicorn's own start-up, not business time
        if not thread.is_alive():
            raise RuntimeError(f"the workbench could not listen on {host}:{port}")
        thread.join(0.05)
    return RunningWorkbench(server, thread, f"http://{host}:{port}")
