"""Tracking timelines: the dated, worded courier scans each scenario produces."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from . import courier_texts as texts
from .catalog import PROXY_PLACES, SURNAMES
from .courier_texts import Scan
from .dice import Dice
from .geo import (
    BRANCH_SUFFIXES,
    CITY_BY_SHORT,
    PROVINCE_BY_NAME,
    REMOTE_VIA,
    City,
    area_name,
    city_of,
)
from .scenarios import NO_SCANS
from .shops import ALL_SHOPS

if TYPE_CHECKING:
    from .shipment import ShipmentScenario

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class TrackEvent:
    """One courier scan as Kuaidi100 reports it (time is aware UTC)."""

    time: datetime
    context: str
    state: int
    status_code: str
    area_code: str
    area_name: str

    @property
    def status_word(self) -> str:
        """Return the Chinese status word of the state after this scan (在途, 签收 ...)."""
        # A resultv2 sub-state (1001, 103 ...) is worded as its documented state.
        state = self.state
        if state not in texts.STATE_WORDS:
            state = 0 if str(state).startswith("10") else int(str(state)[: len(str(state)) - 2])
        return texts.STATE_WORDS.get(state, "在途")


@dataclass(slots=True)
class _Step:
    scan: Scan
    city: City
    place: str = ""
    next: str = ""


class _Cast:
    """The people and places of one parcel's journey, drawn from its own seed."""

    def __init__(self, rng: Dice, shipment: ShipmentScenario) -> None:
        com = shipment.com
        o_province, o_city, o_district = shipment.origin
        self.origin = city_of(o_province, o_city)
        self.dest = city_of(shipment.province, shipment.city)
        self.obranch = texts.origin_branch(com, self.origin, o_district)
        self.dbranch = texts.destination_branch(
            com, self.dest, shipment.district, rng.pick(BRANCH_SUFFIXES)
        )
        self.pickman = rng.pick(SURNAMES) + "师傅"
        self.pickphone = _mobile(rng)
        self.man = rng.pick(SURNAMES) + "师傅"
        self.phone = _mobile(rng)
        self.station = rng.pick(PROXY_PLACES)
        hubs = [CITY_BY_SHORT[PROVINCE_BY_NAME[self.origin.province].hub]]
        hubs += [CITY_BY_SHORT[c] for c in REMOTE_VIA.get(shipment.province, ())]
        dest_hub = CITY_BY_SHORT[PROVINCE_BY_NAME[shipment.province].hub]
        if dest_hub != hubs[-1]:
            hubs.append(dest_hub)
        self.hubs = hubs
        self.fields = {
            "obranch": self.obranch,
            "dbranch": self.dbranch,
            "pickman": self.pickman,
            "pickphone": self.pickphone,
            "man": self.man,
            "phone": self.phone,
            "station": self.station,
            "courier": shipment.courier_name,
            "shop": ALL_SHOPS[shipment.shop].name,
            "reason": "收件人拒收",
        }


def _mobile(rng: Dice) -> str:
    return f"1{rng.pick('3456789')}{rng.below(10**9):09d}"


def _forward_route(com: str, cast: _Cast) -> list[_Step]:
    """Scans from the origin branch through the hubs to the delivering branch."""
    names = [texts.hub_name(com, hub) for hub in cast.hubs]
    steps = [_Step(Scan.DEPART, cast.origin, cast.obranch, names[0])]
    for i, hub in enumerate(cast.hubs):
        following = names[i + 1] if i + 1 < len(names) else cast.dbranch
        steps.append(_Step(Scan.ARRIVE, hub, names[i], following))
        steps.append(_Step(Scan.DEPART, hub, names[i], following))
    steps.append(_Step(Scan.ARRIVE_DEST, cast.dest, cast.dbranch))
    return steps


def _return_route(com: str, cast: _Cast) -> list[_Step]:
    """Scans of a returned parcel travelling back to the shop."""
    names = [texts.hub_name(com, hub) for hub in cast.hubs]
    back = list(zip(reversed(cast.hubs), reversed(names), strict=True))
    steps = [_Step(Scan.RETURN_DEPART, cast.dest, cast.dbranch, back[0][1])]
    for i, (hub, name) in enumerate(back):
        following = back[i + 1][1] if i + 1 < len(back) else cast.obranch
        steps.append(_Step(Scan.RETURN_ARRIVE, hub, name, following))
        steps.append(_Step(Scan.RETURN_DEPART, hub, name, following))
    return steps


def _spread(rng: Dice, start: datetime, end: datetime, count: int) -> list[datetime]:
    """Place `count` times strictly between start and end, evenly with some jitter."""
    if count <= 0:
        return []
    step = (end - start) / (count + 1)
    return [start + step * (i + 1) + step * (rng.random() * 0.6 - 0.3) for i in range(count)]


def _add_fillers(rng: Dice, steps: list[_Step], total: int) -> list[_Step]:
    """Pad a route with 'still travelling' scans, each after a random real step."""
    steps = list(steps)
    while len(steps) < total:
        at = 1 + rng.below(len(steps))
        previous = steps[at - 1]
        filler = Scan.RETURN_FILLER if previous.scan.is_return else Scan.FILLER
        steps.insert(at, _Step(filler, previous.city, previous.place, previous.next))
    return steps


def _timed(
    rng: Dice, steps: list[_Step], start: datetime, end: datetime, max_gap: timedelta = 20 * HOUR
) -> list[tuple[datetime, _Step]]:
    """Time the steps between start and end, adding filler scans so no gap exceeds max_gap."""
    # Jitter may stretch a gap to 1.6 steps, so size the steps with that margin.
    needed = math.ceil((end - start) * 1.6 / max_gap) - 1
    steps = _add_fillers(rng, steps, needed)
    return list(zip(_spread(rng, start, end, len(steps)), steps, strict=True))


class _Journey:
    """Assemble one parcel's dated scans; one method per family of scenarios."""

    def __init__(self, shipment: ShipmentScenario) -> None:
        self.s = shipment
        self.rng = Dice(shipment.seed)
        self.cast = _Cast(self.rng, shipment)
        self.route = _forward_route(shipment.com, self.cast)
        self.timed: list[tuple[datetime, _Step]] = []

    def between(self, low: timedelta, high: timedelta) -> timedelta:
        return self.rng.between(low, high)

    def key_time(self) -> datetime:
        assert self.s.key_time is not None, self.s
        return self.s.key_time

    def at_destination(self, scan: Scan) -> _Step:
        return _Step(scan, self.cast.dest, self.cast.dbranch)

    def picked(self, latest: datetime) -> datetime:
        at = min(self.s.shipped_at + self.between(3 * HOUR, 8 * HOUR), latest)
        self.timed.append((at, _Step(Scan.PICKED, self.cast.origin, self.cast.obranch)))
        return at

    def deliver(self, pick: datetime, out: datetime, last: Scan, last_at: datetime) -> None:
        """Carry the parcel along the route, send it out at `out`, end with `last`."""
        self.timed.extend(_timed(self.rng, self.route, pick, out - HOUR / 2))
        self.timed.append((out, self.at_destination(Scan.OUT)))
        self.timed.append((last_at, self.at_destination(last)))

    def turned_back(self) -> Scan:
        """Pick why a parcel goes back, and word the return scans to match."""
        failure = self.rng.pick((Scan.REFUSED, Scan.PROBLEM))
        if failure is Scan.PROBLEM:
            self.cast.fields["reason"] = "收件人联系不上，已超过保管期"
        return failure

    def signed(self) -> None:
        signed = self.key_time()
        pick = self.picked(signed - 12 * HOUR)
        final = Scan.PROXY if self.s.scenario == "proxy_signed" else Scan.SIGNED
        self.deliver(pick, signed - self.between(HOUR, 5 * HOUR), final, signed)

    def in_transit(self) -> None:
        shipped, anchor = self.s.shipped_at, self.s.anchor
        pick = self.picked(anchor - HOUR / 2)
        # Delivery lies ahead of the anchor: later clocks see it arrive.
        total = max(
            self.between(2 * DAY, 4 * DAY), (anchor - shipped) + self.between(8 * HOUR, 30 * HOUR)
        )
        signed = shipped + total
        self.deliver(pick, signed - self.between(HOUR, 5 * HOUR), Scan.SIGNED, signed)

    def out_for_delivery(self) -> None:
        out = self.key_time()
        pick = self.picked(out - 12 * HOUR)
        signed = max(
            out + self.between(2 * HOUR, 8 * HOUR), self.s.anchor + self.between(HOUR / 2, 6 * HOUR)
        )
        self.deliver(pick, out, Scan.SIGNED, signed)

    def stalled(self) -> None:
        last = self.key_time()
        shipped = self.s.shipped_at
        pick = self.picked(shipped + (last - shipped) / 3)
        cut = 1 + self.rng.below(len(self.route) - 1)  # stalls before the delivering branch
        partial = _timed(self.rng, self.route[:cut], pick, last)
        partial[-1] = (last, partial[-1][1])
        self.timed.extend(partial)

    def failed(self) -> None:
        event = self.key_time()
        pick = self.picked(self.s.shipped_at + 8 * HOUR)
        failure = Scan.REFUSED if self.s.scenario == "refused" else Scan.PROBLEM
        self.deliver(pick, event - self.between(2 * HOUR, 6 * HOUR), failure, event)

    def returning(self) -> None:
        event = self.key_time()
        pick = self.picked(self.s.shipped_at + 8 * HOUR)
        out = event - self.between(8 * HOUR, 14 * HOUR)
        self.deliver(pick, out, self.turned_back(), out + 3 * HOUR)
        self.timed.append((event, self.at_destination(Scan.RETURNING)))

    def returned(self) -> None:
        event = self.key_time()
        pick = self.picked(self.s.shipped_at + 8 * HOUR)
        turn = self.s.shipped_at + self.between(60 * HOUR, 84 * HOUR)
        self.deliver(pick, turn - 6 * HOUR, self.turned_back(), turn - 3 * HOUR)
        self.timed.append((turn, self.at_destination(Scan.RETURNING)))
        back = _return_route(self.s.com, self.cast)
        self.timed.extend(_timed(self.rng, back, turn, event))
        self.timed.append((event, _Step(Scan.RETURNED, self.cast.origin, self.cast.obranch)))

    def overdue(self) -> None:
        shipped, anchor = self.s.shipped_at, self.s.anchor
        pick = self.picked(shipped + 8 * HOUR)
        total = max(
            self.between(13 * DAY, 16 * DAY), (anchor - shipped) + self.between(2 * DAY, 3 * DAY)
        )
        signed = shipped + total
        arrive_at = signed - self.between(10 * HOUR, 20 * HOUR)
        # Long hauls scan every 30-40 h: never 48 h silent, yet far beyond the normal time.
        times = [pick + self.between(30 * HOUR, 40 * HOUR)]
        while times[-1] + 40 * HOUR < arrive_at:
            times.append(times[-1] + self.between(30 * HOUR, 40 * HOUR))
        haul = self.route[:-1]
        if len(times) >= len(haul):
            self.timed.extend(zip(times, _add_fillers(self.rng, haul, len(times)), strict=True))
        else:
            self.timed.extend(_timed(self.rng, haul, pick, arrive_at, 40 * HOUR))
        self.timed.append((arrive_at, self.route[-1]))
        self.timed.append((signed - self.between(HOUR, 5 * HOUR), self.at_destination(Scan.OUT)))
        self.timed.append((signed, self.at_destination(Scan.SIGNED)))

    def render(self) -> tuple[TrackEvent, ...]:
        """Word and date the steps, oldest first, one scan per distinct second."""
        events = []
        last: datetime | None = None
        for at, step in sorted(self.timed, key=lambda item: item[0]):
            at = at.replace(microsecond=0)
            if last is not None and at <= last:
                at = last + timedelta(seconds=60 + self.rng.below(540))
            last = at
            template = self.rng.pick(texts.templates_for(self.s.com, step.scan))
            context = template.format(
                city=step.city.name, place=step.place, next=step.next, **self.cast.fields
            )
            events.append(
                TrackEvent(
                    time=at,
                    context=context,
                    state=step.scan.state,
                    status_code=step.scan.status_code,
                    area_code=step.city.area_code,
                    area_name=area_name(step.city),
                )
            )
        return tuple(events)


_BUILDERS: dict[str, Callable[[_Journey], None]] = {
    "delivered": _Journey.signed,
    "proxy_signed": _Journey.signed,
    "malformed": _Journey.signed,
    "in_transit": _Journey.in_transit,
    "out_for_delivery": _Journey.out_for_delivery,
    "stalled_minor": _Journey.stalled,
    "stalled_serious": _Journey.stalled,
    "problem": _Journey.failed,
    "refused": _Journey.failed,
    "returning": _Journey.returning,
    "returned": _Journey.returned,
    "overdue": _Journey.overdue,
}


def build_timeline(shipment: ShipmentScenario) -> tuple[TrackEvent, ...]:
    """Build the full, deterministic scan timeline of one shipment (scans after the anchor too)."""
    if shipment.scenario in NO_SCANS:
        return ()
    journey = _Journey(shipment)
    _BUILDERS[shipment.scenario](journey)
    return journey.render()
