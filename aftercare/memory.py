"""Process memory: hand memory freed by a chunk's threads back to the system."""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable
from functools import cache


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    library = ctypes.util.find_library("c")
    if library is None:
        return None
    try:
        trim: Callable[[int], int] = ctypes.CDLL(library).malloc_trim
    except (OSError, AttributeError):  # not glibc (macOS, musl)
        return None
    return trim


def release_freed_memory() -> bool:
    """Return the free pages of every malloc arena to the system; False without glibc."""
    # A chunk's worker threads leave freed memory spread over glibc's per-thread arenas, which
    # it keeps: without this the pipeline's memory grew with the backlog (bench/RESULTS.md).
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
