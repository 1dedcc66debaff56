"""A WebSocket server on a loopback port, served by a daemon thread (the message channels)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from websockets.sync.server import Server, ServerConnection, serve


class LoopbackServer:
    """Listen on start, shut down and join on stop; safe to stop twice."""

    def __init__(self) -> None:
        self._server: Server | None = None
        self._thread: threading.Thread | None = None

    def listen(
        self,
        handler: Callable[[ServerConnection], None],
        host: str,
        port: int,
        name: str,
        **options: Any,
    ) -> int:
        """Serve `handler` in a daemon thread named `name`; return the port bound."""
        self._server = serve(handler, host, port, **options)
        self._thread = threading.Thread(target=self._server.serve_forever, name=name, daemon=True)
        self._thread.start()
        return int(self._server.socket.getsockname()[1])

    def stop(self) -> None:
        """Close every connection and stop listening."""
        if self._server is not None:
            self._server.shutdown()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
