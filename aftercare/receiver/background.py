"""Run the receiver in a background thread of this process (make serve, the demo, tests)."""

from __future__ import annotations

from collections.abc import Callable

from aftercare.background_server import RunningServer, serve_in_background
from aftercare.receiver.app import create_app

RunningReceiver = RunningServer


def start_receiver(
    port: int = 0,
    host: str = "127.0.0.1",
    on_pushes_stored: Callable[[int], None] | None = None,
) -> RunningReceiver:
    """Serve the receiver on `port` (a free one when 0) and return once it accepts calls."""
    return serve_in_background(create_app(on_pushes_stored), host, port, "receiver")
