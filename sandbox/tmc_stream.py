"""The message channel over WebSocket: connect (signed), pull, confirm or fail, in binary frames.

The same queue as the polled channel: a message handed out on either way is due again after
the redelivery timeout until confirmed. A failed message is due again at once. As faults, a
pull may be answered with a message twice or out of order (the channel's own settings), and
the server may drop the connection in the middle of a batch (`drop_rate`).
"""

from __future__ import annotations

import hmac
import logging
import random
import secrets
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import ServerConnection

from . import tmc_frames as frames
from .tmc import MessageChannel
from .top import top_sign
from .ws_loopback import LoopbackServer

log = logging.getLogger(__name__)
PULL_SIZE = 200  # messages answered to one pull at the most
UNAUTHORISED = 401


class MessageStream:
    """A WebSocket endpoint for the app's channel, on its own loopback port."""

    def __init__(
        self, channel: MessageChannel, secret: str, *, seed: int, drop_rate: float = 0.0
    ) -> None:
        self.channel = channel
        self.secret = secret
        self.drop_rate = drop_rate
        self._random = random.Random(seed)
        self._loopback = LoopbackServer()
        self.connections = 0
        self.refused = 0
        self.dropped = 0
        self.confirmed = 0
        self.failed = 0
        self.url = ""

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen in a daemon thread; return the ws:// address."""
        bound = self._loopback.listen(
            self._handle, host, port, "sandbox-tmc-stream", max_size=frames.MAX_FRAME
        )
        self.url = f"ws://{host}:{bound}/"
        return self.url

    def stop(self) -> None:
        """Close every connection and stop listening."""
        self._loopback.stop()

    def _handle(self, connection: ServerConnection) -> None:
        try:
            token = self._connect(connection)
            if token is None:
                return
            while True:
                raw = connection.recv()
                frame = frames.decode(raw if isinstance(raw, bytes) else raw.encode())
                if frame.type != frames.SEND or frame.token != token:
                    connection.close(1008, "not connected")
                    return
                if not self._answer(connection, frame.content):
                    return
        except (ConnectionClosed, frames.FrameError, TimeoutError) as error:
            log.debug("message stream connection ended: %s", type(error).__name__)

    def _connect(self, connection: ServerConnection) -> str | None:
        raw = connection.recv(timeout=10)
        frame = frames.decode(raw if isinstance(raw, bytes) else raw.encode())
        reason = self._refusal(frame)
        if reason:
            self.refused += 1
            ack = frames.Frame(frames.CONNECT_ACK, status=UNAUTHORISED, phrase=reason)
            connection.send(frames.encode(ack))
            connection.close(1008, "refused")
            return None
        self.connections += 1
        token = secrets.token_hex(8)
        connection.send(frames.encode(frames.Frame(frames.CONNECT_ACK, status=0, token=token)))
        return token

    def _refusal(self, frame: frames.Frame) -> str:
        if frame.type != frames.CONNECT:
            return "connect first"
        params = {k: str(v) for k, v in frame.content.items() if k != "sign"}
        if params.get("app_key") != self.channel.app_key:
            return "invalid app_key"
        if params.get("group_name", "default") != "default":
            return f"group {params['group_name']} does not exist"
        sign = str(frame.content.get("sign", ""))
        if not hmac.compare_digest(sign.encode(), top_sign(params, self.secret, "md5").encode()):
            return "invalid signature"
        return ""

    def _answer(self, connection: ServerConnection, content: dict[str, Any]) -> bool:
        kind = content.get("__kind")
        if kind == frames.PULL:
            for message in self.channel.hand_out(PULL_SIZE):
                if self._random.random() < self.drop_rate:
                    self.dropped += 1
                    connection.close(1011, "dropped")  # mid-batch: the rest come again later
                    return False
                data = {"__kind": frames.DATA, **message}
                connection.send(frames.encode(frames.Frame(frames.SEND, content=data)))
        elif kind == frames.CONFIRM and isinstance(content.get("id"), int):
            failed = bool(content.get("fail"))
            self.channel.settle(content["id"], failed=failed)
            self.failed += failed
            self.confirmed += not failed
        return True
