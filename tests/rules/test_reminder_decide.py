"""One due reminder decided from typed facts: the slot or the reason, and the next stage."""

from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from aftercare.rules.reminders import (
    DueReminder,
    ReminderFacts,
    Stage,
    decide,
    first_reminder,
    hours_left,
)
from aftercare.rules.send_window import SendWindow
from aftercare.settings import ReminderSettings

CHINA = ZoneInfo("Asia/Shanghai")
WINDOW = SendWindow(time(9), time(22), CHINA)
RULES = ReminderSettings()
CREATED = datetime(2026, 11, 23, 10, 0, tzinfo=CHINA)


def order(stage=Stage.AUTOMATIC, status="WAIT_BUYER_PAY", phone="13800138000", **facts):
    base = dict(
        status=status,
        payment=Decimal("99"),
        phone=phone,
        phone_masked=False,
        buyer_paid_recently=False,
        blacklisted=False,
        opted_out=False,
    )
    base.update(facts)
    return DueReminder(CREATED, "fixed", stage, ReminderFacts(**base))


def test_a_due_reminder_gets_a_slot_now_and_the_order_moves_to_its_pre_close_stage():
    now = CREATED + timedelta(minutes=30)
    decision = decide(order(), RULES, WINDOW, now)
    assert decision.stage is Stage.AUTOMATIC and decision.reason is None
    assert decision.slot is not None and decision.slot.start == now
    assert decision.next_plan is not None and decision.next_plan.stage is Stage.PRE_CLOSE
    assert decision.closes_at == CREATED + timedelta(hours=72)


def test_a_paid_order_is_told_why_and_has_no_next_stage():
    decision = decide(order(status="WAIT_SELLER_SEND_GOODS"), RULES, WINDOW, CREATED)
    assert decision.slot is None and "no longer unpaid" in (decision.reason or "")
    assert decision.next_plan is None


def test_at_night_the_reminder_waits_for_the_morning_within_the_grace():
    night = datetime(2026, 11, 23, 22, 30, tzinfo=CHINA)
    decision = decide(order(), RULES, WINDOW, night)
    assert decision.slot is not None
    assert decision.slot.start == datetime(2026, 11, 24, 9, 0, tzinfo=CHINA)
    assert decision.slot.end == datetime(2026, 11, 24, 10, 0, tzinfo=CHINA)


def test_a_stage_the_settings_no_longer_have_moves_on_without_a_message():
    group_buy = DueReminder(CREATED, "tuangou", Stage.AUTOMATIC, order().facts)
    decision = decide(group_buy, RULES, WINDOW, CREATED)
    assert decision.stage is None and decision.next_plan is None


@pytest.mark.parametrize(
    ("facts", "reason"),
    [
        ({"phone_masked": True}, "IM"),
        ({"opted_out": True}, "opted out"),
        ({"buyer_paid_recently": True}, "paid another order"),
    ],
)
def test_a_buyer_who_must_not_be_reminded_is_told_why(facts, reason):
    decision = decide(order(**facts), RULES, WINDOW, CREATED + timedelta(minutes=30))
    assert decision.slot is None and reason in (decision.reason or "")
    assert decision.next_plan is not None  # still unpaid: the pre-close stage is still judged


def test_first_reminder_only_for_unpaid_orders_and_hours_left_never_below_one():
    assert (
        first_reminder("WAIT_BUYER_PAY", CREATED, "fixed", RULES, CREATED).stage is Stage.AUTOMATIC
    )
    assert first_reminder("TRADE_FINISHED", CREATED, "fixed", RULES, CREATED) is None
    closes = CREATED + timedelta(hours=72)
    assert hours_left(closes, closes - timedelta(hours=2, minutes=10)) == 2
    assert hours_left(closes, closes - timedelta(minutes=5)) == 1
