"""Detecting parcel anomalies with a pinned clock."""

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from aftercare.rules.anomalies import AnomalyKind, Severity, ShipmentFacts, detect_anomalies
from aftercare.rules.tracking import ShipmentStatus
from aftercare.settings import LogisticsSettings

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
T = LogisticsSettings()
K, S, St = AnomalyKind, Severity, ShipmentStatus


def facts(
    *,
    shipped_hours_ago: float,
    status=St.IN_TRANSIT,
    events=3,
    last_event_hours_ago: float | None = 2,
    state: int | None = 0,
    province="浙江省",
    proxy=False,
    courier_known=True,
):
    return ShipmentFacts(
        shipped_at=NOW - timedelta(hours=shipped_hours_ago),
        status=status,
        courier_state=state,
        event_count=events,
        last_event_at=None
        if last_event_hours_ago is None
        else NOW - timedelta(hours=last_event_hours_ago),
        province=province,
        signed_by_proxy=proxy,
        courier_known=courier_known,
    )


def kinds(found):
    return {(a.kind, a.severity) for a in found}


def _failing(times):
    """A parcel never read successfully, 80 h after shipping, after `times` failed checks."""
    base = facts(shipped_hours_ago=80, status=St.PENDING, events=0, last_event_hours_ago=None)
    return dataclasses.replace(base, check_failures=times)


CASES = {
    "healthy parcel": (facts(shipped_hours_ago=30), set()),
    "no scan yet, 23 h after shipping": (
        facts(shipped_hours_ago=23, status=St.PENDING, events=0, last_event_hours_ago=None),
        set(),
    ),
    "no scan 24 h after shipping": (
        facts(shipped_hours_ago=24, status=St.PENDING, events=0, last_event_hours_ago=None),
        {(K.NO_TRACKING, S.MINOR)},
    ),
    "quiet 47 h": (facts(shipped_hours_ago=60, last_event_hours_ago=47), set()),
    "quiet 48 h is stalled (minor)": (
        facts(shipped_hours_ago=60, last_event_hours_ago=48),
        {(K.STALLED, S.MINOR)},
    ),
    "quiet 119 h is still minor": (
        facts(shipped_hours_ago=119.5, last_event_hours_ago=119),
        {(K.STALLED, S.MINOR)},
    ),
    "quiet 120 h is serious, and overdue to Zhejiang": (
        facts(shipped_hours_ago=130, last_event_hours_ago=120),
        {(K.STALLED, S.SERIOUS), (K.OVERDUE, S.MINOR)},
    ),
    "problem parcel": (
        facts(shipped_hours_ago=40, status=St.EXCEPTION, state=2),
        {(K.PROBLEM, S.SERIOUS)},
    ),
    "refused": (facts(shipped_hours_ago=40, status=St.REFUSED, state=14), {(K.REFUSED, S.SERIOUS)}),
    "returning": (
        facts(shipped_hours_ago=40, status=St.RETURNED, state=6),
        {(K.RETURNING, S.MINOR)},
    ),
    "returned, long quiet: not stalled": (
        facts(shipped_hours_ago=200, status=St.RETURNED, state=4, last_event_hours_ago=150),
        {(K.RETURNING, S.MINOR)},
    ),
    "delivered to the buyer": (facts(shipped_hours_ago=80, status=St.DELIVERED, state=3), set()),
    "signed by proxy": (
        facts(shipped_hours_ago=80, status=St.DELIVERED, state=3, proxy=True),
        {(K.SIGNED_BY_PROXY, S.MINOR)},
    ),
    "6 days to Zhejiang is overdue (5 allowed)": (
        facts(shipped_hours_ago=24 * 5 + 1, last_event_hours_ago=10),
        {(K.OVERDUE, S.MINOR)},
    ),
    "6 days to Xinjiang is fine (8 allowed)": (
        facts(shipped_hours_ago=24 * 6, last_event_hours_ago=10, province="新疆维吾尔自治区"),
        set(),
    ),
    "9 days to Xinjiang is overdue": (
        facts(shipped_hours_ago=24 * 9, last_event_hours_ago=10, province="新疆维吾尔自治区"),
        {(K.OVERDUE, S.MINOR)},
    ),
    "expired: nothing for 30 days": (
        facts(shipped_hours_ago=24 * 31, status=St.EXPIRED, events=0, last_event_hours_ago=None),
        {(K.EXPIRED, S.SERIOUS)},
    ),
    "unknown courier": (
        facts(shipped_hours_ago=5, courier_known=False),
        {(K.UNTRACKABLE, S.MINOR)},
    ),
    "two failed checks: stale facts raise nothing": (_failing(2), set()),
    "three failed checks in a row: track by hand": (_failing(3), {(K.UNTRACKABLE, S.MINOR)}),
}


@pytest.mark.parametrize("name", list(CASES))
def test_anomalies(name):
    parcel, expected = CASES[name]
    assert kinds(detect_anomalies(parcel, NOW, T)) == expected


def test_thresholds_are_settings():
    strict = LogisticsSettings(stalled_minor_hours=12, stalled_serious_hours=24)
    parcel = facts(shipped_hours_ago=30, last_event_hours_ago=25)
    assert kinds(detect_anomalies(parcel, NOW, strict)) == {(K.STALLED, S.SERIOUS)}
    assert kinds(detect_anomalies(parcel, NOW, T)) == set()
