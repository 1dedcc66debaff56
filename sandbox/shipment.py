"""One shipped parcel with its scenario; its timeline is built lazily on first use."""

from __future__ import annotations

import bisect
import threading
from datetime import datetime

from .scenarios import ShipPlan
from .timeline import TrackEvent, build_timeline


class ShipmentScenario:
    """One shipped parcel: who, where, which scenario; its timeline is built on first use."""

    __slots__ = (
        "_events",
        "_lock",
        "_times",
        "anchor",
        "city",
        "com",
        "courier_name",
        "district",
        "key_time",
        "origin",
        "province",
        "receiver_phone",
        "scenario",
        "seed",
        "shipped_at",
        "shop",
        "tid",
        "waybill",
    )

    def __init__(
        self,
        *,
        shop: str,
        tid: int,
        com: str,
        courier_name: str,
        waybill: str,
        scenario: str,
        plan: ShipPlan,
        province: str,
        city: str,
        district: str,
        receiver_phone: str,
        origin: tuple[str, str, str],
        anchor: datetime,
        seed: int,
    ) -> None:
        self.shop = shop
        self.tid = tid
        self.com = com
        self.courier_name = courier_name
        self.waybill = waybill
        self.scenario = scenario
        self.shipped_at = plan.shipped_at
        self.key_time = plan.key_time
        self.province = province
        self.city = city
        self.district = district
        self.receiver_phone = receiver_phone
        self.origin = origin
        self.anchor = anchor
        self.seed = seed
        self._events: tuple[TrackEvent, ...] | None = None
        self._times: list[datetime] = []
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return (
            f"ShipmentScenario(shop={self.shop!r}, tid={self.tid}, com={self.com!r}, "
            f"waybill={self.waybill!r}, scenario={self.scenario!r})"
        )

    @property
    def events(self) -> tuple[TrackEvent, ...]:
        """Return the whole timeline, oldest first, including scans after the anchor."""
        if self._events is None:
            with self._lock:
                if self._events is None:
                    events = build_timeline(self)
                    self._times = [e.time for e in events]
                    self._events = events
        return self._events

    def visible(self, now: datetime) -> tuple[TrackEvent, ...]:
        """Return the scans that have happened by `now`, oldest first."""
        events = self.events
        return events[: bisect.bisect_right(self._times, now)]
