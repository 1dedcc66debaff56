"""Normalising Kuaidi100 states."""

from datetime import UTC, datetime, timedelta

import pytest

from aftercare.rules.tracking import (
    ShipmentStatus,
    is_expired,
    normalise_status,
    signed_by_proxy,
    state_note,
)

S = ShipmentStatus


@pytest.mark.parametrize(
    ("state", "code", "events", "expected"),
    [
        (None, None, 0, S.PENDING),
        (0, None, 0, S.PENDING),
        (1, "101", 1, S.INFO_RECEIVED),
        (1, "102", 1, S.INFO_RECEIVED),
        (1, "103", 1, S.IN_TRANSIT),
        (0, "1002", 3, S.IN_TRANSIT),
        (7, None, 4, S.IN_TRANSIT),
        (8, None, 4, S.IN_TRANSIT),
        (12, None, 4, S.IN_TRANSIT),
        (5, "5", 5, S.OUT_FOR_DELIVERY),
        (3, "301", 6, S.DELIVERED),
        (3, "303", 6, S.DELIVERED),
        (2, "2", 3, S.EXCEPTION),
        (13, None, 3, S.EXCEPTION),
        (4, "4", 7, S.RETURNED),
        (6, "6", 5, S.RETURNED),
        (14, "14", 5, S.REFUSED),
    ],
)
def test_every_kuaidi100_state_has_a_status(state, code, events, expected):
    assert normalise_status(state, code, events) is expected


@pytest.mark.parametrize(
    ("state", "expected", "noted"),
    [
        (103, S.IN_TRANSIT, "read as state 1"),
        (101, S.INFO_RECEIVED, "read as state 1"),
        (1001, S.IN_TRANSIT, "read as state 0"),
        (301, S.DELIVERED, "read as state 3"),
        (303, S.DELIVERED, "read as state 3"),
        (501, S.OUT_FOR_DELIVERY, "read as state 5"),
        (1401, S.REFUSED, "read as state 14"),
        (205, S.EXCEPTION, "read as state 2"),
        (99, S.IN_TRANSIT, "unknown Kuaidi100 state 99"),
        (9, S.IN_TRANSIT, "unknown Kuaidi100 state 9"),
        (123456, S.IN_TRANSIT, "unknown Kuaidi100 state 123456"),
    ],
)
def test_undocumented_states_are_read_as_the_nearest_status_and_noted(state, expected, noted):
    assert normalise_status(state, None, 2) is expected
    assert noted in state_note(state)
    assert state_note(3) == "" and state_note(None) == ""


NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("status", "shipped_days_ago", "last_event_days_ago", "expired"),
    [
        (S.PENDING, 30, None, True),
        (S.PENDING, 29, None, False),
        (S.IN_TRANSIT, 45, 31, True),
        (S.IN_TRANSIT, 45, 29, False),
        (S.DELIVERED, 60, 55, False),
        (S.RETURNED, 60, 55, False),
    ],
)
def test_expired_after_thirty_days_without_information(
    status, shipped_days_ago, last_event_days_ago, expired
):
    last = NOW - timedelta(days=last_event_days_ago) if last_event_days_ago else None
    assert is_expired(status, NOW - timedelta(days=shipped_days_ago), last, NOW, 30) is expired


@pytest.mark.parametrize(
    ("code", "context", "proxy"),
    [
        ("303", "快件已签收", True),
        ("301", "您的快件已由【菜鸟驿站】代签收", True),
        ("301", "已由门卫代收", True),
        ("301", "快件已签收，签收人：本人", False),
        (None, None, False),
    ],
)
def test_proxy_signature_from_code_or_wording(code, context, proxy):
    assert signed_by_proxy(code, context) is proxy


def test_an_answer_whose_newest_scan_is_older_than_the_record_is_older_news():
    from datetime import UTC, datetime

    from aftercare.rules.tracking import says_less

    on_record = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    assert says_less(datetime(2026, 11, 20, 7, 59, tzinfo=UTC), on_record)
    assert says_less(None, on_record), "no scans at all says less than some"
    assert not says_less(on_record, on_record), "the same history again is applied"
    assert not says_less(datetime(2026, 11, 20, 9, 0, tzinfo=UTC), on_record)
    assert not says_less(None, None) and not says_less(on_record, None)
