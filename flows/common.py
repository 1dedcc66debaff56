"""Orchestration helpers shared by the flows."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from itertools import islice
from typing import Any, TypeVar, cast
from uuid import UUID

from prefect.artifacts import (
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)
from prefect.futures import PrefectFuture, as_completed
from prefect.runtime import flow_run

from aftercare.clock import CHINA, shop_time, utcnow
from aftercare.privacy import install_log_redaction
from aftercare.settings import get_settings
from aftercare.wording import PIPELINE_NAMES, figure_name

T = TypeVar("T")


def start_run(as_of: datetime | None) -> datetime:
    """Fix the run's clock (a naive as_of is shop time) and keep secrets out of the logs."""
    settings = get_settings()
    install_log_redaction(settings.secret_values())
    return shop_time(as_of, settings.timezone) if as_of else utcnow()


def given_time(moment: datetime) -> datetime:
    """Read a time parameter a person gave (naive: shop time), in UTC."""
    return shop_time(moment, get_settings().timezone)


def chunked(items: Sequence[T], size: int) -> Iterator[list[T]]:
    """Split items into lists of at most size."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


class Progress:
    """A progress artifact the UI shows beside a long run; quiet when there is little to do."""

    def __init__(self, description: str, total: int) -> None:
        self.total = total
        self.done = 0
        self.id = (
            cast(UUID, create_progress_artifact(progress=0.0, description=description))
            if total > 1
            else None
        )

    def advance(self, count: int = 1) -> None:
        """Count `count` more units done."""
        self.done = min(self.total, self.done + count)
        if self.id is not None:
            update_progress_artifact(self.id, progress=round(100 * self.done / self.total, 1))


def run_bounded(
    submit: Callable[[T, int], PrefectFuture[Any]],
    items: Sequence[T],
    limit: int,
    *,
    progress: str | None = None,
) -> tuple[list[Any], list[BaseException]]:
    """Submit one task per item with at most `limit` in flight; return results and failures.

    Results come in the order the tasks finish. A failed chunk does not stop the others: its
    error is collected and the caller decides.
    With `progress`, a progress artifact of that description shows how far the run got.
    """
    inflight: set[PrefectFuture[Any]] = set()
    results: list[Any] = []
    failures: list[BaseException] = []
    tracker = Progress(progress, len(items)) if progress else None

    def settle_one() -> None:
        # Whichever task ends first frees its slot: a slow chunk must not hold back the next.
        future = first_finished(inflight)
        inflight.remove(future)
        try:
            results.append(future.result())
        except Exception as error:  # a task failure, already logged by Prefect
            failures.append(error)
        if tracker is not None:
            tracker.advance()

    for number, item in enumerate(items, start=1):
        if len(inflight) >= limit:
            settle_one()
        inflight.add(submit(item, number))
    while inflight:
        settle_one()
    return results, failures


def run_name(pipeline: str) -> Callable[[], str]:
    """Name a flow run after its pipeline, shops and business time (as_of), for the UI."""

    def name() -> str:
        params = flow_run.parameters
        as_of = params.get("as_of")
        moment = shop_time(as_of) if isinstance(as_of, datetime) else utcnow()
        when = f"{moment.astimezone(CHINA):%m-%d %H:%M}"  # Beijing time, as the team reads it
        shops = params.get("shops") or params.get("shop")
        scope = ",".join(shops) if isinstance(shops, list) else (shops or "全部店铺")
        if "case_id" in params:
            scope = f"案例 {params['case_id']}"
        dry = "试运行 · " if params.get("dry_run") else ""
        return f"{pipeline} · {dry}{scope} · 北京时间 {when}"

    return name


def results_as_they_finish(
    futures: list[PrefectFuture[T]], description: str
) -> Iterator[PrefectFuture[T]]:
    """Yield the futures as each ends, showing how many have."""
    progress = Progress(description, len(futures))
    for future in as_completed(futures):
        progress.advance()
        yield future


def first_finished(futures: Iterable[PrefectFuture[T]]) -> PrefectFuture[T]:
    """Wait for whichever of the futures ends first and return it."""
    return next(as_completed(list(futures)))


def add_counts(dicts: Iterable[dict[str, int]]) -> Counter[str]:
    """Sum count dictionaries."""
    total: Counter[str] = Counter()
    for counts in dicts:
        total.update(counts)
    return total


class PartsFailed(RuntimeError):
    """Some parts of a run failed; the others were completed and recorded."""


def publish_report(
    pipeline: str,
    now: datetime,
    figures: Mapping[str, object],
    *,
    key: str | None = None,
    dry_run: bool = False,
    note: str = "",
    failures: Sequence[BaseException] = (),
    parts: int = 0,
) -> None:
    """Show a run's figures in the UI in the team's words; raise PartsFailed if parts failed.

    The figures keep their keys in the flow's return value; only what people read is named.
    """
    rows = [{"项目": figure_name(k), "数量": v} for k, v in figures.items()]
    when = f"北京时间 {now.astimezone(CHINA):%Y-%m-%d %H:%M}"
    dry = "；试运行，什么都没有改" if dry_run else ""
    create_table_artifact(
        key=key,
        table=rows or [{"项目": "没有要做的事", "数量": 0}],
        description=f"{PIPELINE_NAMES.get(pipeline, pipeline)}（{when}{dry}）{note}",
    )
    if failures:
        raise PartsFailed(f"{len(failures)} of {parts} parts failed: {failures[0]}")
