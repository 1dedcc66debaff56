"""What is old enough to purge, on a pinned clock."""

from datetime import UTC, datetime, timedelta

import pytest

from aftercare.rules.retention import OrderActivity, order_expired, retention_cutoff

NOW = datetime(2027, 12, 1, 2, 0, tzinfo=UTC)
YEAR = 365


def order(modified_days_ago: float, *, ended_days_ago: float | None = None, open_cases: int = 0):
    ended = NOW - timedelta(days=ended_days_ago) if ended_days_ago is not None else None
    return OrderActivity(1, NOW - timedelta(days=modified_days_ago), ended, open_cases)


def test_the_cutoff_is_the_configured_age_before_now():
    assert retention_cutoff(NOW, YEAR) == datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("activity", "expired"),
    [
        (order(366), True),
        (order(365.01), True),
        (order(365), False),  # exactly at the cutoff: kept one more day
        (order(364), False),
        (order(400, ended_days_ago=10), False),  # ended recently: the latest change counts
        (order(400, ended_days_ago=380), True),
        (order(800, open_cases=1), False),  # an agent still works on it
    ],
)
def test_an_order_expires_when_untouched_for_the_age_and_no_case_is_open(activity, expired):
    assert order_expired(activity, now=NOW, days=YEAR) is expired
