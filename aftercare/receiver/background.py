"""Run the receiver in a background thread of this process (make serve, the demo, tests)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass

import uvicorn

from aftercare.receiver.app import create_app


@dataclass
class RunningReceiver:
    """A receiver served by uvicorn in a daemon thread."""

    server: uvicorn.Server
    thread: threading.Thread
    url: str

    def stop(self) -> None:
        """Ask uvicorn to finish and wait for it."""
        self.server.should_exit = True
        self.thread.join(10)


def start_receiver(
    port: int = 0,
    host: str = "127.0.0.1",
    on_pushes_stored: Callable[[int], None] | None = None,
) -> RunningReceiver:
    """Serve the receiver on `port` (a free one when 0) and return once it accepts calls."""
    if not port:
        with socket.socket() as sock:
            sock.bind((host, 0))
            port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(on_pushes_stored), host=host, port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, name="aftercare-receiver", daemon=True)
    thread.start()
    while not server.started:  # uvicorn's own start-up, not business time
        if not thread.is_alive():
            raise RuntimeError(f"the receiver could not listen on {host}:{port}")
        thread.join(0.05)
    return RunningReceiver(server, thread, f"http://{host}:{port}")
