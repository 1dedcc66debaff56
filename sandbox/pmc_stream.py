"""PMC over WebSocket: connect at /message/{client_id}/{timestamp}/{sign}, messages pushed.

The sign is base64 of the MD5 hex of client_id + timestamp (milliseconds) + client_secret. The
server pushes due messages as JSON text; the client answers each with an Ack (or a Fail, to
have it again at once) naming its id, and sends a HeartBeat now and then. A bad signature or
client is refused at the handshake (HTTP 401). As a fault the server may drop the connection
in the middle of a batch (`drop_rate`): what was not acknowledged comes again later.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import random
import time
from http import HTTPStatus

from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.sync.server import ServerConnection

from .pmc import PddMessageChannel
from .ws_loopback import LoopbackServer

log = logging.getLogger(__name__)
PUSH_SIZE = 200  # messages pushed in one go at the most
PUSH_EVERY = 0.1  # seconds between looks at the queue


def pmc_sign(client_id: str, stamp: str, secret: str) -> str:
    """The connection's signature."""
    digest = hashlib.md5(f"{client_id}{stamp}{secret}".encode()).hexdigest()
    return base64.b64encode(digest.encode()).decode()


class PmcStream:
    """A WebSocket endpoint for the app's PMC queue, on its own loopback port."""

    def __init__(
        self, channel: PddMessageChannel, client_id: str, secret: str, *, seed: int
    ) -> None:
        self.channel = channel
        self.client_id = client_id
        self.secret = secret
        self.drop_rate = 0.0
        self._random = random.Random(seed)
        self._loopback = LoopbackServer()
        self.connections = self.refused = self.dropped = 0
        self.acked = self.failed = self.heartbeats = 0
        self.url = ""

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen in a daemon thread; return the ws:// address."""
        bound = self._loopback.listen(
            self._handle, host, port, "sandbox-pmc-stream", process_request=self._check
        )
        self.url = f"ws://{host}:{bound}"
        return self.url

    def stop(self) -> None:
        """Close every connection and stop listening."""
        self._loopback.stop()

    def _check(self, connection: ServerConnection, request: Request) -> Response | None:
        parts = request.path.strip("/").split("/")
        ok = len(parts) == 4 and parts[0] == "message" and parts[1] == self.client_id
        if ok:
            expected = pmc_sign(parts[1], parts[2], self.secret)
            ok = hmac.compare_digest(parts[3].encode(), expected.encode())
        if ok:
            return None
        self.refused += 1
        body = b'{"error_code":10018,"error_msg":"sign invalid"}'
        headers = Headers([("Content-Type", "application/json")])
        return Response(HTTPStatus.UNAUTHORIZED, "Unauthorized", headers, body)

    def _handle(self, connection: ServerConnection) -> None:
        self.connections += 1
        try:
            while True:
                for message in self.channel.hand_out(PUSH_SIZE):
                    if self._random.random() < self.drop_rate:
                        self.dropped += 1
                        connection.close(1011, "dropped")
                        return
                    connection.send(json.dumps(message, ensure_ascii=False))
                deadline = time.monotonic() + PUSH_EVERY
                while (left := deadline - time.monotonic()) > 0:
                    try:
                        raw = connection.recv(timeout=left)
                    except TimeoutError:
                        break
                    self._answer(connection, raw)
        except ConnectionClosed as error:
            log.debug("pmc connection ended: %s", type(error).__name__)

    def _answer(self, connection: ServerConnection, raw: str | bytes) -> None:
        try:
            frame = json.loads(raw)
        except ValueError:
            connection.close(1003, "not json")
            return
        kind = frame.get("commandType") if isinstance(frame, dict) else None
        if kind == "HeartBeat":
            self.heartbeats += 1
            connection.send(json.dumps({"commandType": "HeartBeat", "time": frame.get("time")}))
        elif kind in ("Ack", "Fail"):
            self.channel.settle_id(frame.get("id"), failed=kind == "Fail")
            self.acked += kind == "Ack"
            self.failed += kind == "Fail"
