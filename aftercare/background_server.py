"""Serve an ASGI app with uvicorn in a daemon thread of this process (receiver, workbench)."""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass
from typing import Any

import uvicorn


@dataclass
class RunningServer:
    """An app served by uvicorn in a daemon thread."""

    server: uvicorn.Server
    thread: threading.Thread
    url: str

    def stop(self) -> None:
        """Ask uvicorn to finish and wait for it."""
        self.server.should_exit = True
        self.thread.join(10)


def serve_in_background(app: Any, host: str, port: int, name: str) -> RunningServer:
    """Serve `app` on `port` (a free one when 0) and return once it accepts calls."""
    if not port:
        with socket.socket() as sock:
            sock.bind((host, 0))
            port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name=f"aftercare-{name}", daemon=True)
    thread.start()
    while not server.started:  # uvicorn's own start-up, not business time
        if not thread.is_alive():
            raise RuntimeError(f"the {name} could not listen on {host}:{port}")
        thread.join(0.05)
    return RunningServer(server, thread, f"http://{host}:{port}")
