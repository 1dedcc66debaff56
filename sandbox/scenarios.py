"""Shipment scenarios: their weights and when a parcel of each must have shipped."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from .dice import Dice

SCENARIO_WEIGHTS: dict[str, float] = {
    "delivered": 35,
    "in_transit": 15,
    "out_for_delivery": 5,
    "no_tracking": 5,
    "stalled_minor": 5,
    "stalled_serious": 4,
    "problem": 4,
    "refused": 3,
    "returning": 3,
    "returned": 2,
    "proxy_signed": 5,
    "overdue": 4,
    "lost": 2,
    "malformed": 1,
    "unknown_courier": 1,
}
SCENARIOS: tuple[str, ...] = tuple(SCENARIO_WEIGHTS)

# Scenarios whose parcels never get a single scan.
NO_SCANS = frozenset({"no_tracking", "lost", "unknown_courier"})
# Scenarios that end signed (their trades may be confirmed and finished by the anchor).
SIGNED = frozenset({"delivered", "proxy_signed", "malformed"})
# Scenarios still on their way at the anchor whose timelines end signed later on.
SIGNED_LATER = frozenset({"in_transit", "out_for_delivery", "overdue"})

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class ShipPlan:
    """Times fixed at world generation: shipping time and the scenario's key moment."""

    shipped_at: datetime
    key_time: datetime | None


def plan_shipment(scenario: str, rng: Dice, anchor: datetime) -> ShipPlan:
    """Pick the shipping time (and key moment) that puts a parcel in `scenario` at `anchor`."""

    def b(_: Dice, low: timedelta, high: timedelta) -> timedelta:
        return rng.between(low, high)

    if scenario in SIGNED:
        transit = b(rng, 2 * DAY, 4 * DAY)
        shipped = anchor - b(rng, transit + HOUR, 17 * DAY)
        return ShipPlan(shipped, shipped + transit)
    if scenario == "in_transit":
        return ShipPlan(anchor - b(rng, 8 * HOUR, 60 * HOUR), None)
    if scenario == "out_for_delivery":
        out_at = anchor - b(rng, HOUR / 2, 6 * HOUR)
        return ShipPlan(out_at - b(rng, 36 * HOUR, 80 * HOUR), out_at)
    if scenario in ("stalled_minor", "stalled_serious"):
        low, high = (50, 100) if scenario == "stalled_minor" else (125, 200)
        last = anchor - b(rng, low * HOUR, high * HOUR)
        return ShipPlan(last - b(rng, 10 * HOUR, 50 * HOUR), last)
    if scenario in ("problem", "refused"):
        event = anchor - b(rng, HOUR, 30 * HOUR)
        return ShipPlan(event - b(rng, 48 * HOUR, 84 * HOUR), event)
    if scenario == "returning":
        event = anchor - b(rng, 2 * HOUR, 40 * HOUR)
        return ShipPlan(event - b(rng, 60 * HOUR, 96 * HOUR), event)
    if scenario == "returned":
        event = anchor - b(rng, DAY, 5 * DAY)
        return ShipPlan(event - b(rng, 5 * DAY, 9 * DAY), event)
    if scenario == "overdue":
        return ShipPlan(anchor - b(rng, 8 * DAY, 12 * DAY), None)
    if scenario == "lost":
        return ShipPlan(anchor - b(rng, 31 * DAY, 40 * DAY), None)
    if scenario == "no_tracking":
        return ShipPlan(anchor - b(rng, 36 * HOUR, 5 * DAY), None)
    if scenario == "unknown_courier":
        return ShipPlan(anchor - b(rng, DAY, 10 * DAY), None)
    raise ValueError(f"unknown scenario {scenario!r}")
