"""JSON from outside, parsed only when it nests no deeper than any real payload does."""

from __future__ import annotations

import json
import re
from typing import Any

# Strings are skipped whole (brackets inside them do not nest); the rest counts.
_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)
# Kuaidi100 pushes and SMS replies nest four levels; a courier answer five.
MAX_DEPTH = 32


class TooDeep(ValueError):
    """A JSON text nested deeper than the limit."""


def loads(data: str | bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """Parse JSON, refusing (ValueError) text nested deeper than max_depth before decoding it.

    The decoder's own limit is a RecursionError deep in the stack, which a caller catching
    ValueError never sees: one hostile body must fail alone and with a reason.
    """
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    depth = 0
    for token in _TOKENS.finditer(raw):
        mark = token.group()
        if mark in (b"[", b"{"):
            depth += 1
            if depth > max_depth:
                raise TooDeep(f"JSON nested deeper than {max_depth} levels")
        elif mark in (b"]", b"}"):
            depth -= 1
    try:
        return json.loads(data)
    except RecursionError:
        raise TooDeep(f"JSON nested deeper than {max_depth} levels") from None
