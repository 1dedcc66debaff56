"""Binary frames of the platform's message channel (TMC over WebSocket), client side.

Little-endian: version byte (2), type byte (0 connect, 1 connect-ack, 2 send, 3 send-ack),
then headers, each led by an int16 kind: 0 ends them, 1 custom (counted name, a value-format
byte, the value), 2 status code (int32), 3 status phrase, 4 flag (int32), 5 token. Counted
strings and byte arrays carry an int32 length. Value formats: 0 none, 1-4 ints of 1/2/4/8
bytes, 5 a date in epoch milliseconds (int64), 6 bytes, 7 a string.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass, field
from typing import Any

from aftercare.clients.errors import MalformedResponse

VERSION = 2
CONNECT, CONNECT_ACK, SEND = 0, 1, 2
PULL, CONFIRM, DATA = 1, 2, 3  # the `__kind` of a send frame
_SIZED = {1: "<b", 2: "<h", 3: "<i", 4: "<q", 5: "<q"}


@dataclass(slots=True)
class Frame:
    """A frame as the consumer needs it."""

    type: int
    status: int | None = None
    phrase: str | None = None
    token: str | None = None
    content: dict[str, Any] = field(default_factory=dict)


def _counted(value: str | bytes) -> bytes:
    data = value.encode() if isinstance(value, str) else value
    return struct.pack("<i", len(data)) + data


def write(frame_type: int, content: dict[str, Any], token: str | None = None) -> bytes:
    """A frame of `frame_type` with a token (after connecting) and custom headers."""
    parts = [struct.pack("<BB", VERSION, frame_type)]
    if token is not None:
        parts.append(struct.pack("<h", 5) + _counted(token))
    for name, value in content.items():
        parts.append(struct.pack("<h", 1) + _counted(name))
        if isinstance(value, int):
            parts.append(struct.pack("<Bq", 4, value))
        else:
            parts.append(struct.pack("<B", 7) + _counted(str(value)))
    parts.append(struct.pack("<h", 0))
    return b"".join(parts)


def _unpack(stream: io.BytesIO, fmt: str) -> Any:
    size = struct.calcsize(fmt)
    chunk = stream.read(size)
    if len(chunk) != size:
        raise MalformedResponse("channel frame cut short", provider="taobao")
    return struct.unpack(fmt, chunk)[0]


def _read_counted(stream: io.BytesIO) -> bytes:
    size = _unpack(stream, "<i")
    chunk = stream.read(size) if size >= 0 else b""
    if size < 0 or len(chunk) != size:
        raise MalformedResponse("channel frame has a bad length", provider="taobao")
    return chunk


def _read_text(stream: io.BytesIO) -> str:
    try:
        return _read_counted(stream).decode()
    except UnicodeDecodeError:
        raise MalformedResponse("channel frame text is not UTF-8", provider="taobao") from None


def read(data: bytes) -> Frame:
    """Parse one frame from the channel; MalformedResponse when it is not one."""
    stream = io.BytesIO(data)
    if _unpack(stream, "<B") != VERSION:
        raise MalformedResponse("channel frame of an unknown version", provider="taobao")
    frame = Frame(type=_unpack(stream, "<B"))
    while kind := _unpack(stream, "<h"):
        if kind == 2:
            frame.status = _unpack(stream, "<i")
        elif kind == 3:
            frame.phrase = _read_text(stream)
        elif kind == 4:
            _unpack(stream, "<i")  # the flag carries nothing the consumer uses
        elif kind == 5:
            frame.token = _read_text(stream)
        elif kind == 1:
            name, form = _read_text(stream), _unpack(stream, "<B")
            if form in _SIZED:
                frame.content[name] = _unpack(stream, _SIZED[form])
            elif form == 6:
                frame.content[name] = _read_counted(stream)
            elif form == 7:
                frame.content[name] = _read_text(stream)
            elif form == 0:
                frame.content[name] = None
            else:
                raise MalformedResponse(f"channel value format {form}", provider="taobao")
        else:
            raise MalformedResponse(f"channel header kind {kind}", provider="taobao")
    return frame
