"""What a platform message asks to re-read, and why some are applied without a re-read."""

from aftercare.rules.platform_events import (
    AUTH_CANCELLED_OUTCOME,
    Reread,
    Trigger,
    outcome_without_reread,
    plan_rereads,
    reread_of,
)


def test_messages_about_one_trade_make_one_reread():
    triggers = [
        Trigger(1, "taobao_trade_TradeCreate", 5, "100"),
        Trigger(2, "taobao_trade_TradeBuyerPay", 5, "100"),
        Trigger(3, "taobao_trade_TradeCreate", 5, "100"),  # delivered again
        Trigger(4, "taobao_trade_TradeRated", 5, "100"),
        Trigger(5, "taobao_trade_TradeCreate", 6, "100"),  # another shop's trade 100
        Trigger(6, "taobao_refund_RefundCreated", 5, "100", "900"),
        Trigger(7, "taobao_trade_TradeCreate", None, "200"),
        Trigger(8, "taobao_refund_RefundSuccess", 5, "100", "900"),  # the same refund, later
        Trigger(9, "taobao_refund_RefundClosed", 5, "100", None),  # names no refund
    ]
    assert plan_rereads(triggers) == {
        (5, Reread.TRADE, "100"): [1, 2, 3],
        (5, Reread.RATING, "100"): [4],
        (6, Reread.TRADE, "100"): [5],
        (5, Reread.REFUND, "900"): [6, 8],
    }


def test_a_message_applied_without_reread_says_why():
    assert reread_of("taobao_refund_RefundSuccess") is Reread.REFUND
    assert outcome_without_reread(Trigger(1, "taobao_refund_RefundSuccess", 5, "100")) == (
        "the message names no refund"
    )
    assert outcome_without_reread(Trigger(2, "taobao_top_AuthCancel", 5, None)) == (
        AUTH_CANCELLED_OUTCOME
    )
    assert outcome_without_reread(Trigger(3, "taobao_trade_TradeCreate", None, "1")) == (
        "the message names no shop we serve"
    )
    assert outcome_without_reread(Trigger(4, "taobao_trade_TradeCreate", 5, None)) == (
        "the message names no trade"
    )


def test_work_due_at_a_minute_is_asked_for_once_per_minute_within_the_horizon():
    from datetime import UTC, datetime, timedelta

    from aftercare.rules.platform_events import due_minutes

    now = datetime(2026, 11, 20, 2, 0, 30, tzinfo=UTC)
    due = [
        now - timedelta(minutes=1),  # already due: the scheduled runs have it
        now + timedelta(minutes=4, seconds=10),  # rounds up to 02:05
        now + timedelta(minutes=4, seconds=20),  # the same minute
        datetime(2026, 11, 20, 2, 10, tzinfo=UTC),  # on the minute
        now + timedelta(hours=7),  # past the horizon
    ]
    assert due_minutes(due, now, timedelta(hours=6)) == [
        datetime(2026, 11, 20, 2, 5, tzinfo=UTC),
        datetime(2026, 11, 20, 2, 10, tzinfo=UTC),
    ]


def test_an_urgent_parcel_alert_names_the_case_and_the_parcel_in_chinese():
    from aftercare.rules.parcel_alerts import URGENT_KINDS, parcel_alert_line

    assert set(URGENT_KINDS) == {"refused", "returning", "problem"}
    line = parcel_alert_line(17, "refused", "中通快递", "ZT123")
    assert line == "- 案例 #17 拒签｜中通快递 ZT123"
