"""Orders placed unpaid: when they were placed, what they cost and how they end (their fate).

The main generator pass draws every trade; this pass reshapes the ones that never shipped
(kinds "unpaid", "closed", "paid") from its own seeded stream, so shipped trades stay
exactly as they were for a seed.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta

from . import catalog
from .dice import Dice
from .shops import ALL_SHOPS
from .wire import CHINA
from .world import WAIT_BUYER_PAY, Buyer, Fate, OrderLine, Trade

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)

GROUP_BUY = "tuangou"
FIXED = "fixed"
# Taobao closes an unpaid order automatically this long after it was placed.
CLOSE_AFTER: dict[str, timedelta] = {FIXED: 72 * HOUR, GROUP_BUY: 30 * MINUTE}
GROUP_BUY_SHARE = 0.15
HISTORY = 20 * DAY

# Type and age range at the anchor of an open order in each reminder stage. The first open
# orders of every shop get these, in this order, so even a small world holds every stage.
_BUCKETS: dict[str, tuple[str, timedelta, timedelta]] = {
    "group_buy_due": (GROUP_BUY, 6 * MINUTE, 24 * MINUTE),
    "automatic_due": (FIXED, 31 * MINUTE, 50 * MINUTE),
    "pre_close_due": (FIXED, 70 * HOUR + 5 * MINUTE, 71 * HOUR + 45 * MINUTE),
    "fresh": (FIXED, MINUTE, 20 * MINUTE),
}
FORCED_BUCKETS = tuple(_BUCKETS)

# Open orders that test the reminder rules; each occurs at least once when there is room.
SPECIALS: dict[str, float] = {"two_shops": 0.10, "recent_payer": 0.10, "tiny": 0.03, "bulk": 0.03}


@dataclass
class _Slot:
    position: int
    kind: str  # "unpaid" (open at the anchor), "closed" or "paid" (both settled by then)
    trade: Trade
    forced: str | None = None
    special: str | None = None


class UnpaidShaper:
    """Reshape the never-shipped trades of a world and give each its fate."""

    def __init__(self, seed: int, anchor: datetime) -> None:
        # A stream of its own: these draws never shift the main pass.
        self.rng = Dice(seed * 7919 + 0x5EED)
        self.anchor = anchor

    def shape(
        self, trades: list[Trade], kinds: dict[int, str]
    ) -> tuple[dict[int, Fate], list[Trade]]:
        """Return the fates and the reshaped trade list (positions in `kinds` are replaced)."""
        slots = [_Slot(i, kind, trades[i]) for i, kind in sorted(kinds.items())]
        open_slots = [s for s in slots if s.kind == "unpaid"]
        self._plan_open(open_slots)
        recent = self._recent_payers(trades, slots)
        fates: dict[int, Fate] = {}
        result = list(trades)
        for slot in slots:
            trade, fate = self._shape(slot)
            result[slot.position] = trade
            fates[trade.tid] = fate
            slot.trade = trade
        self._apply_specials(open_slots, recent, result)
        return fates, result

    # -- planning ---------------------------------------------------------------------------

    def _plan_open(self, open_slots: list[_Slot]) -> None:
        seen: dict[str, int] = {}
        for slot in open_slots:
            n = seen.get(slot.trade.shop, 0)
            seen[slot.trade.shop] = n + 1
            if n < len(FORCED_BUCKETS):
                slot.forced = FORCED_BUCKETS[n]
        rng = self.rng
        for slot in open_slots:
            if slot.forced:
                continue
            roll, threshold = rng.random(), 0.0
            for special, share in SPECIALS.items():
                threshold += share
                if roll < threshold:
                    slot.special = special
                    break
        for special in SPECIALS:
            if any(s.special == special for s in open_slots):
                continue
            free = [s for s in open_slots if not s.forced and not s.special]
            # Texting needs a readable phone: buyer rules are best met where shops see one.
            readable = [s for s in free if ALL_SHOPS[s.trade.shop].can_decrypt_phone]
            pool = readable or free
            if pool:
                rng.pick(pool).special = special

    def _recent_payers(self, trades: list[Trade], slots: list[_Slot]) -> list[Buyer]:
        """Return buyers who paid an order yesterday or today (China time) by the anchor."""
        local = self.anchor.astimezone(CHINA)
        since = local.replace(hour=0, minute=0, second=0) - DAY
        reshaped = {s.position for s in slots if s.kind != "paid"}
        found: dict[str, Buyer] = {}
        for position, trade in enumerate(trades):
            if position in reshaped or trade.pay_time is None:
                continue
            if since <= trade.pay_time <= self.anchor:
                found.setdefault(trade.buyer.phone, trade.buyer)
        return list(found.values())

    # -- shaping ----------------------------------------------------------------------------

    def _shape(self, slot: _Slot) -> tuple[Trade, Fate]:
        rng, anchor, original = self.rng, self.anchor, slot.trade
        if slot.forced:
            kind, low, high = _BUCKETS[slot.forced]
            age = rng.between(low, high)
        else:
            kind = GROUP_BUY if rng.chance(GROUP_BUY_SHARE) else FIXED
            age = self._open_age(kind) if slot.kind == "unpaid" else timedelta(0)
        close_after = CLOSE_AFTER[kind]
        if slot.kind == "unpaid":
            created = anchor - age
            deadline = created + close_after
            settles, paid = self._open_fate(deadline)
        elif slot.kind == "closed":
            created = anchor - rng.between(close_after + MINUTE, HISTORY)
            deadline = created + close_after
            paid = False
            settles = deadline
            if rng.chance(0.25):  # the buyer cancelled before the deadline
                settles = created + rng.between(2 * MINUTE, close_after - MINUTE)
        else:
            assert original.pay_time is not None
            settles, paid = original.pay_time, True
            created = settles - self._pay_delay(kind)
            deadline = created + close_after
        # Built directly: dataclasses.replace costs seconds over a 100k-order world.
        trade = Trade(
            tid=original.tid,
            shop=original.shop,
            type=kind,
            status=WAIT_BUYER_PAY,
            buyer=original.buyer,
            lines=original.lines,
            total_fee=original.total_fee,
            post_fee=original.post_fee,
            payment=original.payment,
            created=created,
            pay_time=None,
            consign_time=None,
            end_time=None,
            modified=created,
        )
        return trade, Fate(created=created, deadline=deadline, settles_at=settles, paid=paid)

    def _open_age(self, kind: str) -> timedelta:
        rng = self.rng
        if kind == GROUP_BUY:
            return rng.between(timedelta(seconds=30), 29 * MINUTE)
        roll = rng.random()
        if roll < 0.2:
            return rng.between(MINUTE, 59 * MINUTE)
        if roll < 0.85:
            return rng.between(HOUR, 66 * HOUR)
        return rng.between(66 * HOUR, 71 * HOUR + 55 * MINUTE)

    def _open_fate(self, deadline: datetime) -> tuple[datetime, bool]:
        """Decide whether an order open at the anchor gets paid, cancelled or auto-closed."""
        rng, anchor = self.rng, self.anchor
        left = deadline - anchor
        roll = rng.random()
        if left > 2 * MINUTE and roll < 0.2:  # pays on its own, reminded or not
            return anchor + rng.between(MINUTE, left * 0.95), True
        if left > 2 * MINUTE and roll < 0.25:
            return anchor + rng.between(MINUTE, left - MINUTE), False
        return deadline, False

    def _pay_delay(self, kind: str) -> timedelta:
        rng = self.rng
        if kind == GROUP_BUY:
            return rng.between(timedelta(seconds=20), 28 * MINUTE)
        roll = rng.random()
        if roll < 0.7:
            return rng.between(timedelta(seconds=20), 20 * MINUTE)
        if roll < 0.9:
            return rng.between(20 * MINUTE, 3 * HOUR)
        return rng.between(3 * HOUR, 60 * HOUR)  # came back much later (reminded, maybe)

    # -- specials ---------------------------------------------------------------------------

    def _apply_specials(
        self, open_slots: list[_Slot], recent: list[Buyer], result: list[Trade]
    ) -> None:
        rng = self.rng
        for slot in open_slots:
            if slot.special == "recent_payer" and recent:
                slot.trade = dataclasses.replace(slot.trade, buyer=rng.pick(recent))
            elif slot.special == "tiny":
                slot.trade = _top_up(slot.trade, 1 + rng.below(499))
            elif slot.special == "bulk":
                slot.trade = _bulk(slot.trade, 500_000 + rng.below(5_500_000))
        partners = _partner_pools(open_slots)
        for slot in open_slots:
            if slot.special != "two_shops":
                continue
            # Leave the orders that stand for a due reminder stage alone where possible.
            pool = next((p for p in partners[slot.trade.shop] if p), None)
            if pool:
                slot.trade = dataclasses.replace(slot.trade, buyer=rng.pick(pool).trade.buyer)
        for slot in open_slots:
            result[slot.position] = slot.trade


def _partner_pools(open_slots: list[_Slot]) -> dict[str, list[list[_Slot]]]:
    """Per shop, the open orders of other shops whose buyer may have placed one here too.

    Best first: orders standing for no stage, then fresh ones, then any. Shops that see
    phones pair with shops that see phones, so the same number gets two reminders.
    """
    pools: dict[str, list[list[_Slot]]] = {}
    for shop in ALL_SHOPS:
        others = [s for s in open_slots if s.trade.shop != shop and not s.special]
        if ALL_SHOPS[shop].can_decrypt_phone:
            others = [s for s in others if ALL_SHOPS[s.trade.shop].can_decrypt_phone] or others
        pools[shop] = [
            [s for s in others if not s.forced],
            [s for s in others if s.forced == "fresh"],
            others,
        ]
    return pools


def _yuan(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _top_up(trade: Trade, cents: int) -> Trade:
    """Turn an order into a few yuan paid on the shop's 补差价 listing."""
    line = OrderLine(trade.tid, catalog.TOP_UP_TITLE, catalog.TOP_UP_CID, 1, _yuan(cents))
    money = _yuan(cents)
    return dataclasses.replace(
        trade, lines=(line,), total_fee=money, post_fee="0.00", payment=money
    )


def _bulk(trade: Trade, target_cents: int) -> Trade:
    """Turn an order into a bulk purchase (a company's staff order) worth about the target."""
    first = trade.lines[0]
    price = int(first.price.replace(".", ""))
    num = -(-target_cents // price)
    line = dataclasses.replace(first, oid=trade.tid, num=num)
    total = price * num
    return dataclasses.replace(
        trade, lines=(line,), total_fee=_yuan(total), post_fee="0.00", payment=_yuan(total)
    )
