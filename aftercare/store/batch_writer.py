"""Writes of a sending batch, committed a few dozen at a time off the sending thread."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from models.db import session_scope

# Each write is called with the batch's session as the keyword `session`.
Write = Callable[..., object]


class BatchWriter:
    """Buffer outcome writes and commit them a few dozen at a time, in order, on one thread.

    A crash before a commit leaves those messages "sending": the reconciler then asks the
    provider about each one before anything is sent again, so batching never causes a resend.
    """

    def __init__(self, database_url: str, every: int = 25) -> None:
        self.database_url = database_url
        self.every = every
        self.ops: list[Write] = []
        # One writer per batch keeps its commits in order, and sending never stops to wait
        # for the database's write lock (on SQLite, every other batch's commit holds it).
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="send-outcomes")
        self._commits: list[Future[None]] = []

    def __enter__(self) -> BatchWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            self.flush()
        finally:
            self._writer.shutdown()

    def add(self, op: Write) -> None:
        """Queue one write; hand the queue to the writer when it is full."""
        self.ops.append(op)
        if len(self.ops) >= self.every:
            self._commit_queued()

    def flush(self) -> None:
        """Commit every queued write and wait for all commits; raise the first that failed."""
        if self.ops:
            self._commit_queued()
        commits, self._commits = self._commits, []
        for commit in commits:
            commit.result()

    def _commit_queued(self) -> None:
        # A failed commit stops the batch here: what it could not record stays "sending" and
        # is reconciled with the provider.
        for commit in [c for c in self._commits if c.done()]:
            self._commits.remove(commit)
            commit.result()
        ops, self.ops = self.ops, []
        self._commits.append(self._writer.submit(self._commit, ops))

    def _commit(self, ops: list[Write]) -> None:
        with session_scope(self.database_url) as session:
            for op in ops:
                op(session=session)
