"""Pinduoduo's message service (PMC) over its WebSocket: messages pushed, each acknowledged.

Connect at {url}/message/{client_id}/{timestamp}/{sign} (sign: base64 of the MD5 hex of
client_id + timestamp in milliseconds + client_secret). The service pushes
{"id", "commandType": "Common", "sendTime", "message": {"type", "mallID", "content"}}; each is
answered with an Ack naming its id, send time, type and mall (a Fail has it sent again). A
heartbeat keeps the connection alive. The frames are our reading of the platform's SDKs.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI
from websockets.sync.client import ClientConnection, connect

from aftercare.clients import fields
from aftercare.clients.errors import AuthenticationError, MalformedResponse, ProviderUnavailable
from aftercare.clients.taobao_tmc import CONTENT_LIMIT, ChannelMessage, MessageBatch

PROVIDER = "pinduoduo"


def pmc_sign(client_id: str, stamp: str, secret: str) -> str:
    """The connection's signature."""
    digest = hashlib.md5(f"{client_id}{stamp}{secret}".encode()).hexdigest()
    return base64.b64encode(digest.encode()).decode()


def parse_push(raw: Any, malls: dict[int, str]) -> ChannelMessage:
    """One pushed message; MalformedResponse when its id, type or content cannot be read."""
    try:
        if not isinstance(raw, dict) or not isinstance(raw.get("message"), dict):
            raise TypeError("no message object")
        inner = raw["message"]
        text = fields.optional_text(inner.get("content")) or "{}"
        content = json.loads(text)
        if not isinstance(content, dict):
            raise ValueError("content is not an object")
        mall = fields.integer(inner.get("mallID") or 0)
        sent = raw.get("sendTime")
        tid = fields.optional_text(content.get("tid"))
        refund = content.get("refund_id")
        return ChannelMessage(
            id=fields.identifier(raw.get("id")),
            topic=fields.text(inner.get("type")).strip()[:80],
            seller_nick=None,
            published_at=None
            if sent is None
            else datetime.fromtimestamp(fields.integer(sent) / 1000, UTC),
            tid=tid[:32] if tid else None,
            oid=None,
            refund_id=None if refund in (None, "") else fields.identifier(refund),
            content=text[:CONTENT_LIMIT],
            shop_code=malls.get(mall),
        )
    except (TypeError, ValueError, OverflowError, OSError) as error:
        raise MalformedResponse(f"unreadable message: {error}", provider=PROVIDER) from None


class PmcStream:
    """One signed connection to the service; what it pushed is read in batches."""

    def __init__(
        self,
        url: str,
        *,
        client_id: str,
        client_secret: str,
        malls: dict[int, str],
        millis: Callable[[], int] = lambda: int(time.time() * 1000),
    ) -> None:
        self.url = url.rstrip("/")
        self.client_id = client_id
        self._secret = client_secret
        self.malls = malls
        self._millis = millis
        self._socket: ClientConnection | None = None
        self._received: dict[str, dict[str, Any]] = {}  # id -> what its Ack must name

    def open(self, timeout: float = 10.0) -> None:
        """Connect, signed; AuthenticationError when the service refuses the app."""
        stamp = str(self._millis())
        sign = pmc_sign(self.client_id, stamp, self._secret)
        address = f"{self.url}/message/{self.client_id}/{stamp}/{sign}"
        try:
            self._socket = connect(address, open_timeout=timeout, max_size=1 << 20)
        except InvalidStatus as error:
            status = error.response.status_code
            if status in (401, 403):
                raise AuthenticationError(
                    f"message service refused the connection: HTTP {status}",
                    provider=PROVIDER,
                    fix="AFTERCARE_PINDUODUO_CLIENT_ID / AFTERCARE_PINDUODUO_CLIENT_SECRET",
                ) from None
            raise ProviderUnavailable(
                f"message service answered HTTP {status}", provider=PROVIDER
            ) from None
        except (OSError, TimeoutError, InvalidHandshake, InvalidURI) as error:
            raise ProviderUnavailable(
                f"message service unreachable: {type(error).__name__}", provider=PROVIDER
            ) from None
        self._received.clear()

    def pull(self, wait: float, limit: int) -> MessageBatch:
        """Send a heartbeat and read what is pushed until `wait` seconds pass with nothing."""
        self._send({"commandType": "HeartBeat", "time": self._millis()})
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
            try:
                frame = json.loads(raw)
            except ValueError:
                rejected.append(("?", "a frame that is not JSON"))
                continue
            if not isinstance(frame, dict) or frame.get("commandType") != "Common":
                continue  # heartbeats and anything else that is not a message
            key = str(frame.get("id", "?"))[:64]
            self._received[key] = _ack_of(frame)
            try:
                messages.append(parse_push(frame, self.malls))
            except MalformedResponse as error:
                rejected.append((key, error.message))
        return MessageBatch(tuple(messages), tuple(rejected))

    def confirm(self, ids: list[str]) -> None:
        """Acknowledge handled messages, one frame each."""
        self._answer("Ack", ids)

    def fail(self, ids: list[str]) -> None:
        """Have messages sent again."""
        self._answer("Fail", ids)

    @property
    def is_open(self) -> bool:
        """Whether the connection is up."""
        return self._socket is not None

    def close(self) -> None:
        """Close the connection (what was not acknowledged is sent again later)."""
        if self._socket is not None:
            self._socket.close()
        self._socket = None

    def _answer(self, kind: str, ids: list[str]) -> None:
        for message_id in ids:
            named = self._received.pop(message_id, None)
            if named is not None:
                self._send({"commandType": kind, "time": self._millis(), **named})

    def _live(self) -> ClientConnection:
        if self._socket is None:
            raise ProviderUnavailable("message service not connected", provider=PROVIDER)
        return self._socket

    def _send(self, frame: dict[str, Any]) -> None:
        socket = self._live()
        try:
            socket.send(json.dumps(frame, ensure_ascii=False))
        except ConnectionClosed:
            self.close()
            raise ProviderUnavailable("message service closed", provider=PROVIDER) from None


def _ack_of(frame: dict[str, Any]) -> dict[str, Any]:
    inner = frame.get("message") if isinstance(frame.get("message"), dict) else {}
    assert isinstance(inner, dict)
    return {
        "id": frame.get("id"),
        "sendTime": frame.get("sendTime"),
        "type": inner.get("type"),
        "mallID": inner.get("mallID"),
    }
