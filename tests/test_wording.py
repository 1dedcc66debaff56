"""The team's words: every figure key and recorded reason reads in Chinese, provider words kept."""

import re

import pytest

from aftercare.rules.anomalies import AnomalyKind
from aftercare.rules.care import TouchPoint
from aftercare.rules.notices import MASKED, NO_PHONE
from aftercare.store.outbox import UNCONFIRMABLE
from aftercare.store.retention import ORDER_TABLES, STALE_REASON
from aftercare.templates import load_templates
from aftercare.wording import (
    PIPELINE_NAMES,
    close_text,
    figure_name,
    purpose_name,
    reason_text,
)

CJK = re.compile(r"[\u3400-\u9fff]")
ASCII_WORD = re.compile(r"[A-Za-z]{3,}")


@pytest.mark.parametrize(
    "key",
    [
        "shops",
        "trades_synced",
        "shipments_due",
        "chunks_failed",
        "push:older_news",
        "push:pushes",
        "subscriptions:active",
        "subscriptions:refused",
        "messages:pending",
        "messages:suppressed",
        "notices:new",
        "claimed",
        "deferred_quiet_hours",
        "deferred_min_gap",
        "suppressed_by_live_check",
        "precheck_failed",
        "in_doubt_claimed",
        "lookup_failed",
        "unconfirmable",
        "requeued",
        "confirmed_sent",
        "matched",
        "too_soon_to_query",
        "would_recheck",
        "orders_expired",
        "orders_kept_for_open_cases",
        "trades (would re-read)",
        "ratings (would re-read)",
        "trades new",
        "ratings rejected",
        "requeued unpaid_automatic@mumu",
        "would requeue care_birthday",
        "left failed (may have been sent)",
        "dispatch sent",
        "suppressed:the buyer paid another order today or yesterday",
        "parcels due a check",
        *(f"anomaly:{kind}" for kind in AnomalyKind),
        *(f"case:{action}" for action in ("opened", "escalated", "reopened", "closed")),
        *(f"purged:{table}" for table in ORDER_TABLES),
        *(f"would purge:{table}" for table in ORDER_TABLES),
        *(f"{point}:queued" for point in TouchPoint),
        *(f"{point}:sent_today" for point in TouchPoint),
        "shipped:no marketing consent on record",
    ],
)
def test_every_figure_has_a_chinese_name(key):
    name = figure_name(key)
    assert CJK.search(name) and not ASCII_WORD.search(name), (key, name)


def test_an_unknown_figure_keeps_its_key():
    assert figure_name("something_new") == "something_new"


def test_every_template_purpose_has_a_chinese_name():
    for purpose in load_templates():
        assert CJK.search(purpose_name(purpose)) and purpose_name(purpose) != purpose, purpose


def test_every_pipeline_has_a_name():
    from deployments.setup import PIPELINE_NAMES as ALERTED

    assert ALERTED is PIPELINE_NAMES and all(CJK.search(n) for n in PIPELINE_NAMES.values())


@pytest.mark.parametrize(
    ("reason", "said"),
    [
        (MASKED, "手机号被平台加密（无解密权限）：转客服旺旺联系"),
        (NO_PHONE, "订单无手机号：转客服旺旺联系"),
        ("one notice per parcel at a time: stalled was chosen instead", "「物流停滞」"),
        ("daily marketing cap reached (2 a day)", "每天 2 条"),
        ("weekly marketing cap reached (3 a week)", "每周 3 条"),
        ("amount 0.67 outside 1-50000", "金额 0.67 元不在催付范围 1-50000 元内"),
        ("the order is no longer unpaid (TRADE_CLOSED)", "订单已不是待付款（交易关闭）"),
        # Recorded in UTC, read in Beijing time (14:00 UTC is 22:00 in Beijing).
        ("missed its send window (it expired at 2026-11-20 14:00 UTC)", "北京时间 11-20 22:00"),
        (
            "live check: the order is WAIT_SELLER_SEND_GOODS (paid or closed meanwhile)",
            "「买家已付款」",
        ),
        (STALE_REASON, "保存期内未发出，个人信息已清除"),
        (f"{UNCONFIRMABLE} (the provider lists sends of the last 30 days); not resent", "切勿重发"),
        ("its case was closed before it was sent (recovered)", "发送前案例已关闭（已改评"),
        (
            "its case was closed before it was sent (explanation no longer possible: "
            "Remote service error / 买家已追加评论，不能再解释)",
            "已无法解释：Remote service error / 买家已追加评论，不能再解释",
        ),
        # A provider's own words stay literal: its support desk asks for them.
        (
            "sms: 触发分钟级流控Permits:1 status=200 code=isv.BUSINESS_LIMIT_CONTROL",
            "短信服务商：触发分钟级流控Permits:1 status=200 code=isv.BUSINESS_LIMIT_CONTROL",
        ),
        ("the lookup of 2026-11-20 failed: sms: busy status=503", "查询 2026-11-20 的发送记录失败"),
        ("the buyer opted out before it was sent", "发送前买家已退订"),
    ],
)
def test_recorded_reasons_read_in_chinese(reason, said):
    assert said in reason_text(reason)


@pytest.mark.parametrize(
    ("reason", "said"),
    [
        ("recovered: the buyer revised the rating to good", "已改评（买家改为好评）"),
        ("explained", "已公开解释"),
        ("the explanation window closed without an explanation", "解释期已过，未解释"),
        ("delivered", "已签收"),
        ("the parcel was delivered", "已签收"),
        ("no longer observed", "异常已消失"),
        ("a waybill was entered", "已补填运单号"),
    ],
)
def test_close_reasons_read_in_chinese(reason, said):
    assert close_text(reason) == said


def test_words_we_do_not_know_are_shown_as_recorded():
    assert reason_text("the courier's own words") == "the courier's own words"


def test_the_daily_report_groups_close_reasons_by_their_head():
    assert close_text("explanation no longer possible") == "已无法解释"
