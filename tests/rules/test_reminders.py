"""Unpaid-order reminder stages and stop conditions, table-driven with a pinned clock."""

from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from aftercare.rules.reminders import (
    ReminderFacts,
    Stage,
    StagePlan,
    closes_at,
    next_stage,
    skip_reason,
    stage_plans,
)
from aftercare.settings import ReminderOverrides, ReminderSettings

SH = ZoneInfo("Asia/Shanghai")
CREATED = datetime(2026, 11, 20, 10, 0, tzinfo=SH)
S = ReminderSettings()
M = timedelta(minutes=1)
H = timedelta(hours=1)


def test_normal_order_has_an_automatic_then_a_pre_close_stage():
    assert stage_plans(CREATED, "fixed", S) == [
        StagePlan(Stage.AUTOMATIC, CREATED + 30 * M, CREATED + 70 * H),
        StagePlan(Stage.PRE_CLOSE, CREATED + 70 * H, CREATED + 72 * H),
    ]
    assert closes_at(CREATED, "fixed", S) == CREATED + 72 * H


def test_group_buy_order_gets_a_single_reminder_within_25_minutes():
    assert stage_plans(CREATED, "tuangou", S) == [
        StagePlan(Stage.GROUP_BUY, CREATED + 5 * M, CREATED + 25 * M)
    ]
    assert closes_at(CREATED, "tuangou", S) == CREATED + 30 * M


def test_stage_timings_are_settings_within_their_allowed_ranges():
    custom = ReminderSettings(automatic_after_minutes=10, pre_close_minutes=30)
    assert [p.due_at for p in stage_plans(CREATED, "fixed", custom)] == [
        CREATED + 10 * M,
        CREATED + 72 * H - 30 * M,
    ]
    with pytest.raises(ValueError):
        ReminderSettings(automatic_after_minutes=5)
    with pytest.raises(ValueError):
        ReminderSettings(pre_close_minutes=1441)


def test_automatic_stage_is_dropped_when_it_would_fall_after_the_pre_close_one():
    late = ReminderSettings(automatic_after_minutes=2880, pre_close_minutes=1440)
    assert [p.stage for p in stage_plans(CREATED, "fixed", late)] == [Stage.PRE_CLOSE]


@pytest.mark.parametrize(
    ("trade_type", "after", "now", "expected"),
    [
        ("fixed", None, CREATED, Stage.AUTOMATIC),
        ("fixed", Stage.AUTOMATIC, CREATED + H, Stage.PRE_CLOSE),
        ("fixed", None, CREATED + 71 * H, Stage.PRE_CLOSE),  # first seen late: only pre-close
        ("fixed", Stage.PRE_CLOSE, CREATED + 71 * H, None),
        ("fixed", None, CREATED + 73 * H, None),  # closed by the platform
        ("tuangou", None, CREATED + 10 * M, Stage.GROUP_BUY),
        ("tuangou", None, CREATED + 26 * M, None),
        ("tuangou", Stage.GROUP_BUY, CREATED + 6 * M, None),
    ],
)
def test_next_stage(trade_type, after, now, expected):
    plan = next_stage(CREATED, trade_type, S, after=after, now=now)
    assert (plan.stage if plan else None) == expected


OK = ReminderFacts(
    status="WAIT_BUYER_PAY",
    payment=Decimal("129.00"),
    phone="13812345678",
    phone_masked=False,
    buyer_paid_recently=False,
    blacklisted=False,
    opted_out=False,
)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({}, None),
        ({"status": "WAIT_SELLER_SEND_GOODS"}, "no longer unpaid"),
        ({"status": "TRADE_CLOSED_BY_TAOBAO"}, "no longer unpaid"),
        ({"payment": Decimal("0.50")}, "outside"),
        ({"payment": Decimal("60000")}, "outside"),
        ({"buyer_paid_recently": True}, "paid another order"),
        ({"opted_out": True}, "opted out"),
        ({"blacklisted": True}, "blacklist"),
        ({"phone": "135********", "phone_masked": True}, "masked"),
        ({"phone": None}, "no phone"),
        ({"phone": "1381234567"}, "invalid mobile"),
        ({"phone": "12812345678"}, "invalid mobile"),
    ],
)
def test_stop_and_skip_conditions(change, reason):
    found = skip_reason(replace(OK, **change), S)
    assert (found is None) if reason is None else (reason in found)


def test_shop_overrides_apply_to_that_shop_only():
    settings = ReminderSettings(
        shops={"xiaoya": ReminderOverrides(quiet_hours_policy="skip", enabled=False)}
    )
    assert settings.for_shop("xiaoya").quiet_hours_policy == "skip"
    assert "turned off" in skip_reason(OK, settings.for_shop("xiaoya"))
    assert settings.for_shop("sishi").quiet_hours_policy == "defer"
    assert skip_reason(OK, settings.for_shop("sishi")) is None
