"""Taking the platform's messages in: stored first, confirmed after, so none is ever lost."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from aftercare.settings import get_settings
from aftercare.store import platform_messages as inbox
from aftercare.store.rejected import record_rejects
from models.db import session_scope
from tasks import limits
from tasks.policy import pipeline_task

PLATFORM = "taobao"


@pipeline_task("take-platform-messages")
def take_messages(as_of: datetime) -> dict[str, int]:
    """Store the channel's messages, then confirm them: a crash between re-delivers, never loses."""
    settings = get_settings()
    client = limits.taobao(settings)
    counts: Counter[str] = Counter(received=0, new=0, repeated=0, unreadable=0)
    for _ in range(settings.events.max_batches_per_run):
        batch = client.consume_messages(settings.events.batch_size, settings.events.group)
        if not batch.messages and not batch.rejected:
            break
        with session_scope(settings.database_url) as session:
            new = inbox.save_messages(
                session=session, platform=PLATFORM, messages=batch.messages, now=as_of
            )
            record_rejects(
                session=session, source="taobao.tmc", shop_id=None, rejects=list(batch.rejected),
                now=as_of,
            )  # fmt: skip
        # Confirmed only once stored: the unreadable ones too, their reason is on record.
        client.confirm_messages(
            [m.id for m in batch.messages] + [key for key, _ in batch.rejected if key.isdigit()],
            settings.events.group,
        )
        counts.update(
            received=len(batch.messages), new=new, repeated=len(batch.messages) - new,
            unreadable=len(batch.rejected),
        )  # fmt: skip
    return dict(counts)
