"""Reading a provider's list: each item on its own, so one unreadable item costs nothing else."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from aftercare.clients import fields
from aftercare.clients.errors import MalformedResponse

T = TypeVar("T")


def readable(
    items: Iterable[Any], parse: Callable[[Any], T], key: str
) -> tuple[list[T], list[tuple[str, str]]]:
    """Parse each item; an unreadable one is kept as (its `key` field, why).

    `parse` raises MalformedResponse for an item it cannot read.
    """
    parsed: list[T] = []
    rejected: list[tuple[str, str]] = []
    for raw in items:
        try:
            parsed.append(parse(raw))
        except MalformedResponse as error:
            value = raw.get(key) if isinstance(raw, dict) else None
            rejected.append(((fields.lenient_text(value) or "?")[:64], error.message))
    return parsed, rejected
