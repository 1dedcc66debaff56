"""The long-running consumers of the platforms' message streams, started by `make serve`.

Each round pulls a batch, stores it in the inbox, commits, and only then confirms it: a kill
in between gets the batch delivered again, and the inbox keeps each message once. Stored
messages start a `platform-events` run through a Prefect event and its automation. Taobao's
channel (TMC) and Pinduoduo's service (PMC) each have a consumer of their own.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from aftercare.clients.errors import ProviderError
from aftercare.clients.pinduoduo_pmc import PmcStream
from aftercare.clients.platform import PINDUODUO, TAOBAO
from aftercare.clients.taobao_tmc import MessageBatch
from aftercare.clients.taobao_tmc_stream import MessageStream
from aftercare.clock import world_now
from aftercare.settings import Settings
from aftercare.store import platform_messages as inbox
from models.db import session_scope

log = logging.getLogger(__name__)
# The event the consumer emits after storing messages; an automation runs platform-events.
MESSAGES_STORED = "aftercare.platform.messages-stored"
HEARTBEAT_SECONDS = 30.0
MAX_BACKOFF_SECONDS = 60.0


class Stream(Protocol):
    """A platform's message stream as the consumer uses it."""

    @property
    def is_open(self) -> bool: ...

    def open(self, timeout: float = 10.0) -> None: ...
    def pull(self, wait: float, limit: int) -> MessageBatch: ...
    def confirm(self, ids: list[str]) -> None: ...
    def close(self) -> None: ...


def emit_stored(new: int, platform: str = TAOBAO) -> None:
    """Tell Prefect that new platform messages wait in the inbox."""
    from prefect.events import emit_event

    emit_event(
        event=MESSAGES_STORED,
        resource={"prefect.resource.id": f"aftercare.platform.{platform}"},
        payload={"new": new},
    )


def stream_of(settings: Settings, platform: str) -> Stream:
    """The signed stream of a platform's messages, as the settings describe it."""
    if platform == PINDUODUO:
        return PmcStream(
            settings.events.pinduoduo_stream_url,
            client_id=settings.pinduoduo_client_id,
            client_secret=settings.pinduoduo_client_secret.get_secret_value(),
            malls={mall: code for code, mall in settings.pinduoduo_malls.items()},
        )
    return MessageStream(
        settings.events.stream_url,
        app_key=settings.taobao_app_key,
        app_secret=settings.taobao_app_secret.get_secret_value(),
        group=settings.events.group,
    )


class MessageConsumer:
    """Pull, store, commit, confirm; reconnect with a growing pause when the channel fails."""

    def __init__(
        self,
        settings: Settings,
        *,
        platform: str = TAOBAO,
        emit: Callable[[int], None] | None = None,
        now: Callable[[], datetime] = world_now,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.platform = platform
        self.stream = stream_of(settings, platform)
        self._emit = emit or (lambda new: emit_stored(new, platform))
        self._now, self._monotonic = now, monotonic
        self._waiting = 0  # stored since the last event
        self._emitted_at = self._heartbeat_at = float("-inf")
        self.counts: Counter[str] = Counter()

    def take(self) -> MessageBatch:
        """Pull one batch and store it (committed); the caller confirms it afterwards."""
        if not self.stream.is_open:
            self.stream.open()
            self.counts.update(connected=1)
        events = self.settings.events
        batch = self.stream.pull(events.stream_wait_seconds, events.batch_size)
        now = self._now()
        with session_scope(self.settings.database_url) as session:
            new = inbox.store_batch(session=session, platform=self.platform, batch=batch, now=now)
            if self._monotonic() - self._heartbeat_at >= HEARTBEAT_SECONDS:
                inbox.stream_alive(session=session, platform=self.platform, now=now)
                self._heartbeat_at = self._monotonic()
        self._waiting += new
        self.counts.update(
            received=len(batch.messages), new=new, repeated=len(batch.messages) - new,
            unreadable=len(batch.rejected),
        )  # fmt: skip
        return batch

    def step(self) -> None:
        """One round: take a batch, confirm it, and say so to Prefect when it is time."""
        batch = self.take()
        done = inbox.confirmable(batch)
        if self.stream.is_open:
            self.stream.confirm(done)
            self.counts.update(confirmed=len(done))
        else:  # cut off mid-batch: stored, and delivered again after the timeout
            self.counts.update(left_unconfirmed=len(done))
        due = self._monotonic() - self._emitted_at >= self.settings.events.trigger_seconds
        if self._waiting and due:
            self._emit(self._waiting)
            self.counts.update(runs_asked=1)
            self._waiting, self._emitted_at = 0, self._monotonic()

    def run(self, stop: threading.Event) -> None:
        """Consume until `stop` is set; a failure is logged (masked) and tried again later."""
        pause = 1.0
        while not stop.is_set():
            try:
                self.step()
                pause = 1.0
            except (ProviderError, OSError) as error:
                self.stream.close()
                reason = error.reason if isinstance(error, ProviderError) else type(error).__name__
                log.warning("message stream: %s; again in %.0f s", reason, pause)
                self.counts.update(failures=1)
                stop.wait(pause)  # a pause between reconnects, not a wait for business time
                pause = min(pause * 2, MAX_BACKOFF_SECONDS)
        self.stream.close()


def start_consumer(settings: Settings, platform: str = TAOBAO) -> tuple[threading.Event, Any]:
    """Run a platform's consumer in a daemon thread; set the returned event to stop it."""
    stop = threading.Event()
    consumer = MessageConsumer(settings, platform=platform)
    thread = threading.Thread(
        target=consumer.run, args=(stop,), name=f"aftercare-{platform}-stream", daemon=True
    )
    thread.start()
    return stop, consumer
