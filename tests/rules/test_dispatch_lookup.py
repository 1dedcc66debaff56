"""The days a message in doubt is looked up on, and when the provider can no longer tell."""

from __future__ import annotations

from datetime import UTC, date, datetime

from aftercare.rules.dispatch import lookup_days, still_listed


def test_a_message_is_looked_up_on_the_day_it_left_and_the_next_in_china_time():
    # 23:50 in Shanghai on the 20th is 15:50 UTC: the provider files it under the 20th.
    left = datetime(2026, 11, 20, 15, 50, tzinfo=UTC)
    assert lookup_days(left) == [date(2026, 11, 20), date(2026, 11, 21)]


def test_a_replay_is_looked_up_on_its_business_day_and_on_the_day_it_really_left():
    business = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
    world = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    assert lookup_days(world, business) == [
        date(2026, 11, 20),
        date(2026, 11, 21),
        date(2026, 11, 23),
        date(2026, 11, 24),
    ]
    assert lookup_days(None, None) == []


def test_sends_older_than_the_providers_records_cannot_be_confirmed():
    now = datetime(2026, 12, 20, 2, 0, tzinfo=UTC)
    recent = [date(2026, 11, 21), date(2026, 11, 22)]
    assert still_listed(recent, now, 30) == recent
    assert still_listed([date(2026, 11, 20), *recent], now, 30) == recent
    assert still_listed([date(2026, 11, 19), date(2026, 11, 20)], now, 30) == []
