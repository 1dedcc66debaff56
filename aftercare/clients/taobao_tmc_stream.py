"""The shop platform's message channel (TMC) over its WebSocket: connect, pull, confirm or fail."""

from __future__ import annotations

import time
from collections.abc import Callable

from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
from websockets.sync.client import ClientConnection, connect

from aftercare.clients import tmc_frames as frames
from aftercare.clients.errors import AuthenticationError, MalformedResponse, ProviderUnavailable
from aftercare.clients.taobao import sign_request
from aftercare.clients.taobao_tmc import ChannelMessage, MessageBatch, parse_message

PROVIDER = "taobao"


class MessageStream:
    """One signed connection to the channel; messages come in batches, each pulled."""

    def __init__(
        self,
        url: str,
        *,
        app_key: str,
        app_secret: str,
        group: str = "default",
        millis: Callable[[], int] = lambda: int(time.time() * 1000),
    ) -> None:
        self.url = url
        self.app_key = app_key
        self._secret = app_secret
        self.group = group
        self._millis = millis
        self._socket: ClientConnection | None = None
        self._token: str | None = None

    def open(self, timeout: float = 10.0) -> None:
        """Connect and sign in; AuthenticationError when the platform refuses the app."""
        params = {
            "app_key": self.app_key,
            "group_name": self.group,
            "timestamp": str(self._millis()),
            "sdk": "aftercare",
        }
        hello = {**params, "sign": sign_request(params, self._secret, "md5")}
        try:
            self._socket = connect(self.url, open_timeout=timeout, max_size=1 << 20)
            self._socket.send(frames.write(frames.CONNECT, hello))
            ack = frames.read(_bytes(self._socket.recv(timeout=timeout)))
        except (OSError, TimeoutError, ConnectionClosed, InvalidHandshake, InvalidURI) as error:
            self.close()
            raise ProviderUnavailable(
                f"message channel unreachable: {type(error).__name__}", provider=PROVIDER
            ) from None
        if ack.type != frames.CONNECT_ACK or ack.status != 0 or not ack.token:
            self.close()
            raise AuthenticationError(
                f"message channel refused the connection: {ack.phrase or ack.status}",
                provider=PROVIDER,
                fix="AFTERCARE_TAOBAO_APP_KEY / AFTERCARE_TAOBAO_APP_SECRET",
            )
        self._token = ack.token

    def pull(self, wait: float, limit: int) -> MessageBatch:
        """Ask for messages and read what comes until `wait` seconds pass with nothing more."""
        self._send({"__kind": frames.PULL})
        messages: list[ChannelMessage] = []
        rejected: list[tuple[str, str]] = []
        while len(messages) + len(rejected) < limit:
            try:
                raw = self._live().recv(timeout=wait)
            except TimeoutError:
                break
            except ConnectionClosed:
                self.close()
                break  # what was read is kept; the rest comes again after the timeout
            frame = frames.read(_bytes(raw))
            if frame.content.get("__kind") != frames.DATA:
                continue
            try:
                messages.append(parse_message(frame.content))
            except MalformedResponse as error:
                key = str(frame.content.get("id", "?"))[:64]
                rejected.append((key, error.message))
        return MessageBatch(tuple(messages), tuple(rejected))

    def confirm(self, ids: list[str]) -> None:
        """Take handled messages off the channel (one frame each, as the SDKs do)."""
        for message_id in ids:
            if message_id.isdigit():
                self._send({"__kind": frames.CONFIRM, "id": int(message_id)})

    def fail(self, ids: list[str]) -> None:
        """Hand messages back to be delivered again at the next pull."""
        for message_id in ids:
            if message_id.isdigit():
                self._send({"__kind": frames.CONFIRM, "id": int(message_id), "fail": 1})

    @property
    def is_open(self) -> bool:
        """Whether the connection is up and signed in."""
        return self._socket is not None and self._token is not None

    def close(self) -> None:
        """Close the connection (unconfirmed messages are delivered again later)."""
        if self._socket is not None:
            self._socket.close()
        self._socket, self._token = None, None

    def _live(self) -> ClientConnection:
        if self._socket is None or self._token is None:
            raise ProviderUnavailable("message channel not connected", provider=PROVIDER)
        return self._socket

    def _send(self, content: dict[str, object]) -> None:
        socket = self._live()
        try:
            socket.send(frames.write(frames.SEND, content, token=self._token))
        except ConnectionClosed:
            self.close()
            raise ProviderUnavailable("message channel closed", provider=PROVIDER) from None


def _bytes(raw: str | bytes) -> bytes:
    return raw if isinstance(raw, bytes) else raw.encode()
