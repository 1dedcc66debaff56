"""The generated world: buyers, trades and shipments, deterministic from seed and anchor."""

from __future__ import annotations

import bisect
import dataclasses
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from .shipment import ShipmentScenario
from .shops import SHOPS

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
    """A Taobao trade as the shop's TOP app sees it (times aware UTC)."""

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


class World:
    """Read-mostly container of the generated trades and shipments with O(1) lookups."""

    def __init__(
        self,
        *,
        seed: int,
        anchor: datetime,
        buyers: list[Buyer],
        trades: list[Trade],
        shipments: list[ShipmentScenario],
    ) -> None:
        self.seed = seed
        self.anchor = anchor
        self.shops = SHOPS
        self.buyers = buyers
        self._lock = threading.Lock()
        self._trades: dict[int, Trade] = {t.tid: t for t in trades}
        self.shipments: dict[tuple[str, str], ShipmentScenario] = {
            (s.com, s.waybill): s for s in shipments
        }
        self._shipment_by_tid = {s.tid: s for s in shipments}
        # Per shop, (modified, tid) sorted: the increment API is a range scan on it.
        self._by_modified: dict[str, list[tuple[datetime, int]]] = {code: [] for code in SHOPS}
        for trade in trades:
            self._by_modified[trade.shop].append((trade.modified, trade.tid))
        for index in self._by_modified.values():
            index.sort()

    @property
    def trades(self) -> dict[int, Trade]:
        """Return a snapshot of all trades by tid."""
        with self._lock:
            return dict(self._trades)

    def trade(self, tid: int) -> Trade | None:
        """Return one trade by tid."""
        return self._trades.get(tid)

    def trades_of(self, shop: str) -> list[Trade]:
        """Return one shop's trades, oldest modification first."""
        with self._lock:
            return [self._trades[tid] for _, tid in self._by_modified[shop]]

    def shipment_of(self, tid: int) -> ShipmentScenario | None:
        """Return the shipment of a trade, if it was shipped."""
        return self._shipment_by_tid.get(tid)

    def tracked_shipment(self, com: str, waybill: str) -> ShipmentScenario | None:
        """Return the shipment Kuaidi100 knows under com + waybill."""
        shipment = self.shipments.get((com, waybill))
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
        """Return a shop's trades modified in [start, end] and not after `not_after`."""
        end = min(end, not_after)
        with self._lock:
            index = self._by_modified[shop]
            lo = bisect.bisect_left(index, (start, 0))
            hi = bisect.bisect_right(index, (end, 1 << 64))
            return [self._trades[tid] for _, tid in index[lo:hi]]

    def pay(self, tid: int, at: datetime) -> Trade:
        """Mark an unpaid trade paid at `at` (it then waits for the seller to ship)."""
        at = _whole_second(at)
        return self._change(
            tid,
            lambda t: dataclasses.replace(
                t, status=WAIT_SELLER_SEND_GOODS, pay_time=at, modified=at
            ),
        )

    def close(self, tid: int, at: datetime) -> Trade:
        """Close an unpaid trade at `at`, as Taobao does when the payment deadline passes."""
        at = _whole_second(at)
        return self._change(
            tid,
            lambda t: dataclasses.replace(
                t, status=TRADE_CLOSED_BY_TAOBAO, end_time=at, modified=at
            ),
        )

    def _change(self, tid: int, update: Callable[[Trade], Trade]) -> Trade:
        """Swap in an updated copy of an unpaid trade and re-index it by modification time."""
        with self._lock:
            trade = self._trades.get(tid)
            if trade is None:
                raise KeyError(f"no trade {tid}")
            if trade.status != WAIT_BUYER_PAY:
                raise ValueError(f"trade {tid} is {trade.status}, not {WAIT_BUYER_PAY}")
            updated = update(trade)
            index = self._by_modified[trade.shop]
            index.pop(bisect.bisect_left(index, (trade.modified, tid)))
            bisect.insort(index, (updated.modified, tid))
            self._trades[tid] = updated
            return updated


def _whole_second(when: datetime) -> datetime:
    if when.utcoffset() is None:
        raise ValueError("world times must be timezone-aware")
    return when.replace(microsecond=0)
