"""Reading single fields of provider payloads: the right type or ValueError/TypeError, nothing else.

Providers send numbers as strings and strings as numbers; anything else of the wrong kind (lists,
objects, booleans, NaN, out-of-range dates) is refused here, so the parsers turn it into their
typed MalformedResponse instead of a record with a field of the wrong type.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from decimal import Decimal
from typing import Any

from aftercare.clock import parse_china_time

# A lone surrogate (JSON allows "\ud800") cannot be encoded, so neither stored nor logged; a NUL
# ("\u0000") cannot be stored in a PostgreSQL text column.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_INTEGER = re.compile(r"-?[0-9]{1,18}")
_IDENTIFIER = re.compile(r"[0-9]{1,32}")
# At most ten digits before the point: what the order tables (NUMERIC(12, 2)) can hold.
_AMOUNT = re.compile(r"[0-9]{1,10}(?:\.[0-9]{1,8})?")


def _shown(value: Any) -> str:
    """A short picture of a refused value for the error message (payloads may be huge)."""
    return f"{value!r:.40}"


def storable(value: str) -> str:
    """Return value with any lone surrogate or NUL replaced by U+FFFD, so it can be stored."""
    return _UNSTORABLE.sub("\ufffd", value)


def text(value: Any) -> str:
    """A text field; numbers are taken as their text, other types are refused."""
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise TypeError(f"not text: {type(value).__name__}")


def optional_text(value: Any) -> str | None:
    """A text field that may be absent: stripped, and None when empty."""
    if value is None:
        return None
    return text(value).strip() or None


def lenient_text(value: Any) -> str | None:
    """Like optional_text, but a value of the wrong type counts as absent."""
    try:
        return optional_text(value)
    except TypeError:
        return None


def integer(value: Any) -> int:
    """An integer given as a number or a string of ASCII digits (booleans and floats refused)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        return int(value.strip())
    raise ValueError(f"not an integer: {_shown(value)}")


def count(value: Any) -> int:
    """A non-negative integer (a total, a quantity)."""
    number = integer(value)
    if number < 0:
        raise ValueError(f"negative count: {number}")
    return number


def identifier(value: Any) -> str:
    """A platform id (tid, oid): a positive integer of at most 32 digits, as canonical text."""
    if isinstance(value, int) and not isinstance(value, bool):
        digits = str(value)
    elif isinstance(value, str):
        digits = value.strip()
    else:
        raise TypeError(f"id is not a number: {type(value).__name__}")
    if not _IDENTIFIER.fullmatch(digits) or int(digits) == 0:
        raise ValueError(f"not an id: {_shown(value)}")
    return str(int(digits))


def amount(value: Any) -> Decimal:
    """A money amount: finite, not negative, at most ten digits before the point."""
    if value is None or value == "":
        return Decimal("0")
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise TypeError(f"amount is not a number: {type(value).__name__}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"not an amount: {value}")
    shown = value.strip() if isinstance(value, str) else str(value)
    if not _AMOUNT.fullmatch(shown):
        raise ValueError(f"not an amount: {_shown(value)}")
    return Decimal(shown)


def flag(value: Any) -> bool | None:
    """A boolean given as JSON true/false or as the text "true"/"false"; None when absent."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ValueError(f"not a boolean: {_shown(value)}")


def china_time(value: Any) -> datetime:
    """A provider's 'yyyy-MM-dd HH:mm:ss' GMT+8 time, as an aware UTC datetime."""
    if not isinstance(value, str):
        raise TypeError(f"time is not text: {type(value).__name__}")
    try:
        return parse_china_time(value)
    except (ValueError, OverflowError):  # OverflowError: year 1 shifted to UTC
        raise ValueError(f"unreadable time {_shown(value)}") from None


def optional_china_time(value: Any) -> datetime | None:
    """A time that may be absent (None, empty)."""
    if value is None or value == "":
        return None
    return china_time(value)
