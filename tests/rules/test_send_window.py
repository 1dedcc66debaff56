"""Quiet hours, in the shop's time zone, with a pinned clock."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from aftercare.rules.send_window import SendWindow, Slot, send_slot

SH = ZoneInfo("Asia/Shanghai")
WINDOW = SendWindow(time(9), time(22), SH)
GRACE = timedelta(minutes=60)


def at(day, hour, minute=0, zone=SH):
    return datetime(2026, 11, day, hour, minute, tzinfo=zone)


@pytest.mark.parametrize(
    ("now", "expires", "policy", "expected"),
    [
        # inside the window: at once, until the reminder expires
        (at(20, 10), None, "defer", Slot(at(20, 10), None)),
        (at(20, 10), at(20, 12), "defer", Slot(at(20, 10), at(20, 12))),
        (at(20, 21, 59), None, "skip", Slot(at(20, 21, 59), None)),
        # at night: deferred to the morning, and only within 60 min after the window opens
        (at(20, 23, 30), None, "defer", Slot(at(21, 9), at(21, 10))),
        (at(20, 22, 0), at(22, 0), "defer", Slot(at(21, 9), at(21, 10))),
        (at(21, 7, 0), None, "defer", Slot(at(21, 9), at(21, 10))),
        (at(21, 7, 0), at(21, 9, 30), "defer", Slot(at(21, 9), at(21, 9, 30))),
        # ... or skipped, by shop setting
        (at(20, 23, 30), None, "skip", "outside the send window"),
        # a reminder whose order closes before morning is dropped with that reason
        (at(20, 23, 30), at(21, 8), "defer", "closes before the send window opens"),
        (at(20, 12), at(20, 11), "defer", "time has passed"),
    ],
)
def test_send_slot(now, expires, policy, expected):
    slot = send_slot(now, WINDOW, expires_at=expires, policy=policy, grace=GRACE)
    if isinstance(expected, str):
        assert isinstance(slot, str) and expected in slot
    else:
        assert slot == expected


def test_window_is_local_to_the_shop_whatever_zone_the_clock_is_in():
    utc_now = datetime(2026, 11, 20, 14, 30, tzinfo=ZoneInfo("UTC"))  # 22:30 in Shanghai
    assert not WINDOW.contains(utc_now)
    assert WINDOW.next_open(utc_now) == at(21, 9)
    berlin = SendWindow(time(9), time(22), ZoneInfo("Europe/Berlin"))
    assert berlin.contains(utc_now)  # 15:30 in Berlin


def test_window_across_a_month_end():
    assert WINDOW.next_open(datetime(2026, 11, 30, 23, 0, tzinfo=SH)) == datetime(
        2026, 12, 1, 9, 0, tzinfo=SH
    )


def test_local_day_start_is_the_shops_midnight_across_utc_midnight():
    from datetime import UTC, date, datetime

    from aftercare.clock import CHINA, local_day_start

    # 23:30 UTC on the 19th is 07:30 on the 20th in Beijing: the shop's day is the 20th.
    moment = datetime(2026, 11, 19, 23, 30, tzinfo=UTC)
    assert local_day_start(moment) == datetime(2026, 11, 20, tzinfo=CHINA)
    assert local_day_start(moment, "Asia/Shanghai", days=-1) == datetime(2026, 11, 19, tzinfo=CHINA)
    assert local_day_start(date(2026, 11, 20), CHINA, days=1).date() == date(2026, 11, 21)
    assert local_day_start(moment, "UTC") == datetime(2026, 11, 19, tzinfo=UTC)
