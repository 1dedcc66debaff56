"""Orchestration helpers shared by the flows."""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from itertools import islice
from typing import Any, TypeVar

from prefect.futures import PrefectFuture

from aftercare.clock import as_utc, utcnow
from aftercare.privacy import install_log_redaction
from aftercare.settings import get_settings

T = TypeVar("T")


def start_run(as_of: datetime | None) -> datetime:
    """Fix the run's clock and make sure nothing personal or secret reaches the logs."""
    install_log_redaction(get_settings().secret_values())
    return as_utc(as_of) if as_of else utcnow()


def chunked(items: Sequence[T], size: int) -> Iterator[list[T]]:
    """Split items into lists of at most size."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def run_bounded(
    submit: Callable[[T, int], PrefectFuture[Any]], items: Iterable[T], limit: int
) -> tuple[list[Any], list[BaseException]]:
    """Submit one task per item with at most `limit` in flight; return results and failures.

    A failed chunk does not stop the others: its error is collected and the caller decides.
    """
    inflight: deque[PrefectFuture[Any]] = deque()
    results: list[Any] = []
    failures: list[BaseException] = []

    def settle(future: PrefectFuture[Any]) -> None:
        try:
            results.append(future.result())
        except Exception as error:  # a task failure, already logged by Prefect
            failures.append(error)

    for number, item in enumerate(items, start=1):
        if len(inflight) >= limit:
            settle(inflight.popleft())
        inflight.append(submit(item, number))
    while inflight:
        settle(inflight.popleft())
    return results, failures


def add_counts(dicts: Iterable[dict[str, int]]) -> Counter[str]:
    """Sum count dictionaries."""
    total: Counter[str] = Counter()
    for counts in dicts:
        total.update(counts)
    return total
