"""Applying the platform's messages: each re-reads what it names and saves it."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from aftercare.clients.errors import AuthenticationError, ProviderError, RequestRejected
from aftercare.clients.platform import TAOBAO
from aftercare.clients.taobao import TradeNotFound
from aftercare.refund_sync import pull_refunds
from aftercare.rules.platform_events import Reread, outcome_without_reread, plan_rereads
from aftercare.rules.reminders import first_reminder
from aftercare.rules.sync import trade_problem, usable_ratings
from aftercare.settings import Settings, get_settings
from aftercare.shop_context import ShopNotAuthorised, shop_context
from aftercare.store import platform_messages as inbox
from aftercare.store.refunds import save_refunds
from aftercare.store.rejected import record_rejects
from aftercare.store.reviews import save_ratings
from aftercare.store.shops import ShopInfo, active_shops
from aftercare.store.trades import save_trades
from models.db import session_scope
from tasks import limits
from tasks.policy import pipeline_task


@dataclass(frozen=True, slots=True)
class Applied:
    """What applying a batch did, and when first reminders of the orders it brought fall due."""

    counts: dict[str, int]
    reminders_due: list[datetime]


@dataclass(frozen=True, slots=True)
class _Reread:
    figure: str
    recorded: str
    reminder_due: datetime | None = None


@pipeline_task("apply-platform-messages")
def apply_messages(as_of: datetime) -> Applied:
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
    due: set[datetime] = set()
    for (shop_id, what, tid), ids in plan.items():
        if shop_id not in shops:
            outcomes.update(dict.fromkeys(ids, "the shop is not active"))
            continue
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
        outcomes.update(dict.fromkeys(ids, outcome.recorded))
        counts[outcome.figure] += 1
        due.update([outcome.reminder_due] if outcome.reminder_due else [])
    with session_scope(settings.database_url) as session:
        inbox.mark_applied(session=session, outcomes=outcomes, owner=owner, now=as_of)
    return Applied(dict(counts), sorted(due))


def _reread(
    settings: Settings, shop: ShopInfo, what: Reread, subject: str, now: datetime
) -> _Reread:
    """Re-read one trade, or its ratings, and save it as any sync would (never backwards)."""
    client = limits.taobao(settings)
    context = shop_context(settings, shop.code, shop.timezone, shop.platform)
    tolerance = timedelta(minutes=settings.sync.future_tolerance_minutes)
    key = context.session_key()
    tid = subject  # a trade's id, or a refund's (Trigger.subject)
    if what is Reread.REFUND and shop.platform != TAOBAO:
        # No refund read by id with its version here: the shop's refund sync catches up.
        synced = pull_refunds(settings, shop, now, limits.platform(settings, shop.platform))
        return _Reread("refunds re-read", f"re-read the shop's refunds: {synced.get('new', 0)}"
                       f" new, {synced.get('changed', 0)} changed")  # fmt: skip
    if what is Reread.REFUND:
        try:
            refund = client.refund(key, subject)
        except RequestRejected as error:
            return _Reread(
                "refund unknown", f"the platform does not give the refund: {error.reason}"
            )
        with session_scope(settings.database_url) as session:
            saved = save_refunds(session=session, shop_id=shop.id, refunds=(refund,), now=now)
        return _Reread("refunds re-read", f"re-read: the refund is {refund.status}{_kept(saved)}")
    if what is Reread.RATING:
        since = now - timedelta(days=settings.reviews.initial_sync_days)
        page = client.ratings_page(key, since, now, page_no=1, page_size=20, tid=tid)
        ratings, rejected = usable_ratings(page, now, tolerance)
        with session_scope(settings.database_url) as session:
            save_ratings(session=session, shop_id=shop.id, ratings=ratings, now=now)
            record_rejects(
                session=session, source="taobao.rating", shop_id=shop.id, rejects=rejected, now=now
            )
        return _Reread("ratings re-read", f"re-read {len(ratings)} ratings")
    try:
        trade = limits.platform(settings, shop.platform).trade(key, tid)
    except TradeNotFound:
        return _Reread("trade unknown", "the platform no longer knows the trade")
    problem = trade_problem(trade, now, tolerance)
    if problem:
        with session_scope(settings.database_url) as session:
            record_rejects(
                session=session, source=f"{shop.platform}.trade", shop_id=shop.id,
                rejects=[(tid, problem)],
                now=now,
            )  # fmt: skip
        return _Reread("trade refused", f"trade refused: {problem}")
    first = {
        tid: first_reminder(trade.status, trade.created, trade.trade_type, context.reminders, now)
    }
    with session_scope(settings.database_url) as session:
        report = save_trades(
            session=session, shop_id=shop.id, trades=(trade,), now=now, first_reminders=first
        )
        record_rejects(
            session=session, source=f"{shop.platform}.waybill", shop_id=shop.id,
            rejects=report.unusable_waybills, now=now,
        )  # fmt: skip
    plan = first[tid]
    return _Reread(
        "trades re-read", f"re-read: the trade is {trade.status}", plan.due_at if plan else None
    )


def _kept(saved: Counter[str]) -> str:
    return " (an older answer: the stored one stays)" if saved["older"] else ""
