"""Everything a run left behind, as text to scan: Prefect logs, artifacts, states, and tables."""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    FlowRunFilter,
    FlowRunFilterId,
    FlowRunFilterStartTime,
    LogFilter,
    LogFilterFlowRunId,
)
from prefect.logging.handlers import APILogHandler

from models.db import get_engine

PAGE = 200
# Mainland mobile numbers written out in full, with or without +86 or separators; a masked one
# (138****5678) does not match. Letters before the digits make a waybill (YT13812345678).
UNMASKED_PHONE = re.compile(
    r"(?<![0-9A-Za-z])(?:(?:\+|00)?86[\s-]?)?1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}(?!\d)"
)


class Capture(logging.Handler):
    """Keep every log record of the process, formatted with its traceback (like caplog)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        # A handler with a formatter counts as the user's: Prefect's logging set-up keeps it.
        self.setFormatter(logging.Formatter("%(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.name}: {self.format(record)}")


@contextmanager
def captured_logs() -> Iterator[Capture]:
    """Capture the process's logs, ours down to DEBUG, while the block runs."""
    capture, root, ours = Capture(), logging.getLogger(), logging.getLogger("aftercare")
    level = ours.level
    root.addHandler(capture)
    ours.setLevel(logging.DEBUG)
    try:
        yield capture
    finally:
        root.removeHandler(capture)
        ours.setLevel(level)


def _paged(read: Callable[[int], list[Any]]) -> list[Any]:
    items: list[Any] = []
    while page := read(len(items)):
        items.extend(page)
        if len(page) < PAGE:
            break
    return items


def prefect_texts(since: datetime) -> dict[str, list[str]]:
    """Read back from the Prefect server what the flow runs started since then left there."""
    APILogHandler().flush()  # logs travel to the server in the background
    with get_client(sync_client=True) as client:
        runs = _paged(
            lambda offset: client.read_flow_runs(
                flow_run_filter=FlowRunFilter(start_time=FlowRunFilterStartTime(after_=since)),
                limit=PAGE,
                offset=offset,
            )
        )
        ids: list[UUID] = [run.id for run in runs]
        logs = _paged(
            lambda offset: client.read_logs(
                LogFilter(flow_run_id=LogFilterFlowRunId(any_=ids)), limit=PAGE, offset=offset
            )
        )
        artifacts = _paged(
            lambda offset: client.read_artifacts(
                artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=ids)),
                limit=PAGE,
                offset=offset,
            )
        )
        task_runs = _paged(
            lambda offset: client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=ids)),
                limit=PAGE,
                offset=offset,
            )
        )
    states = [f"{r.name} {r.state.message if r.state else ''}" for r in [*runs, *task_runs]]
    return {
        "flow runs": [f"{r.name} {r.parameters}" for r in runs],
        "Prefect logs": [log.message for log in logs],
        "artifacts": [f"{a.key} {a.description} {a.data}" for a in artifacts],
        "run states": states,
    }


def run_artifacts(since: datetime) -> list[Any]:
    """The artifacts the flow runs started since then left (tables, markdown, progress)."""
    with get_client(sync_client=True) as client:
        runs = _paged(
            lambda offset: client.read_flow_runs(
                flow_run_filter=FlowRunFilter(start_time=FlowRunFilterStartTime(after_=since)),
                limit=PAGE,
                offset=offset,
            )
        )
        ids = [run.id for run in runs]
        return _paged(
            lambda offset: client.read_artifacts(
                artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=ids)),
                limit=PAGE,
                offset=offset,
            )
        )


def table_texts(database_url: str) -> dict[str, list[str]]:
    """Read every column of every row of every table, one text per row."""
    engine = get_engine(database_url)
    metadata = sa.MetaData()
    metadata.reflect(engine)
    texts: dict[str, list[str]] = {}
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            rows = connection.execute(sa.select(table)).all()
            texts[f"table {table.name}"] = [" | ".join(map(str, row)) for row in rows]
    return texts


def findings(texts: dict[str, list[str]], needles: dict[str, str]) -> list[str]:
    """Return where each needle shows up, as 'needle name in source: excerpt'."""
    found = []
    for source, lines in texts.items():
        for line in lines:
            for name, needle in needles.items():
                if (at := line.find(needle)) >= 0:
                    found.append(f"{name} in {source}: ...{line[max(at - 60, 0) : at + 80]}...")
    return found


def unmasked_phones(texts: dict[str, list[str]]) -> list[str]:
    """Return every phone number written out in full, with where it was found."""
    found = []
    for source, lines in texts.items():
        for line in lines:
            line = unicodedata.normalize("NFKC", line)  # full-width digits are digits too
            for match in UNMASKED_PHONE.finditer(line):
                start = max(match.start() - 60, 0)
                found.append(f"{source}: ...{line[start : match.end() + 40]}...")
    return found
