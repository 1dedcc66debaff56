"""Taking the platform's messages in: stored first, confirmed after, so none is ever lost."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from aftercare.settings import get_settings
from aftercare.store import platform_messages as inbox
from models.db import session_scope
from tasks import limits
from tasks.policy import pipeline_task

PLATFORM = "taobao"


@pipeline_task("take-platform-messages")
def take_messages(as_of: datetime) -> dict[str, int]:
    """Store the channel's messages, then confirm them: a crash between re-delivers, never loses."""
    settings = get_settings()
    counts: Counter[str] = Counter(received=0, new=0, repeated=0, unreadable=0)
    if settings.events.transport == "stream":
        # Polled only as the fallback: while the stream consumer pulls, it has them already.
        with session_scope(settings.database_url) as session:
            seen = inbox.stream_last_seen(session=session, platform=PLATFORM)
        quiet = timedelta(minutes=settings.events.stream_quiet_minutes)
        if seen is not None and as_of - seen < quiet:
            return {"stream_alive": 1}
        counts.update(polled_as_fallback=1)
    client = limits.taobao(settings)
    for _ in range(settings.events.max_batches_per_run):
        batch = client.consume_messages(settings.events.batch_size, settings.events.group)
        if not batch.messages and not batch.rejected:
            break
        with session_scope(settings.database_url) as session:
            new = inbox.store_batch(session=session, platform=PLATFORM, batch=batch, now=as_of)
        client.confirm_messages(inbox.confirmable(batch), settings.events.group)
        counts.update(
            received=len(batch.messages), new=new, repeated=len(batch.messages) - new,
            unreadable=len(batch.rejected),
        )  # fmt: skip
    return dict(counts)
