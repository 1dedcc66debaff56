"""The generated world: buyers, trades, shipments, ratings; deterministic from seed and anchor."""

from __future__ import annotations

import bisect
import dataclasses
import hashlib
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from .confirmations import Confirmation, plan_confirmation
from .ratings import Rating
from .shipment import ShipmentScenario
from .shops import ALL_SHOPS

if TYPE_CHECKING:
    from .members import Member
    from .timeline import TrackEvent

WAIT_BUYER_PAY = "WAIT_BUYER_PAY"
TRADE_CLOSED_BY_TAOBAO = "TRADE_CLOSED_BY_TAOBAO"
WAIT_SELLER_SEND_GOODS = "WAIT_SELLER_SEND_GOODS"
WAIT_BUYER_CONFIRM_GOODS = "WAIT_BUYER_CONFIRM_GOODS"
TRADE_FINISHED = "TRADE_FINISHED"
TRADE_BUYER_SIGNED = "TRADE_BUYER_SIGNED"

TRADE_STATUSES = frozenset(
    {
        "TRADE_NO_CREATE_PAY",
        WAIT_BUYER_PAY,
        "SELLER_CONSIGNED_PART",
        WAIT_SELLER_SEND_GOODS,
        WAIT_BUYER_CONFIRM_GOODS,
        TRADE_BUYER_SIGNED,
        TRADE_FINISHED,
        "TRADE_CLOSED",
        TRADE_CLOSED_BY_TAOBAO,
    }
)

# Index entry kinds: a trade's creation (for shipped trades: its shipping), and the moment it
# settles: leaves WAIT_BUYER_PAY (orders placed unpaid) or is confirmed (shipped trades).
_CREATED = 0
_SETTLED = 1


@dataclass(frozen=True, slots=True)
class Buyer:
    """A customer of the team; the same person may buy in several shops."""

    nick: str
    name: str
    phone: str
    province: str
    city: str
    district: str
    address: str
    # TOP's buyer_open_uid: one per buyer and app (the nick is blurred, several share one).
    # Out of the repr: the pinned world fingerprints predate it.
    open_uid: str = dataclasses.field(default="", repr=False)

    @property
    def uid(self) -> str:
        """Return the buyer's open uid, derived from the person when none was given."""
        if self.open_uid:
            return self.open_uid
        return "AAH" + hashlib.sha256(f"{self.phone}|{self.name}".encode()).hexdigest()[:21]


@dataclass(frozen=True, slots=True)
class OrderLine:
    """One sub-order (TOP `order`) of a trade."""

    oid: int
    title: str
    cid: int
    num: int
    price: str


@dataclass(frozen=True, slots=True)
class Trade:
    """A Taobao trade as the shop's TOP app sees it at one moment (times aware UTC)."""

    tid: int
    shop: str
    type: str
    status: str
    buyer: Buyer
    lines: tuple[OrderLine, ...]
    total_fee: str
    post_fee: str
    payment: str
    created: datetime
    pay_time: datetime | None
    consign_time: datetime | None
    end_time: datetime | None
    modified: datetime
    logistics_company: str | None = None
    waybill: str | None = None
    scenario: str | None = None


@dataclass(frozen=True, slots=True)
class Fate:
    """How an order placed unpaid leaves WAIT_BUYER_PAY: paid or closed at `settles_at`.

    `deadline` is when Taobao closes it automatically (created + 72 h, group-buys + 30 min);
    a generated fate settles no later than that (buyers may also cancel earlier).
    """

    created: datetime
    deadline: datetime
    settles_at: datetime
    paid: bool
    # Set by world.pay/close: the test's word overrides whatever the fate planned.
    explicit: bool = False
    # Set when a reminder SMS made the buyer pay (see World.convert).
    converted: bool = False

    def status_at(self, when: datetime) -> str:
        """Return the trade status this fate gives at `when`."""
        if self.settles_at > when:
            return WAIT_BUYER_PAY
        return WAIT_SELLER_SEND_GOODS if self.paid else TRADE_CLOSED_BY_TAOBAO


class Conversion(NamedTuple):
    """A payment a reminder SMS brought about: the trade and when the buyer pays."""

    tid: int
    paid_at: datetime


class World:
    """The generated trades, shipments, ratings and members, seen at the sandbox clock.

    Orders placed unpaid carry a `Fate`; their visible status, pay/end time and modification
    time are derived from it at the clock, so moving the clock pays and closes them. Shipped
    trades stay WAIT_BUYER_CONFIRM_GOODS until their `Confirmation` (worked out lazily, shop by
    shop, see confirmations.py) finishes them.
    """

    def __init__(
        self,
        *,
        seed: int,
        anchor: datetime,
        buyers: list[Buyer],
        trades: list[Trade],
        shipments: list[ShipmentScenario],
        fates: dict[int, Fate] | None = None,
        ratings: Iterable[Rating] = (),
        members: dict[str, list[Member]] | None = None,
    ) -> None:
        self.seed = seed
        self.anchor = anchor
        self.shops = ALL_SHOPS
        self.buyers = buyers
        self._lock = threading.Lock()
        self._now: Callable[[], datetime] | None = None
        # Trades as generated; for fated trades this is the unpaid look (modified = created).
        self._trades: dict[int, Trade] = {t.tid: t for t in trades}
        self._fates: dict[int, Fate] = dict(fates or {})
        self._settled: dict[int, Trade] = {}
        # Confirmations of shipped trades, by tid (None: never confirmed), and the shops whose
        # confirmations are all worked out and in the index.
        self._confirmations: dict[int, Confirmation | None] = {}
        self._confirmed_shops: set[str] = set()
        self._shipped_of: dict[str, list[int]] = {code: [] for code in ALL_SHOPS}
        self.conversions: list[Conversion] = []
        self.shipments: dict[tuple[str, str], ShipmentScenario] = {
            (s.com, s.waybill): s for s in shipments
        }
        self._shipment_by_tid = {s.tid: s for s in shipments}
        # Parcels buyers send back on refunds (refunds.py), by (com, waybill).
        self.return_parcels: dict[tuple[str, str], ShipmentScenario] = {}
        self._by_phone: dict[str, list[int]] = {}
        # Per shop, (time, tid, kind) sorted: the increment API is a range scan on it. A fated
        # trade has two entries (created, settled); a query keeps the one current at its clock.
        self._index: dict[str, list[tuple[datetime, int, int]]] = {code: [] for code in ALL_SHOPS}
        for trade in trades:
            fate = self._fates.get(trade.tid)
            entries = self._index[trade.shop]
            if fate is None:
                entries.append((trade.modified, trade.tid, _CREATED))
                if trade.waybill is not None:
                    self._shipped_of[trade.shop].append(trade.tid)
                continue
            entries.append((trade.created, trade.tid, _CREATED))
            entries.append((fate.settles_at, trade.tid, _SETTLED))
            self._by_phone.setdefault(trade.buyer.phone, []).append(trade.tid)
        for index in self._index.values():
            index.sort()
        self.ratings: dict[int, Rating] = {r.oid: r for r in ratings}
        self._ratings_by_shop: dict[str, list[Rating]] = {code: [] for code in ALL_SHOPS}
        self._ratings_by_tid: dict[int, list[Rating]] = {}
        for rating in self.ratings.values():
            self._ratings_by_shop[rating.shop].append(rating)
            self._ratings_by_tid.setdefault(rating.tid, []).append(rating)
        for shop_ratings in self._ratings_by_shop.values():
            shop_ratings.sort(key=lambda r: (r.created, r.oid))
        self._rating_times = {
            code: [r.created for r in rs] for code, rs in self._ratings_by_shop.items()
        }
        self._members: dict[str, list[Member]] = {code: [] for code in ALL_SHOPS}
        for code, shop_members in (members or {}).items():
            self._members[code] = list(shop_members)
        # Fields of planted bad records rendered as given, by ("trade", tid) / ("rating", oid),
        # and the scans Kuaidi100 reports for planted parcels, by (com, waybill).
        self.wire_overrides: dict[tuple[str, int], dict[str, Any]] = {}
        self.planted_scans: dict[tuple[str, str], tuple[TrackEvent, ...]] = {}

    # -- the clock --------------------------------------------------------------------------

    def attach_clock(self, now: Callable[[], datetime]) -> None:
        """Derive every trade's state at `now()` from here on (the sandbox passes its clock)."""
        self._now = now

    def now(self) -> datetime:
        """Return the time the world is seen at: the attached clock, else the anchor."""
        return self._now() if self._now is not None else self.anchor

    # -- trades ----------------------------------------------------------------------------

    @property
    def trades(self) -> dict[int, Trade]:
        """Return a snapshot of all trades by tid, as they look at the clock."""
        now = self.now()
        with self._lock:
            return {tid: self._at(tid, now) for tid in self._trades}

    def trade(self, tid: int) -> Trade | None:
        """Return one trade by tid, as it looks at the clock."""
        return self.trade_at(tid, self.now())

    def trade_at(self, tid: int, when: datetime) -> Trade | None:
        """Return one trade by tid as it looks at `when`."""
        with self._lock:
            return self._at(tid, when) if tid in self._trades else None

    @property
    def trade_count(self) -> int:
        """Return how many trades there are (without deriving their state)."""
        return len(self._trades)

    def fate(self, tid: int) -> Fate | None:
        """Return the fate of an order placed unpaid (None for trades generated shipped)."""
        return self._fates.get(tid)

    def generated_trades(self) -> list[Trade]:
        """Every trade as it was generated (fated ones in their unpaid look)."""
        return list(self._trades.values())

    def members_by_shop(self) -> dict[str, list[Member]]:
        """Every shop's members, as generated."""
        return {code: list(members) for code, members in self._members.items()}

    @property
    def fates(self) -> dict[int, Fate]:
        """Return a snapshot of every fate by tid."""
        with self._lock:
            return dict(self._fates)

    def trades_of(self, shop: str) -> list[Trade]:
        """Return one shop's trades at the clock, oldest modification first."""
        now = self.now()
        with self._lock:
            self._confirm_shop(shop)
            return [
                self._at(tid, now)
                for when, tid, kind in self._index[shop]
                if self._current(tid, kind, now, include_future=True)
            ]

    def shipment_of(self, tid: int) -> ShipmentScenario | None:
        """Return the shipment of a trade, if it was shipped."""
        return self._shipment_by_tid.get(tid)

    def tracked_shipment(self, com: str, waybill: str) -> ShipmentScenario | None:
        """Return the shipment Kuaidi100 knows under com + waybill."""
        shipment = self.shipments.get((com, waybill)) or self.return_parcels.get((com, waybill))
        if shipment is None or shipment.scenario == "unknown_courier":
            return None
        return shipment

    def scenario_counts(self) -> Counter[str]:
        """Count shipments per scenario."""
        return Counter(s.scenario for s in self.shipments.values())

    def shipments_in(self, scenario: str) -> Iterator[ShipmentScenario]:
        """Yield the shipments of one scenario."""
        return (s for s in self.shipments.values() if s.scenario == scenario)

    def modified_between(
        self, shop: str, start: datetime, end: datetime, *, not_after: datetime
    ) -> list[Trade]:
        """Return a shop's trades modified in [start, end] as seen at `not_after` (the clock)."""
        now = not_after
        end = min(end, now)
        with self._lock:
            self._confirm_shop(shop)
            index = self._index[shop]
            lo = bisect.bisect_left(index, (start, 0, _CREATED))
            hi = bisect.bisect_right(index, (end, 1 << 64, _SETTLED))
            return [
                self._at(tid, now)
                for _, tid, kind in index[lo:hi]
                if self._current(tid, kind, now, include_future=False)
            ]

    def changes_between(
        self, shop: str, start: datetime, end: datetime
    ) -> list[tuple[datetime, Trade]]:
        """Return each change of a shop's trades in (start, end] with the trade as it became.

        A change is a modification as seen at `end`: a creation, a payment or closing, a
        shipment, a confirmation.
        """
        with self._lock:
            self._confirm_shop(shop)
            index = self._index[shop]
            lo = bisect.bisect_right(index, (start, 1 << 64, _SETTLED))
            hi = bisect.bisect_right(index, (end, 1 << 64, _SETTLED))
            # Every entry up to `end` happened (a fate moved by pay/close moves its entry).
            return [(when, self._at(tid, when)) for when, tid, _ in index[lo:hi]]

    def unpaid_of_phone(self, phone: str, when: datetime) -> list[Trade]:
        """Return the orders of a phone number that are placed and still unpaid at `when`."""
        with self._lock:
            found = []
            for tid in self._by_phone.get(phone, ()):
                fate = self._fates[tid]
                if fate.created <= when < fate.settles_at:
                    found.append(self._trades[tid])
            return found

    def pay(self, tid: int, at: datetime) -> Trade:
        """Have the buyer pay at `at` an order unpaid at the clock; overrides its fate.

        Raises ValueError for a trade that is not WAIT_BUYER_PAY at the clock or was already
        paid/closed explicitly, and KeyError for an unknown tid. Returns the paid trade.
        """
        return self._override(tid, _whole_second(at), paid=True)

    def close(self, tid: int, at: datetime) -> Trade:
        """Close at `at` an order unpaid at the clock, as Taobao does; overrides its fate."""
        return self._override(tid, _whole_second(at), paid=False)

    def convert(self, tid: int, paid_at: datetime, *, reminded_at: datetime) -> bool:
        """Make a reminded buyer pay at `paid_at` if the order is unpaid and would not settle first.

        Explicit pay/close calls win over reminders; returns whether a payment was scheduled.
        """
        paid_at = _whole_second(paid_at)
        with self._lock:
            fate = self._fates.get(tid)
            if fate is None or fate.explicit:
                return False
            if not fate.created <= reminded_at < fate.settles_at <= fate.deadline:
                return False
            if paid_at >= fate.settles_at:
                return False  # the order closes (or is paid anyway) before that
            self._settle(
                tid, dataclasses.replace(fate, settles_at=paid_at, paid=True, converted=True)
            )
            self.conversions.append(Conversion(tid, paid_at))
            return True

    # -- receipt confirmations ----------------------------------------------------------------

    def confirmation(self, tid: int) -> Confirmation | None:
        """Return when a shipped trade is (or will be) confirmed; None if it never is."""
        with self._lock:
            if tid not in self._trades:
                return None
            return self._confirmation(tid)

    # -- members -------------------------------------------------------------------------------

    def members(self, shop: str) -> list[Member]:
        """Return the member profiles a shop keeps (its member-centre export), in file order."""
        if shop not in self._members:
            raise KeyError(f"no shop {shop!r}")
        return list(self._members[shop])

    # -- ratings -----------------------------------------------------------------------------

    def rating(self, oid: int) -> Rating | None:
        """Return the buyer's rating of one sub-order."""
        return self.ratings.get(oid)

    def ratings_of_trade(self, tid: int) -> list[Rating]:
        """Return the ratings of one trade's sub-orders."""
        return list(self._ratings_by_tid.get(tid, ()))

    def ratings_between(self, shop: str, start: datetime, end: datetime) -> list[Rating]:
        """Return a shop's ratings created in [start, end], oldest first."""
        times = self._rating_times[shop]
        lo = bisect.bisect_left(times, start)
        hi = bisect.bisect_right(times, end)
        return self._ratings_by_shop[shop][lo:hi]

    # -- planted bad records (planted.py) -------------------------------------------------------

    def plant_trade(self, trade: Trade, wire: dict[str, Any] | None = None) -> None:
        """Add a hand-made trade, listed at its `modified`; `wire` fields replace the rendered ones.

        A planted trade never changes on its own (no fate, no confirmation) and Kuaidi100 knows
        no parcel of it.
        """
        with self._lock:
            if trade.tid in self._trades:
                raise ValueError(f"trade {trade.tid} exists")
            self._trades[trade.tid] = trade
            bisect.insort(self._index[trade.shop], (trade.modified, trade.tid, _CREATED))
            if wire:
                self.wire_overrides[("trade", trade.tid)] = dict(wire)

    def revise_rating(self, oid: int, at: datetime, content: str | None = None) -> Rating:
        """Have the buyer revise a rating to good at `at` (optionally with new words)."""
        with self._lock:
            old = self.ratings[oid]
            new = replace(old, revised_at=at, revised_content=content or old.revised_content)
            self.ratings[oid] = new
            for listing in (self._ratings_by_shop[old.shop], self._ratings_by_tid[old.tid]):
                listing[listing.index(old)] = new
            return new

    def plant_rating(self, rating: Rating, wire: dict[str, Any] | None = None) -> None:
        """Add a hand-made rating, listed at its `created`; `wire` fields replace rendered ones."""
        with self._lock:
            if rating.oid in self.ratings:
                raise ValueError(f"rating {rating.oid} exists")
            self.ratings[rating.oid] = rating
            times = self._rating_times[rating.shop]
            at = bisect.bisect_right(times, rating.created)
            times.insert(at, rating.created)
            self._ratings_by_shop[rating.shop].insert(at, rating)
            self._ratings_by_tid.setdefault(rating.tid, []).append(rating)
            if wire:
                self.wire_overrides[("rating", rating.oid)] = dict(wire)

    def plant_member(self, member: Member) -> None:
        """Add a hand-made row at the end of a shop's member-centre export."""
        with self._lock:
            self._members[member.shop].append(member)

    # -- internals ---------------------------------------------------------------------------

    def _at(self, tid: int, when: datetime) -> Trade:
        trade = self._trades[tid]
        fate = self._fates.get(tid)
        if fate is None:
            return self._shipped_at(trade, when) if trade.waybill is not None else trade
        if fate.settles_at > when:
            return trade
        settled = self._settled.get(tid)
        if settled is None:
            at = fate.settles_at
            if fate.paid:
                settled = dataclasses.replace(
                    trade, status=WAIT_SELLER_SEND_GOODS, pay_time=at, modified=at
                )
            else:
                settled = dataclasses.replace(
                    trade, status=TRADE_CLOSED_BY_TAOBAO, end_time=at, modified=at
                )
            self._settled[tid] = settled
        return settled

    def _shipped_at(self, trade: Trade, when: datetime) -> Trade:
        """Return a shipped trade as it looks at `when`: finished once confirmed (lock held)."""
        confirmation = self._confirmation(trade.tid)
        if confirmation is None or confirmation.at > when:
            return trade
        finished = self._settled.get(trade.tid)
        if finished is None:
            at = confirmation.at
            finished = dataclasses.replace(trade, status=TRADE_FINISHED, end_time=at, modified=at)
            self._settled[trade.tid] = finished
        return finished

    def _confirmation(self, tid: int) -> Confirmation | None:
        """Work out (once) when a trade is confirmed (lock held)."""
        if tid in self._confirmations:
            return self._confirmations[tid]
        trade = self._trades[tid]
        shipment = self._shipment_by_tid.get(tid)
        confirmation = None
        if shipment is not None and trade.consign_time is not None:
            ratings = self._ratings_by_tid.get(tid, ())
            first_rating = min((r.created for r in ratings), default=None)
            confirmation = plan_confirmation(
                self.seed, tid, trade.consign_time, shipment, first_rating
            )
        self._confirmations[tid] = confirmation
        return confirmation

    def _confirm_shop(self, shop: str) -> None:
        """Put every confirmation of a shop's shipped trades in its index, once (lock held)."""
        if shop in self._confirmed_shops:
            return
        index = self._index[shop]
        for tid in self._shipped_of[shop]:
            confirmation = self._confirmation(tid)
            if confirmation is not None:
                index.append((confirmation.at, tid, _SETTLED))
        index.sort()
        self._confirmed_shops.add(shop)

    def _current(self, tid: int, kind: int, now: datetime, *, include_future: bool) -> bool:
        """Tell whether an index entry is the trade's modification as seen at `now`."""
        fate = self._fates.get(tid)
        if fate is None:
            confirmation = self._confirmations.get(tid)
            if confirmation is None:
                return True  # the trade has its one entry only
            return (confirmation.at <= now) == (kind == _SETTLED)
        settled = fate.settles_at <= now
        if kind == _SETTLED:
            return settled
        return not settled and (include_future or fate.created <= now)

    def _override(self, tid: int, at: datetime, *, paid: bool) -> Trade:
        now = self.now()
        with self._lock:
            trade = self._trades.get(tid)
            if trade is None:
                raise KeyError(f"no trade {tid}")
            fate = self._fates.get(tid)
            if fate is None:
                raise ValueError(f"trade {tid} is {trade.status}, not {WAIT_BUYER_PAY}")
            if fate.explicit:
                outcome = "paid" if fate.paid else "closed"
                raise ValueError(f"trade {tid} was already {outcome} at {fate.settles_at}")
            if fate.status_at(now) != WAIT_BUYER_PAY:
                raise ValueError(f"trade {tid} is {fate.status_at(now)}, not {WAIT_BUYER_PAY}")
            if at < trade.created:
                raise ValueError(f"trade {tid} was created after {at}")
            self._settle(tid, dataclasses.replace(fate, settles_at=at, paid=paid, explicit=True))
            return self._at(tid, at)

    def _settle(self, tid: int, fate: Fate) -> None:
        """Swap in a new fate and move the trade's settled index entry (lock held)."""
        old = self._fates[tid]
        index = self._index[self._trades[tid].shop]
        index.pop(bisect.bisect_left(index, (old.settles_at, tid, _SETTLED)))
        bisect.insort(index, (fate.settles_at, tid, _SETTLED))
        self._fates[tid] = fate
        self._settled.pop(tid, None)


def _whole_second(when: datetime) -> datetime:
    if when.utcoffset() is None:
        raise ValueError("world times must be timezone-aware")
    return when.replace(microsecond=0)
