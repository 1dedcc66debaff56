"""The message channel's binary frames, as the platform's TMC SDKs write them (server side).

A frame is little-endian: protocol version (1 byte), message type (1 byte: 0 connect,
1 connect-ack, 2 send, 3 send-ack), then headers until an end marker. Each header starts
with its kind (int16): 0 end, 1 custom, 2 status code (int32), 3 status phrase (string),
4 flag (int32), 5 token (string). A custom header is a name (string), a value format
(1 byte: 0 void, 1 byte, 2 int16, 3 int32, 4 int64, 5 date as int64 ms, 6 byte array,
7 string) and the value. Strings and byte arrays are counted by an int32 length.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

VERSION = 2
CONNECT, CONNECT_ACK, SEND, SEND_ACK = 0, 1, 2, 3
# What a send frame is about (its custom header `__kind`).
PULL, CONFIRM, DATA = 1, 2, 3
_END, _CUSTOM, _STATUS, _PHRASE, _FLAG, _TOKEN = 0, 1, 2, 3, 4, 5
_INT_FORMATS = {1: "<b", 2: "<h", 3: "<i", 4: "<q", 5: "<q"}
MAX_FRAME = 1 << 20


class FrameError(ValueError):
    """A frame that does not follow the layout."""


@dataclass(slots=True)
class Frame:
    """One frame: its type, the fixed headers and the custom ones."""

    type: int
    status: int | None = None
    phrase: str | None = None
    flag: int | None = None
    token: str | None = None
    content: dict[str, Any] = field(default_factory=dict)


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def take(self, fmt: str) -> Any:
        size = struct.calcsize(fmt)
        if self.at + size > len(self.data):
            raise FrameError("frame ends inside a value")
        (value,) = struct.unpack_from(fmt, self.data, self.at)
        self.at += size
        return value

    def raw(self) -> bytes:
        size = self.take("<i")
        if size < 0 or self.at + size > len(self.data):
            raise FrameError("bad length")
        chunk = self.data[self.at : self.at + size]
        self.at += size
        return chunk

    def text(self) -> str:
        try:
            return self.raw().decode()
        except UnicodeDecodeError:
            raise FrameError("string is not UTF-8") from None


def decode(data: bytes) -> Frame:
    """Read one frame; FrameError when it is not one."""
    if len(data) > MAX_FRAME:
        raise FrameError("frame too large")
    reader = _Reader(data)
    if reader.take("<B") != VERSION:
        raise FrameError("unknown protocol version")
    frame = Frame(type=reader.take("<B"))
    while (kind := reader.take("<h")) != _END:
        if kind == _STATUS:
            frame.status = reader.take("<i")
        elif kind == _PHRASE:
            frame.phrase = reader.text()
        elif kind == _FLAG:
            frame.flag = reader.take("<i")
        elif kind == _TOKEN:
            frame.token = reader.text()
        elif kind == _CUSTOM:
            name, form = reader.text(), reader.take("<B")
            if form == 0:
                frame.content[name] = None
            elif form in _INT_FORMATS:
                frame.content[name] = reader.take(_INT_FORMATS[form])
            elif form == 6:
                frame.content[name] = reader.raw()
            elif form == 7:
                frame.content[name] = reader.text()
            else:
                raise FrameError(f"unknown value format {form}")
        else:
            raise FrameError(f"unknown header {kind}")
    return frame


def _text(value: str) -> bytes:
    data = value.encode()
    return struct.pack("<i", len(data)) + data


def encode(frame: Frame) -> bytes:
    """Write one frame."""
    out = bytearray(struct.pack("<BB", VERSION, frame.type))
    if frame.status is not None:
        out += struct.pack("<hi", _STATUS, frame.status)
    if frame.phrase is not None:
        out += struct.pack("<h", _PHRASE) + _text(frame.phrase)
    if frame.flag is not None:
        out += struct.pack("<hi", _FLAG, frame.flag)
    if frame.token is not None:
        out += struct.pack("<h", _TOKEN) + _text(frame.token)
    for name, value in frame.content.items():
        out += struct.pack("<h", _CUSTOM) + _text(name)
        if isinstance(value, bool | int):
            out += struct.pack("<Bq", 4, int(value))
        else:
            out += struct.pack("<B", 7) + _text(str(value))
    out += struct.pack("<h", _END)
    return bytes(out)
