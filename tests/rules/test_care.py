"""Care touch-points, Chinese holidays as the calendar library computes them, consent."""

from datetime import UTC, date, datetime, timedelta

import pytest

from aftercare.rules.care import (
    Reachability,
    auto_confirmed,
    care_blocker,
    care_tip,
    holiday_on,
    holidays,
    is_birthday,
    within_weekly_cap,
)


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        (
            2026,
            {
                date(2026, 1, 1): "元旦",
                date(2026, 2, 17): "春节",
                date(2026, 3, 3): "元宵节",
                date(2026, 6, 19): "端午节",
                date(2026, 9, 25): "中秋节",
                date(2026, 10, 1): "国庆节",
            },
        ),
        (
            2027,
            {
                date(2027, 1, 1): "元旦",
                date(2027, 2, 6): "春节",
                date(2027, 2, 20): "元宵节",
                date(2027, 6, 9): "端午节",
                date(2027, 9, 15): "中秋节",
                date(2027, 10, 1): "国庆节",
            },
        ),
    ],
)
def test_lunar_and_solar_holidays_of_2026_and_2027(year, expected):
    assert holidays(year) == expected


def test_holiday_on_a_given_day():
    assert holiday_on(date(2026, 2, 17)) == "春节"
    assert holiday_on(date(2026, 2, 18)) is None


@pytest.mark.parametrize(
    ("birthday", "today", "expected"),
    [
        (date(1990, 11, 21), date(2026, 11, 21), True),
        (date(1990, 11, 21), date(2026, 11, 22), False),
        (date(1992, 2, 29), date(2027, 2, 28), True),  # not a leap year
        (date(1992, 2, 29), date(2028, 2, 29), True),
        (date(1992, 2, 29), date(2028, 2, 28), False),
        (None, date(2026, 11, 21), False),
    ],
)
def test_birthdays(birthday, today, expected):
    assert is_birthday(birthday, today) is expected


SHIPPED = datetime(2026, 11, 1, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("ended", "auto"),
    [
        (SHIPPED + timedelta(days=3), False),
        (SHIPPED + timedelta(days=9, hours=22), False),
        (SHIPPED + timedelta(days=10), True),
        (SHIPPED + timedelta(days=10, minutes=5), True),
    ],
)
def test_auto_confirmation_is_told_from_the_buyer_confirming(ended, auto):
    assert auto_confirmed(SHIPPED, ended, 10) is auto


OK = Reachability("13812345678", False, True, consent=True, opted_out=False)


@pytest.mark.parametrize(
    ("marketing", "change", "reason"),
    [
        (False, {}, None),
        (True, {}, None),
        (False, {"consent": False}, None),  # order notices need no consent
        (True, {"consent": False}, "no marketing consent"),
        (True, {"opted_out": True}, "opted out"),
        (False, {"opted_out": True}, None),  # opting out of marketing keeps order notices
        (False, {"phone": "135********", "phone_masked": True}, "masked"),
        (True, {"phone": "1381234"}, "invalid mobile"),
        (False, {"sms_enabled": False}, "turned off"),
    ],
)
def test_consent_and_reachability(marketing, change, reason):
    from dataclasses import replace

    found = care_blocker(marketing, replace(OK, **change))
    assert (found is None) if reason is None else (reason in found)


def test_weekly_cap():
    assert within_weekly_cap(1, 2) and not within_weekly_cap(2, 2)


def test_care_tips_by_category():
    assert "手洗" in care_tip("50008881")
    assert "羽绒服" in care_tip("50010531")
    assert care_tip(None) == care_tip("999") != ""
