"""When parcels are due, and which sync windows are fetched."""

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from aftercare.rules.notices import sms_blocker
from aftercare.rules.schedule import next_check_after_error, next_check_at
from aftercare.rules.sync import sync_windows
from aftercare.rules.tracking import ShipmentStatus
from aftercare.settings import LogisticsSettings, SyncSettings

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
T = LogisticsSettings()


@pytest.mark.parametrize("status", [ShipmentStatus.DELIVERED, ShipmentStatus.EXPIRED])
def test_final_parcels_stop_being_checked(status):
    assert next_check_at(status, 3, NOW, T) is None


def test_returned_to_shop_stops_being_checked():
    assert next_check_at(ShipmentStatus.RETURNED, 4, NOW, T) is None
    assert next_check_at(ShipmentStatus.RETURNED, 6, NOW, T) is not None


@pytest.mark.parametrize(
    "status", sorted(set(ShipmentStatus) - {ShipmentStatus.DELIVERED, ShipmentStatus.EXPIRED})
)
def test_never_more_than_one_query_per_waybill_per_30_minutes(status):
    due = next_check_at(status, 0, NOW, T)
    assert due is not None and due - NOW >= timedelta(minutes=30)
    assert next_check_after_error(NOW, T) - NOW >= timedelta(minutes=30)


def test_first_sync_covers_the_initial_days_in_windows_of_at_most_a_day():
    windows = sync_windows(None, NOW, SyncSettings(), initial_days=3)
    assert len(windows) == 3
    assert all(end - start <= timedelta(days=1) for start, end in windows)
    assert windows[0][0] == NOW - timedelta(minutes=1) - timedelta(days=3)
    assert windows[-1][1] == NOW - timedelta(minutes=1)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(windows))


def test_next_sync_overlaps_the_last_one():
    windows = sync_windows(NOW - timedelta(minutes=30), NOW, SyncSettings(), initial_days=3)
    assert windows == [(NOW - timedelta(minutes=35), NOW - timedelta(minutes=1))]


def test_nothing_to_sync_when_up_to_date():
    assert sync_windows(NOW, NOW, SyncSettings(overlap_minutes=0), initial_days=3) == []


@pytest.mark.parametrize(
    ("phone", "masked", "enabled", "blocked"),
    [
        ("13812345678", False, True, None),
        ("135*******", True, True, "masked"),
        (None, False, True, "no phone"),
        ("12345", False, True, "invalid"),
        ("13812345678", False, False, "turned off"),
    ],
)
def test_sms_blockers_are_explained(phone, masked, enabled, blocked):
    reason = sms_blocker(phone, masked, enabled)
    assert (reason is None) if blocked is None else (blocked in reason)


def test_trade_times_before_taobao_or_before_the_order_are_implausible():
    from datetime import UTC, datetime, timedelta

    from aftercare.rules.sync import implausible_times

    created = datetime(2026, 11, 17, 2, 0, tzinfo=UTC)
    skew = timedelta(minutes=10)
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    assert "before Taobao existed" in implausible_times({"consign_time": epoch}, created, skew)
    early = {"pay_time": created - timedelta(days=1)}
    assert "before the order was created" in implausible_times(early, created, skew)
    fine = {"pay_time": created + timedelta(minutes=5), "consign_time": None}
    assert implausible_times(fine, created, skew) == ""
    assert implausible_times({"pay_time": created - timedelta(minutes=5)}, created, skew) == ""
