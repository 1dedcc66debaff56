"""Unpaid-order reminders (催付): which stage is due, and whether a buyer may be reminded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from aftercare.rules.notices import MASKED, MOBILE, NO_PHONE, OAID_SMS, channel_for
from aftercare.rules.send_window import SendWindow, Slot, send_slot
from aftercare.settings import ReminderSettings

UNPAID = "WAIT_BUYER_PAY"


class Stage(StrEnum):
    """Reminder stages, in the order an order goes through them."""

    AUTOMATIC = "automatic"
    PRE_CLOSE = "pre_close"
    GROUP_BUY = "group_buy"


@dataclass(frozen=True, slots=True)
class StagePlan:
    """A stage, when it is due, and after when a reminder for it is pointless."""

    stage: Stage
    due_at: datetime
    expires_at: datetime


def closes_at(created_at: datetime, trade_type: str, settings: ReminderSettings) -> datetime:
    """Return when the platform closes the order if it is still unpaid."""
    if trade_type in settings.group_buy_types:
        return created_at + timedelta(minutes=settings.group_buy_close_minutes)
    return created_at + timedelta(hours=settings.close_after_hours)


def stage_plans(
    created_at: datetime, trade_type: str, settings: ReminderSettings
) -> list[StagePlan]:
    """Return the order's reminder stages in order."""
    close = closes_at(created_at, trade_type, settings)
    if trade_type in settings.group_buy_types:
        due = created_at + timedelta(minutes=settings.group_buy_remind_after_minutes)
        deadline = created_at + timedelta(minutes=settings.group_buy_deadline_minutes)
        return [StagePlan(Stage.GROUP_BUY, due, min(deadline, close))]
    automatic = created_at + timedelta(minutes=settings.automatic_after_minutes)
    pre_close = close - timedelta(minutes=settings.pre_close_minutes)
    plans = []
    if automatic < pre_close:  # a late "automatic" stage would only duplicate the pre-close one
        plans.append(StagePlan(Stage.AUTOMATIC, automatic, pre_close))
    plans.append(StagePlan(Stage.PRE_CLOSE, max(pre_close, created_at), close))
    return plans


def next_stage(
    created_at: datetime,
    trade_type: str,
    settings: ReminderSettings,
    *,
    after: Stage | None,
    now: datetime,
) -> StagePlan | None:
    """Return the first stage after `after` that has not expired by now."""
    plans = stage_plans(created_at, trade_type, settings)
    if after is not None:
        names = [p.stage for p in plans]
        plans = plans[names.index(after) + 1 :] if after in names else []
    return next((p for p in plans if p.expires_at > now), None)


@dataclass(frozen=True, slots=True)
class ReminderFacts:
    """What decides whether one buyer may be reminded of one order."""

    status: str
    payment: Decimal
    phone: str | None
    phone_masked: bool
    buyer_paid_recently: bool
    blacklisted: bool
    opted_out: bool
    # Given where the shop may text by OAID: a masked number no longer stops the reminder.
    oaid: str | None = None


def skip_reason(facts: ReminderFacts, settings: ReminderSettings) -> str | None:
    """Return why the buyer must not be reminded, or None when they may be."""
    if not settings.enabled:
        return "reminders are turned off for the shop"
    if facts.status != UNPAID:
        return f"the order is no longer unpaid ({facts.status})"
    if not settings.min_amount <= facts.payment <= settings.max_amount:
        return f"amount {facts.payment} outside {settings.min_amount}-{settings.max_amount}"
    if facts.buyer_paid_recently:
        return "the buyer paid another order today or yesterday"
    if facts.opted_out:
        return "the buyer opted out of messages"
    if facts.blacklisted:
        return "the buyer or phone is on the shop's blacklist"
    if channel_for(facts.phone, facts.phone_masked, facts.oaid) == OAID_SMS:
        return None
    if facts.phone_masked:
        return MASKED
    if not facts.phone:
        return NO_PHONE
    if not MOBILE.match(facts.phone):
        return "invalid mobile number"
    return None


def first_reminder(
    status: str, created_at: datetime, trade_type: str, settings: ReminderSettings, now: datetime
) -> StagePlan | None:
    """Return a newly seen order's first reminder stage (none once it is paid or closed)."""
    if status != UNPAID:
        return None
    return next_stage(created_at, trade_type, settings, after=None, now=now)


@dataclass(frozen=True, slots=True)
class DueReminder:
    """An order whose reminder stage is due, as the rules see it."""

    created_at: datetime
    trade_type: str
    stage: Stage
    facts: ReminderFacts


@dataclass(frozen=True, slots=True)
class ReminderDecision:
    """One due reminder: the slot it may use or why not, and the order's next stage."""

    stage: Stage | None  # None: the stage no longer exists (the settings changed)
    reason: str | None
    slot: Slot | None
    closes_at: datetime
    next_plan: StagePlan | None


def decide(
    order: DueReminder, settings: ReminderSettings, window: SendWindow, now: datetime
) -> ReminderDecision:
    """Decide an order's due reminder: send it in a slot, or say why not; then the next stage."""
    plans = stage_plans(order.created_at, order.trade_type, settings)
    closes = plans[-1].expires_at
    stage = next((p for p in plans if p.stage is order.stage), None)
    if stage is None:
        return ReminderDecision(None, None, None, closes, None)
    reason = skip_reason(order.facts, settings)
    slot: Slot | None = None
    if reason is None:
        decided = send_slot(
            now,
            window,
            expires_at=stage.expires_at,
            policy=settings.quiet_hours_policy,
            grace=timedelta(minutes=settings.deferred_grace_minutes),
        )
        reason, slot = (decided, None) if isinstance(decided, str) else (None, decided)
    following = None
    if order.facts.status == UNPAID:
        following = next_stage(
            order.created_at, order.trade_type, settings, after=stage.stage, now=now
        )
    return ReminderDecision(stage.stage, reason, slot, closes, following)


def hours_left(closes_at: datetime, at: datetime) -> int:
    """Whole hours (at least one) until the order closes, as the reminder tells the buyer."""
    return max(1, round((closes_at - at).total_seconds() / 3600))
