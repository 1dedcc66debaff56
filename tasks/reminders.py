"""Unpaid-order reminder tasks: claim due orders, decide, queue or record why not."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from aftercare.clock import local_day_start
from aftercare.rules import message_keys
from aftercare.rules.reminders import (
    ReminderFacts,
    Stage,
    StagePlan,
    next_stage,
    skip_reason,
    stage_plans,
)
from aftercare.rules.send_window import SendWindow, Slot, send_slot
from aftercare.settings import Settings, get_settings
from aftercare.store import reminders as store
from aftercare.store.outbox import Recipient, enqueue, message_row
from aftercare.templates import for_shop
from models.db import session_scope
from tasks.policy import pipeline_task


@pipeline_task("claim-due-orders")
def claim_orders(as_of: datetime, owner: str, limit: int) -> list[int]:
    """Claim the unpaid orders whose next reminder is due."""
    settings = get_settings()
    lease = timedelta(minutes=settings.reminders.claim_lease_minutes)
    with session_scope(settings.database_url) as session:
        return store.claim_due_orders(
            session=session, now=as_of, owner=owner, lease=lease, limit=limit
        )


@pipeline_task("decide-reminders", run_name="decide-reminders-{label}")
def decide_reminders(ids: list[int], as_of: datetime, label: str) -> dict[str, int]:
    """Queue the due reminder of each order, or record it as suppressed with the reason."""
    settings = get_settings()
    team_zone = ZoneInfo(settings.timezone)
    counts: Counter[str] = Counter()
    with session_scope(settings.database_url) as session:
        orders = store.load_orders(
            session=session, ids=ids, paid_since=_paid_since(as_of, team_zone, settings)
        )
        rows: list[dict[str, object]] = []
        plans: list[tuple[int, StagePlan | None]] = []
        for order in orders:
            rules = settings.reminders.for_shop(order.shop_code)
            stage = next(
                (
                    p
                    for p in stage_plans(order.created_at, order.trade_type, rules)
                    if p.stage is order.stage
                ),
                None,
            )
            if stage is None:  # the stage no longer exists (settings changed): move on
                plans.append((order.id, None))
                continue
            key = message_keys.unpaid_reminder(order.shop_code, order.tid, stage.stage)
            reason = skip_reason(_facts(order), rules)
            slot: Slot | None = None
            if reason is None:
                window = SendWindow(
                    settings.quiet_hours.start,
                    settings.quiet_hours.end,
                    ZoneInfo(order.shop_timezone or settings.timezone),
                )
                decided = send_slot(
                    as_of,
                    window,
                    expires_at=stage.expires_at,
                    policy=rules.quiet_hours_policy,
                    grace=timedelta(minutes=rules.deferred_grace_minutes),
                )
                reason, slot = (decided, None) if isinstance(decided, str) else (None, decided)
            if slot is not None and not store.take_contact_slots(
                session=session,
                subjects=[
                    store.buyer_subject(order.buyer_id),
                    store.subject("phone", order.phone or ""),
                ],
                day=slot.start.astimezone(team_zone).date(),
                key=key,
                now=as_of,
            ):
                reason, slot = (
                    "the buyer was already reminded that day (one per buyer and phone)",
                    None,
                )
            rows.append(_message(order, stage.stage, key, reason, slot, as_of, settings))
            counts["queued" if slot else "suppressed"] += 1
            still_unpaid = order.status == "WAIT_BUYER_PAY"
            plans.append(
                (
                    order.id,
                    next_stage(
                        order.created_at, order.trade_type, rules, after=stage.stage, now=as_of
                    )
                    if still_unpaid
                    else None,
                )
            )
        counts["new_rows"] = enqueue(session=session, rows=rows)
        store.set_next_stages(session=session, plans=plans)
    return dict(counts)


def _paid_since(now: datetime, zone: ZoneInfo, settings: Settings) -> datetime:
    # "Today or yesterday" in the team's time zone: from the start of yesterday.
    return local_day_start(now, zone, days=-settings.reminders.skip_if_paid_within_days)


def _facts(order: store.OrderToRemind) -> ReminderFacts:
    return ReminderFacts(
        status=order.status,
        payment=order.payment,
        phone=order.phone,
        phone_masked=order.phone_masked,
        buyer_paid_recently=order.buyer_paid_recently,
        blacklisted=order.blacklisted,
        opted_out=order.opted_out,
    )


def _message(
    order: store.OrderToRemind,
    stage: Stage,
    key: str,
    reason: str | None,
    slot: Slot | None,
    now: datetime,
    settings: Settings,
) -> dict[str, object]:
    rules = settings.reminders.for_shop(order.shop_code)
    closes = stage_plans(order.created_at, order.trade_type, rules)[-1].expires_at
    hours_left = max(1, round((closes - (slot.start if slot else now)).total_seconds() / 3600))
    row = message_row(
        key=key,
        template=for_shop(f"unpaid_{stage}", order.shop_code),
        params={"shop": order.shop_name, "item": order.item_title[:20], "hours": hours_left},
        recipient=Recipient(order.shop_id, order.customer_id, order.id, order.phone),
        now=now,
        suppressed_because=reason,
    )
    if slot is not None:
        # The dispatcher re-checks the order with the shop API just before sending.
        row.update(next_attempt_at=slot.start, expires_at=slot.end, precheck="order_unpaid")
    return row


@pipeline_task("record-conversions")
def record_conversions(as_of: datetime, day_start: datetime) -> dict[str, object]:
    """Record orders paid after a reminder, and report this run's and today's figures."""
    settings = get_settings()
    window = timedelta(hours=settings.reminders.attribution_hours)
    with session_scope(settings.database_url) as session:
        new = store.record_conversions(session=session, now=as_of, window=window)
        report = store.daily_report(session=session, run_at=as_of, day_start=day_start)
    return {"new_conversions": new, **report}
