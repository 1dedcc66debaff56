"""Refund rules with a pinned clock: kinds, the deadline margins (month ends too), the timer."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from aftercare.rules.refunds import (
    classify,
    decided_by_timer,
    margin_reached,
    time_left_words,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
MARGINS = [timedelta(hours=12), timedelta(hours=2)]


@pytest.mark.parametrize(
    ("reason", "shipped", "kind"),
    [
        ("不想要了", False, "unshipped_change_mind"),
        ("拍错/多拍", False, "unshipped_change_mind"),
        ("缺货", False, "out_of_stock"),
        ("少件/漏发", True, "short_shipped"),
        ("发错货", True, "wrong_item"),
        ("质量问题", True, "quality"),
        ("商品破损", True, "quality"),
        ("七天无理由退换货", True, "seven_days"),
        ("七天无理由退换货", False, "unshipped_change_mind"),  # nothing to send back yet
        ("未收到货", True, "lost_parcel"),
        ("其他", True, "other"),
        ("", False, "unshipped_change_mind"),
    ],
)
def test_each_reason_reads_as_the_flow_charts_kind(reason, shipped, kind):
    assert classify(reason, shipped).code == kind
    assert classify(reason, shipped).next_step


def test_margins_across_a_month_end_and_past_the_deadline():
    # The seller must answer by 01:00 on 1 December (Shanghai).
    deadline = datetime(2026, 12, 1, 1, 0, tzinfo=SHANGHAI)
    assert (
        margin_reached(deadline, datetime(2026, 11, 30, 12, 59, tzinfo=SHANGHAI), MARGINS) is None
    )
    at_12h = margin_reached(deadline, datetime(2026, 11, 30, 13, 0, tzinfo=SHANGHAI), MARGINS)
    assert at_12h == timedelta(hours=12)
    at_2h = margin_reached(deadline, datetime(2026, 11, 30, 23, 30, tzinfo=SHANGHAI), MARGINS)
    assert at_2h == timedelta(hours=2)
    late = datetime(2026, 12, 1, 1, 1, tzinfo=SHANGHAI)
    assert margin_reached(deadline, late, MARGINS) == timedelta(hours=2)
    assert time_left_words(deadline, late) == "已超时"
    assert (
        time_left_words(deadline, datetime(2026, 11, 30, 23, 30, tzinfo=SHANGHAI))
        == "剩 1 小时 30 分"
    )
    assert margin_reached(None, late, MARGINS) is None


def test_the_timer_decides_only_when_the_seller_s_time_ran_out():
    deadline = datetime(2026, 12, 31, 23, 0, tzinfo=SHANGHAI)
    after = deadline + timedelta(seconds=1)
    assert decided_by_timer("WAIT_SELLER_AGREE", deadline, "SUCCESS", after)
    assert decided_by_timer("WAIT_SELLER_AGREE", deadline, "WAIT_BUYER_RETURN_GOODS", deadline)
    assert decided_by_timer("WAIT_SELLER_CONFIRM_GOODS", deadline, "SUCCESS", after)
    assert not decided_by_timer("WAIT_SELLER_AGREE", deadline, "SUCCESS", deadline - timedelta(1))
    assert not decided_by_timer("WAIT_SELLER_AGREE", deadline, "CLOSED", after)  # withdrawn
    assert not decided_by_timer("WAIT_BUYER_RETURN_GOODS", None, "SUCCESS", after)
    assert not decided_by_timer(None, None, "SUCCESS", after)


def test_what_the_rules_propose_and_when_it_may_happen_by_itself():
    from decimal import Decimal

    from aftercare.rules.refunds import AGREE, AGREE_RETURN, CONFIRM_RECEIPT, propose

    auto = {"out_of_stock": 200.0, "quality": 100.0}
    stock = propose("out_of_stock", "WAIT_SELLER_AGREE", False, Decimal("199.00"), auto)
    assert (stock.action, stock.automatic) == (AGREE, True)
    dear = propose("out_of_stock", "WAIT_SELLER_AGREE", False, Decimal("200.01"), auto)
    assert (dear.action, dear.automatic) == (AGREE, False) and "上限" in dear.why
    quality = propose("quality", "WAIT_SELLER_AGREE", True, Decimal("50"), auto)
    assert (quality.action, quality.automatic) == (AGREE_RETURN, True)
    mind = propose("unshipped_change_mind", "WAIT_SELLER_AGREE", False, Decimal("9"), auto)
    assert (mind.action, mind.automatic) == (AGREE, False), "not listed: a person decides"
    back = propose("out_of_stock", "WAIT_SELLER_AGREE", True, Decimal("9"), auto)
    assert back.action == AGREE_RETURN, "the buyer asked to send the goods back"
    receipt = propose("quality", "WAIT_SELLER_CONFIRM_GOODS", True, Decimal("9"), auto)
    assert (receipt.action, receipt.automatic) == (CONFIRM_RECEIPT, False)
    assert propose("other", "WAIT_SELLER_AGREE", False, Decimal("9"), auto).action is None
    assert propose("quality", "SUCCESS", True, Decimal("9"), auto).action is None


def test_not_received_against_a_parcel_signed_for_is_proposed_for_refusal_never_by_itself():
    from decimal import Decimal

    from aftercare.rules.refunds import AGREE, REFUSE, propose

    auto = {"lost_parcel": 5000.0}  # even where lost parcels are refunded by themselves
    signed = datetime(2026, 11, 30, 16, 5, tzinfo=SHANGHAI)  # 16:05 Beijing, the 30th
    plan = propose("lost_parcel", "WAIT_SELLER_AGREE", False, Decimal("59"), auto, signed)
    assert (plan.action, plan.automatic) == (REFUSE, False)
    assert "11月30日 16:05" in plan.why and "签收" in plan.why
    # The same instant in UTC (08:05, the 30th) is told in Beijing time, not UTC.
    utc = signed.astimezone(ZoneInfo("UTC"))
    assert (
        propose("lost_parcel", "WAIT_SELLER_AGREE", False, Decimal("59"), auto, utc).why == plan.why
    )
    unseen = propose("lost_parcel", "WAIT_SELLER_AGREE", False, Decimal("59"), auto, None)
    assert (unseen.action, unseen.automatic) == (AGREE, True), "no signing seen: refund"
    other = propose("quality", "WAIT_SELLER_AGREE", True, Decimal("59"), auto, signed)
    assert other.action != REFUSE, "only 'not received' is answered by the signing"


def test_goods_not_wanted_still_on_their_way_are_proposed_for_intercept_by_a_person():
    from decimal import Decimal

    from aftercare.rules.refunds import AGREE_RETURN, INTERCEPT, propose

    auto = {"seven_days": 5000.0}
    moving = propose("seven_days", "WAIT_SELLER_AGREE", True, Decimal("9"), auto, None, True)
    assert (moving.action, moving.automatic) == (INTERCEPT, False)
    arrived = propose("seven_days", "WAIT_SELLER_AGREE", True, Decimal("9"), auto, None, False)
    assert (arrived.action, arrived.automatic) == (AGREE_RETURN, True)
    quality = propose("quality", "WAIT_SELLER_AGREE", True, Decimal("9"), auto, None, True)
    assert quality.action != INTERCEPT, "a quality claim needs the goods looked at"
