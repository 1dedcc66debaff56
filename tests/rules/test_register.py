"""The register's periods are Beijing's months and weeks; summaries count per item."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from aftercare.rules.register import Entry, answerable, month_of, summary, week_of

BEIJING_MIDNIGHT_DEC_1 = datetime(2026, 11, 30, 16, 0, tzinfo=UTC)


def test_a_month_is_beijing_s_even_where_utc_is_still_in_the_last_one():
    start, end = month_of(datetime(2026, 11, 30, 16, 30, tzinfo=UTC))  # 00:30 on Dec 1 in Beijing
    assert (start, end) == (BEIJING_MIDNIGHT_DEC_1, datetime(2026, 12, 31, 16, 0, tzinfo=UTC))
    start, end = month_of(datetime(2026, 11, 30, 15, 59, tzinfo=UTC))  # 23:59 on Nov 30
    assert end == BEIJING_MIDNIGHT_DEC_1 and start == datetime(2026, 10, 31, 16, 0, tzinfo=UTC)
    start, _ = month_of(datetime(2026, 12, 31, 20, 0, tzinfo=UTC))  # New Year's morning
    assert start == datetime(2026, 12, 31, 16, 0, tzinfo=UTC)


def test_a_week_runs_monday_to_sunday_in_beijing():
    sunday_night = datetime(2026, 12, 6, 15, 30, tzinfo=UTC)  # Sun 23:30 Beijing
    monday_early = datetime(2026, 12, 6, 16, 10, tzinfo=UTC)  # Mon 00:10 Beijing
    assert week_of(sunday_night)[1] == week_of(monday_early)[0]
    assert week_of(monday_early)[0] == datetime(2026, 12, 6, 16, 0, tzinfo=UTC)


def test_the_summary_counts_per_item_and_answerable_within_the_period_only():
    start, end = week_of(monday := datetime(2026, 12, 7, 2, 0, tzinfo=UTC))
    entries = [
        Entry("quality", "苹果 10斤", Decimal("59"), "采购（供应商）", monday),
        Entry("quality", "苹果 10斤", Decimal("59"), "采购（供应商）", monday),
        Entry("quality", "橙子 5斤", Decimal("30"), "采购（供应商）", monday),
        Entry("quality", "苹果 10斤", Decimal("59"), "采购（供应商）", start.replace(day=1)),
        Entry("lost_parcel", "苹果 10斤", Decimal("59"), "圆通速递", monday),
    ]
    rows = summary(entries, "quality", start, end)
    assert rows[0] == {
        "商品": "苹果 10斤",
        "责任方": "采购（供应商）",
        "件数": 2,
        "金额": "118",
        "照片": 0,
    }
    assert [r["商品"] for r in rows] == ["苹果 10斤", "橙子 5斤"]


def test_who_answers_for_a_problem():
    assert answerable("lost_parcel", "中通快递") == "中通快递"
    assert answerable("lost_parcel", None) is None
    assert answerable("wrong_item", "中通快递") == "仓库（打包）"
    assert answerable("seven_days", None) is None
