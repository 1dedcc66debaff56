"""The lead's figures per shop and day, and the charts drawn from them."""

from __future__ import annotations

import warnings
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from aftercare.charts import cjk_font, label, trend_png
from aftercare.rules.report import (
    TEAM,
    CaseFact,
    MessageFact,
    PaymentFact,
    daily_trend,
    report_days,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAYS = report_days(date(2026, 11, 20), 3)  # 11-18, 11-19, 11-20


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A Beijing wall-clock time on a November day, in UTC."""
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


def test_days_are_counted_in_beijing_time_per_shop_and_for_the_team():
    cases = [
        # Opened 23:30 on the 19th Beijing (15:30 UTC): the 19th, not the 20th.
        CaseFact("sishi", "stalled", at(19, 23, 30), None, None, at(20, 9)),
        # Opened on the 20th, the buyer told 30 hours later: late.
        CaseFact("sishi", "refused", at(20, 1), at(20, 18), None, at(21, 7)),
        # A review closed on the 20th before its deadline, another after it.
        CaseFact("mumu", "review", at(18, 10), at(20, 11), at(25, 0), None),
        CaseFact("mumu", "review", at(18, 12), at(20, 12), at(20, 0), None),
        # Outside the window: ignored.
        CaseFact("mumu", "stalled", at(10, 10), None, None, None),
    ]
    messages = [
        MessageFact("sishi", "unpaid_automatic", "sent", at(20, 10)),
        MessageFact("sishi", "logistics_refused", "suppressed", at(20, 0, 5)),
        MessageFact("mumu", "care_shipped", "sent", at(19, 0, 1)),
    ]
    payments = [PaymentFact("sishi", at(20, 11), Decimal("59.90"))]

    trend = daily_trend(DAYS, SHANGHAI, cases, messages, payments)

    assert [p.day for p in trend[TEAM]] == DAYS
    sishi_19, sishi_20 = trend["sishi"][1], trend["sishi"][2]
    assert (sishi_19.anomalies_opened, sishi_19.anomalies_noticed_in_time) == (1, 1)
    assert (sishi_20.anomalies_opened, sishi_20.anomalies_noticed_in_time) == (1, 0)
    assert sishi_20.anomalies_closed == 1 and sishi_20.notice_rate == 0.0
    assert (sishi_20.reminders_sent, sishi_20.paid_after_reminder) == (1, 1)
    assert sishi_20.recovered == Decimal("59.90") and sishi_20.conversion == 1.0
    assert (sishi_20.messages_sent, sishi_20.messages_held) == (1, 1)
    mumu_20 = trend["mumu"][2]
    assert (mumu_20.reviews_closed, mumu_20.reviews_closed_in_time) == (2, 1)
    assert mumu_20.review_rate == 0.5 and trend["mumu"][0].reviews_opened == 2
    team_20 = trend[TEAM][2]
    assert team_20.anomalies_opened == 1 and team_20.reviews_closed == 2
    assert team_20.messages_sent == 1 and trend[TEAM][1].messages_sent == 1
    assert trend[TEAM][0].notice_rate is None, "no anomalies: no rate, not 0%"


def test_a_window_with_nothing_still_has_the_team_days():
    trend = daily_trend(DAYS, SHANGHAI, [], [], [])
    assert list(trend) == [TEAM] and [p.day for p in trend[TEAM]] == DAYS


def test_charts_are_pngs_with_chinese_labels_drawn_or_english_ones():
    days = report_days(date(2026, 11, 20), 14)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = trend_png(
            label("全部店铺：案例", "all shops: cases"),
            days,
            {label("物流异常新开", "anomalies opened"): [n % 5 for n in range(14)]},
        )
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) < 200_000
    missing = [w for w in caught if "missing from font" in str(w.message)]
    assert not missing, "a label was drawn as empty boxes"
    if cjk_font() is None:
        assert label("案例", "cases") == "cases"
    else:
        assert label("案例", "cases") == "案例"
    assert timedelta(days=13) == days[-1] - days[0]
