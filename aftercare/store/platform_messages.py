"""The platform's messages: stored once by their own id, claimed and applied in batches."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, or_, update
from sqlmodel import Session, col, select

from aftercare.clients.taobao_tmc import ChannelMessage, MessageBatch
from aftercare.rules.platform_events import Trigger
from aftercare.store.rejected import record_rejects
from aftercare.store.trades import advance_cursor
from models import PlatformMessage, Shop, SyncCursor
from models.db import claim_rows, insert_ignore

# The cursor each active shop's stream consumer moves while it is connected and pulling.
STREAM_HEARTBEAT = "message-stream"


def save_messages(
    *, session: Session, platform: str, messages: tuple[ChannelMessage, ...], now: datetime
) -> int:
    """Store each message once under its platform id; return how many were new."""
    if not messages:
        return 0
    found = session.exec(
        select(Shop.seller_nick, Shop.code, Shop.id).where(Shop.platform == platform)
    ).all()
    by_nick = {nick: shop_id for nick, _, shop_id in found}
    by_code = {code: shop_id for _, code, shop_id in found}
    rows = [
        {
            "platform": platform,
            "message_id": m.id,
            "topic": m.topic,
            "shop_id": by_code.get(m.shop_code)
            if m.shop_code
            else by_nick.get(m.seller_nick or ""),
            "tid": m.tid,
            "refund_id": m.refund_id,
            "published_at": m.published_at,
            "received_at": now,
            "content": m.content,
            "applied_at": None,
            "outcome": None,
            "claimed_by": None,
            "claimed_until": None,
        }
        for m in messages
    ]
    return len(insert_ignore(session, PlatformMessage, rows, keys=["platform", "message_id"]))


def store_batch(*, session: Session, platform: str, batch: MessageBatch, now: datetime) -> int:
    """Store a batch's messages and the reasons of the unreadable ones; return how many new."""
    new = save_messages(session=session, platform=platform, messages=batch.messages, now=now)
    record_rejects(
        session=session, source=f"{platform}.tmc", shop_id=None, rejects=list(batch.rejected),
        now=now,
    )  # fmt: skip
    return new


def confirmable(batch: MessageBatch) -> list[str]:
    """Ids to confirm once stored: the unreadable ones too, their reason is on record."""
    return [m.id for m in batch.messages] + [key for key, _ in batch.rejected if key.isdigit()]


def stream_alive(*, session: Session, platform: str, now: datetime) -> None:
    """Note that the stream consumer is connected and pulling, for every active shop."""
    shops = select(Shop.id).where(col(Shop.active), Shop.platform == platform)
    for shop_id in session.exec(shops).all():
        advance_cursor(
            session=session, shop_id=shop_id or 0, stream=STREAM_HEARTBEAT, synced_until=now,
            now=now,
        )  # fmt: skip


def stream_last_seen(*, session: Session, platform: str) -> datetime | None:
    """When the stream consumer last said it was pulling (the oldest of the active shops)."""
    seen = session.exec(
        select(SyncCursor.synced_until)
        .join(Shop, col(Shop.id) == SyncCursor.shop_id)
        .where(col(Shop.active), Shop.platform == platform, SyncCursor.stream == STREAM_HEARTBEAT)
    ).all()
    return min(seen) if seen else None


def _waiting(now: datetime) -> ColumnElement[bool]:
    return col(PlatformMessage.applied_at).is_(None) & or_(
        col(PlatformMessage.claimed_until).is_(None), col(PlatformMessage.claimed_until) <= now
    )


def claim_waiting(
    *, session: Session, owner: str, now: datetime, lease: timedelta, limit: int
) -> list[Trigger]:
    """Take a batch of messages not applied yet (others skip them until the lease ends)."""
    rows = claim_rows(
        session,
        PlatformMessage,
        candidates=select(PlatformMessage.id)
        .where(_waiting(now))
        .order_by(col(PlatformMessage.id))
        .limit(limit),
        due=_waiting(now),
        values={"claimed_by": owner, "claimed_until": now + lease},
    )
    return [Trigger(m.id or 0, m.topic, m.shop_id, m.tid, m.refund_id) for m in rows]


def mark_applied(*, session: Session, outcomes: dict[int, str], owner: str, now: datetime) -> None:
    """Record what applying each message did; a message another run took meanwhile is left."""
    for message_id, outcome in outcomes.items():
        session.execute(
            update(PlatformMessage)
            .where(col(PlatformMessage.id) == message_id, col(PlatformMessage.claimed_by) == owner)
            .values(applied_at=now, outcome=outcome[:500], claimed_by=None, claimed_until=None)
        )


def release(
    *, session: Session, ids: list[int], owner: str, reason: str, retry_at: datetime
) -> None:
    """Give messages back to be applied later, with why they were not applied now."""
    session.execute(
        update(PlatformMessage)
        .where(col(PlatformMessage.id).in_(ids), col(PlatformMessage.claimed_by) == owner)
        .values(outcome=f"not applied yet: {reason}"[:500], claimed_until=retry_at)
    )
