"""Unpaid-order reminder tasks: claim due orders, decide, queue or record why not."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from aftercare.clock import local_day_start
from aftercare.rules import message_keys
from aftercare.rules.reminders import ReminderDecision, StagePlan, decide, hours_left
from aftercare.rules.send_window import Slot
from aftercare.settings import get_settings
from aftercare.shop_context import shop_context
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
    paid_since = local_day_start(
        as_of, team_zone, days=-settings.reminders.skip_if_paid_within_days
    )
    counts: Counter[str] = Counter()
    with session_scope(settings.database_url) as session:
        rows: list[dict[str, object]] = []
        plans: list[tuple[int, StagePlan | None]] = []
        for order in store.load_orders(session=session, ids=ids, paid_since=paid_since):
            shop = shop_context(settings, order.shop_code, order.shop_timezone)
            decision = decide(order.due(shop.oaid_sms), shop.reminders, shop.service_window, as_of)
            plans.append((order.id, decision.next_plan))
            if decision.stage is None:  # the stage no longer exists (settings changed): move on
                continue
            key = message_keys.unpaid_reminder(order.shop_code, order.tid, decision.stage)
            reason, slot = decision.reason, decision.slot
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
            rows.append(_message(order, decision, key, reason, slot, as_of, shop.reach(order.oaid)))
            counts["queued" if slot else "suppressed"] += 1
        counts["new_rows"] = enqueue(session=session, rows=rows)
        store.set_next_stages(session=session, plans=plans)
    return dict(counts)


def _message(
    order: store.OrderToRemind,
    decision: ReminderDecision,
    key: str,
    reason: str | None,
    slot: Slot | None,
    now: datetime,
    oaid: str | None,
) -> dict[str, object]:
    hours = hours_left(decision.closes_at, slot.start if slot else now)
    row = message_row(
        key=key,
        template=for_shop(f"unpaid_{decision.stage}", order.shop_code),
        params={"shop": order.shop_name, "item": order.item_title[:20], "hours": hours},
        recipient=Recipient(order.shop_id, order.customer_id, order.id, order.phone, oaid=oaid),
        now=now,
        suppressed_because=reason,
    )
    if slot is not None:
        # The dispatcher re-checks the order with the shop API just before sending.
        row.update(next_attempt_at=slot.start, expires_at=slot.end, precheck="order_unpaid")
    return row


@pipeline_task("record-conversions")
def record_conversions(as_of: datetime, day_start: datetime) -> store.ReminderFigures:
    """Record orders paid after a reminder, and report this run's and today's figures."""
    settings = get_settings()
    window = timedelta(hours=settings.reminders.attribution_hours)
    with session_scope(settings.database_url) as session:
        new = store.record_conversions(session=session, now=as_of, window=window)
        report = store.daily_report(session=session, run_at=as_of, day_start=day_start)
    return replace(report, new_conversions=new)
