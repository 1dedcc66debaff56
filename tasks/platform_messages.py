"""The platform's message channel: take messages in, then apply them by re-reading."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime, timedelta

from aftercare.clients.errors import AuthenticationError, ProviderError
from aftercare.clients.taobao import TradeNotFound
from aftercare.rules.platform_events import Reread, outcome_without_reread, plan_rereads
from aftercare.rules.reminders import first_reminder
from aftercare.rules.sync import trade_problem, usable_ratings
from aftercare.settings import Settings, get_settings
from aftercare.shop_context import ShopNotAuthorised, shop_context
from aftercare.store import platform_messages as inbox
from aftercare.store.rejected import record_rejects
from aftercare.store.reviews import save_ratings
from aftercare.store.shops import ShopInfo, active_shops
from aftercare.store.trades import save_trades
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


@pipeline_task("apply-platform-messages")
def apply_messages(as_of: datetime) -> dict[str, int]:
    """Re-read what a batch of messages names and save it; each message records the outcome."""
    settings = get_settings()
    owner = f"apply-{uuid.uuid4().hex[:12]}"
    lease = timedelta(minutes=settings.events.lease_minutes)
    with session_scope(settings.database_url) as session:
        triggers = inbox.claim_waiting(
            session=session, owner=owner, now=as_of, lease=lease,
            limit=settings.events.apply_batch_size,
        )  # fmt: skip
        shops = {s.id: s for s in active_shops(session=session)}
    plan = plan_rereads(triggers)
    planned = {i for ids in plan.values() for i in ids}
    outcomes = {t.id: outcome_without_reread(t) for t in triggers if t.id not in planned}
    counts: Counter[str] = Counter(messages_claimed=len(triggers), without_reread=len(outcomes))
    for (shop_id, what, tid), ids in plan.items():
        try:
            outcome = _reread(settings, shops[shop_id], what, tid, as_of)
        except (ProviderError, ShopNotAuthorised) as error:
            if isinstance(error, AuthenticationError):
                raise
            reason = error.reason if isinstance(error, ProviderError) else str(error)
            with session_scope(settings.database_url) as session:
                inbox.release(session=session, ids=ids, owner=owner, reason=reason, retry_at=as_of)
            counts["reread_failed"] += 1
            continue
        figure, recorded = outcome
        outcomes.update(dict.fromkeys(ids, recorded))
        counts[figure] += 1
    with session_scope(settings.database_url) as session:
        inbox.mark_applied(session=session, outcomes=outcomes, owner=owner, now=as_of)
    return dict(counts)


def _reread(
    settings: Settings, shop: ShopInfo, what: Reread, tid: str, now: datetime
) -> tuple[str, str]:
    """Re-read one trade, or its ratings, and save it as any sync would (never backwards).

    Returns the figure it counts under and the outcome recorded on its messages.
    """
    client = limits.taobao(settings)
    context = shop_context(settings, shop.code, shop.timezone)
    tolerance = timedelta(minutes=settings.sync.future_tolerance_minutes)
    key = context.session_key()
    if what is Reread.RATING:
        since = now - timedelta(days=settings.reviews.initial_sync_days)
        page = client.ratings_page(key, since, now, page_no=1, page_size=20, tid=tid)
        ratings, rejected = usable_ratings(page, now, tolerance)
        with session_scope(settings.database_url) as session:
            save_ratings(session=session, shop_id=shop.id, ratings=ratings, now=now)
            record_rejects(
                session=session, source="taobao.rating", shop_id=shop.id, rejects=rejected, now=now
            )
        return "ratings re-read", f"re-read {len(ratings)} ratings"
    try:
        trade = client.trade(key, tid)
    except TradeNotFound:
        return "trade unknown", "the platform no longer knows the trade"
    problem = trade_problem(trade, now, tolerance)
    if problem:
        with session_scope(settings.database_url) as session:
            record_rejects(
                session=session, source="taobao.trade", shop_id=shop.id, rejects=[(tid, problem)],
                now=now,
            )  # fmt: skip
        return "trade refused", f"trade refused: {problem}"
    first = {
        tid: first_reminder(trade.status, trade.created, trade.trade_type, context.reminders, now)
    }
    with session_scope(settings.database_url) as session:
        report = save_trades(
            session=session, shop_id=shop.id, trades=(trade,), now=now, first_reminders=first
        )
        record_rejects(
            session=session, source="taobao.waybill", shop_id=shop.id,
            rejects=report.unusable_waybills, now=now,
        )  # fmt: skip
    return "trades re-read", f"re-read: the trade is {trade.status}"
