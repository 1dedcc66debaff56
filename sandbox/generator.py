"""Generate the world from a seed and an anchor: buyers, trades, shipments."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from . import catalog
from .config import STAGES, check_weights
from .dice import Dice, Weighted
from .geo import COMMUNITIES, PROVINCE_BY_NAME, PROVINCES, STREETS, Province
from .members import MemberGenerator
from .rating_gen import RatingGenerator
from .scenarios import SCENARIO_WEIGHTS, SCENARIOS, SIGNED, plan_shipment
from .shipment import ShipmentScenario
from .shops import ALL_SHOPS, PINDUODUO_SHOPS, TAOBAO_SHOPS
from .unpaid import UnpaidShaper
from .world import (
    TRADE_CLOSED_BY_TAOBAO,
    WAIT_BUYER_CONFIRM_GOODS,
    WAIT_BUYER_PAY,
    WAIT_SELLER_SEND_GOODS,
    Buyer,
    OrderLine,
    Trade,
    World,
)

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)

# Share of trades per life stage at the anchor: unpaid (still open), closed unpaid, paid and
# not shipped yet, shipped (these get a scenario). The first three are placed unpaid and have
# a fate (see unpaid.py).
DEFAULT_STAGE_WEIGHTS: dict[str, float] = {"unpaid": 10, "closed": 3, "paid": 5, "shipped": 82}
PLACED_UNPAID = frozenset({"unpaid", "closed", "paid"})
_SCENARIO_TABLE: Weighted[str] = Weighted(list(SCENARIO_WEIGHTS.items()))
_PROVINCE_TABLE: Weighted[Province] = Weighted([(p, p.weight) for p in PROVINCES])
_REMOTE_TABLE: Weighted[Province] = Weighted([(p, p.weight) for p in PROVINCES if p.remote])
_COURIERS: Weighted[str] = Weighted(catalog.COURIER_WEIGHTS)
# EMS reaches remote regions best, so remote buyers get it far more often.
_REMOTE_COURIERS: Weighted[str] = Weighted(
    [(c, w * (5 if c == "ems" else 1)) for c, w in catalog.COURIER_WEIGHTS]
)
_LINE_COUNTS: Weighted[int] = Weighted([(1, 75), (2, 20), (3, 5)])
_QUANTITIES: Weighted[int] = Weighted([(1, 80), (2, 15), (3, 5)])


# Pinduoduo's order list shows paid orders only: no unpaid or closed-unpaid stages.
PINDUODUO_STAGE_WEIGHTS = {"paid": 25.0, "shipped": 75.0}


class _Builder:
    """Draws the world from one seeded source; the order of draws is part of determinism."""

    def __init__(
        self,
        seed: int,
        orders_per_shop: int,
        anchor: datetime,
        *,
        stage_weights: dict[str, float] | None = None,
        rating_weights: dict[str, float] | None = None,
        shops: tuple[str, ...] = TAOBAO_SHOPS,
        taken: tuple[set[int], set[str]] | None = None,
    ) -> None:
        self.shops = shops
        weights = dict(stage_weights or DEFAULT_STAGE_WEIGHTS)
        check_weights("stage_weights", weights, STAGES)
        self.stages: Weighted[str] = Weighted([(stage, weights.get(stage, 0)) for stage in STAGES])
        self.ships = weights.get("shipped", 0) > 0
        self.rating_weights = rating_weights
        self.confirms: dict[int, datetime] = {}
        self.rng = Dice(seed)
        self.seed = seed
        self.anchor = anchor.astimezone(UTC).replace(microsecond=0)
        self.orders_per_shop = orders_per_shop
        # A second builder (another platform's shops) shares the ids and waybills in use.
        self.used_ids, self.used_waybills = taken or (set(), set())
        total = orders_per_shop * len(shops)
        self.buyers = [self._buyer() for _ in range(max(8, int(total * 0.65)))]
        self.remote = [i for i, b in enumerate(self.buyers) if PROVINCE_BY_NAME[b.province].remote]
        if not self.remote:
            self.buyers.append(self._buyer(remote=True))
            self.remote = [len(self.buyers) - 1]

    def build(self) -> World:
        rng = self.rng
        plan: list[tuple[str, str]] = []
        for shop in self.shops:
            for _ in range(self.orders_per_shop):
                stage = rng.weighted(self.stages)
                if stage == "shipped":
                    stage = rng.weighted(_SCENARIO_TABLE)
                plan.append((shop, stage))
        if self.ships:
            self._force_every_scenario(plan)
        trades: list[Trade] = []
        shipments: list[ShipmentScenario] = []
        kinds: dict[int, str] = {}
        for shop, kind in plan:
            trade, shipment = self._trade(shop, kind)
            if kind in PLACED_UNPAID:
                kinds[len(trades)] = kind
            trades.append(trade)
            if shipment is not None:
                shipments.append(shipment)
        fates, trades = UnpaidShaper(self.seed, self.anchor).shape(trades, kinds)
        ratings = RatingGenerator(self.seed, self.anchor, self.rating_weights).generate(
            trades, {s.tid: s for s in shipments}, self.confirms
        )
        members = MemberGenerator(self.seed, self.anchor).generate(trades, self.buyers)
        return World(
            seed=self.seed,
            anchor=self.anchor,
            buyers=self.buyers,
            trades=trades,
            shipments=shipments,
            fates=fates,
            ratings=ratings,
            members=members,
        )

    def _force_every_scenario(self, plan: list[tuple[str, str]]) -> None:
        """Overwrite slots of the most common kinds so each scenario occurs at least once."""
        counts = Counter(kind for _, kind in plan)
        for scenario in SCENARIOS:
            if counts[scenario]:
                continue
            donor_kind, donor_count = counts.most_common(1)[0] if counts else ("", 0)
            if donor_count < 2:
                return  # too small a world to hold every scenario
            slots = [i for i, (_, kind) in enumerate(plan) if kind == donor_kind]
            slot = self.rng.pick(slots)
            plan[slot] = (plan[slot][0], scenario)
            counts[donor_kind] -= 1
            counts[scenario] += 1

    def _trade(self, shop: str, kind: str) -> tuple[Trade, ShipmentScenario | None]:
        rng, anchor = self.rng, self.anchor
        b = rng.between
        tid = self._new_id()
        index = rng.pick(self.remote) if kind == "overdue" else rng.below(len(self.buyers))
        buyer = self.buyers[index]
        remote = PROVINCE_BY_NAME[buyer.province].remote
        group_buy = rng.chance(0.06)
        lines, total_cents = self._lines(shop, tid)
        post_cents = 1000 if remote else 0
        discount = rng.pick((0, 0, 0, 500, 1000)) if total_cents > 10000 else 0
        pay_cents = total_cents + post_cents - discount
        pay_time = consign = end = None
        scenario = waybill = company = None
        shipment: ShipmentScenario | None = None
        if kind == "unpaid":
            status = WAIT_BUYER_PAY
            # Group-buys close 30 min after ordering, ordinary trades after 72 h.
            age = b(MINUTE, 25 * MINUTE) if group_buy else b(2 * MINUTE, 70 * HOUR)
            created = anchor - age
        elif kind == "closed":
            status = TRADE_CLOSED_BY_TAOBAO
            created = anchor - b(3 * DAY + 12 * HOUR, 20 * DAY)
            limit = 30 * MINUTE if group_buy else 72 * HOUR
            end = created + (b(10 * MINUTE, limit) if rng.chance(0.4) else limit)
        elif kind == "paid":
            status = WAIT_SELLER_SEND_GOODS
            pay_time = anchor - b(10 * MINUTE, 40 * HOUR)
            created = pay_time - self._pay_delay()
        else:
            scenario = kind
            ship_plan = plan_shipment(scenario, rng, anchor)
            consign = ship_plan.shipped_at
            pay_time = consign - b(2 * HOUR, 48 * HOUR)
            created = pay_time - self._pay_delay()
            # Stored as shipped and unconfirmed: the world finishes it at its confirmation
            # (confirmations.py), seen at the clock.
            status = WAIT_BUYER_CONFIRM_GOODS
            if scenario in SIGNED:
                # Draws of an earlier confirmation model: the ratings were timed after it, and
                # the draws stay so that nothing drawn after them shifts for a seed.
                assert ship_plan.key_time is not None
                confirm = ship_plan.key_time + b(2 * HOUR, 7 * DAY)
                confirm = min(confirm, consign + 10 * DAY)
                self.confirms[tid] = confirm
                if confirm <= anchor:
                    rng.chance(0.1)
            if scenario == "unknown_courier":
                com, company = "unknown", catalog.UNKNOWN_COURIER_NAME
            else:
                com = rng.weighted(_REMOTE_COURIERS if remote else _COURIERS)
                company = catalog.COURIER_NAMES[com]
            waybill = self._waybill(com)
            shipment = ShipmentScenario(
                shop=shop,
                tid=tid,
                com=com,
                courier_name=company,
                waybill=waybill,
                scenario=scenario,
                plan=ship_plan,
                province=buyer.province,
                city=buyer.city,
                district=buyer.district,
                receiver_phone=buyer.phone,
                origin=ALL_SHOPS[shop].warehouse,
                anchor=anchor,
                seed=rng.bits(64),
            )
        moments = [t for t in (created, pay_time, consign, end) if t is not None]
        modified = max(t for t in moments if t <= anchor) if created <= anchor else created
        trade = Trade(
            tid=tid,
            shop=shop,
            type="tuangou" if group_buy else "fixed",
            status=status,
            buyer=buyer,
            lines=lines,
            total_fee=_yuan(total_cents),
            post_fee=_yuan(post_cents),
            payment=_yuan(pay_cents),
            created=created,
            pay_time=pay_time,
            consign_time=consign,
            end_time=end,
            modified=modified,
            logistics_company=company,
            waybill=waybill,
            scenario=scenario,
        )
        return trade, shipment

    def _pay_delay(self) -> timedelta:
        # Most buyers pay within minutes; some come back hours later.
        if self.rng.chance(0.8):
            return self.rng.between(timedelta(seconds=20), 20 * MINUTE)
        return self.rng.between(20 * MINUTE, 3 * HOUR)

    def _lines(self, shop: str, tid: int) -> tuple[tuple[OrderLine, ...], int]:
        rng = self.rng
        count = rng.weighted(_LINE_COUNTS)
        products = catalog.PRODUCTS[shop]
        chosen = [rng.pick(products)] if count == 1 else rng.sample(products, count)
        lines = []
        total = 0
        for product in chosen:
            yuan = product.low + rng.below(product.high - product.low + 1)
            yuan = yuan - yuan % 10 + 9  # shop prices end in 9
            num = rng.weighted(_QUANTITIES)
            total += yuan * 100 * num
            # TOP gives a single-item trade's order the trade's own id.
            oid = tid if count == 1 else self._new_id()
            lines.append(OrderLine(oid, product.title, product.cid, num, _yuan(yuan * 100)))
        return tuple(lines), total

    def _waybill(self, com: str) -> str:
        rng = self.rng
        while True:
            if com == "yuantong":
                number = f"YT{rng.below(10**13):013d}"
            elif com == "zhongtong":
                number = f"7{rng.pick('3578')}{rng.below(10**12):012d}"
            elif com == "shunfeng":
                number = f"SF1{rng.below(10**12):012d}"
            elif com == "yunda":
                number = f"43{rng.below(10**11):011d}"
            elif com == "ems":
                number = rng.pick(("98", "11")) + f"{rng.below(10**11):011d}"
            else:
                number = f"SM{rng.below(10**12):012d}"
            if number not in self.used_waybills:
                self.used_waybills.add(number)
                return number

    def _new_id(self) -> int:
        # 18-19 digit ids like real tids (4123456789012345678).
        while True:
            value = 10**17 + self.rng.bits(62) % (49 * 10**17)
            if value not in self.used_ids:
                self.used_ids.add(value)
                return value

    def _buyer(self, *, remote: bool = False) -> Buyer:
        rng = self.rng
        province = rng.weighted(_REMOTE_TABLE if remote else _PROVINCE_TABLE)
        city = rng.pick(province.cities)
        district = rng.pick(city.districts)
        given = rng.pick(catalog.GIVEN_CHARS)
        if rng.chance(0.7):
            given += rng.pick(catalog.GIVEN_CHARS)
        name = rng.pick(catalog.SURNAMES) + given
        phone = f"1{rng.pick('3456789')}{rng.below(10**9):09d}"
        address = (
            f"{rng.pick(STREETS)}{1 + rng.below(998)}号{rng.pick(COMMUNITIES)}"
            f"{1 + rng.below(29)}幢{1 + rng.below(3)}单元{1 + rng.below(32)}0{1 + rng.below(4)}室"
        )
        return Buyer(self._nick(), name, phone, province.name, city.name, district, address)

    def _nick(self) -> str:
        rng = self.rng
        style = rng.random()
        if style < 0.35:
            return f"tb_{10**6 + rng.below(10**8 - 10**6)}"
        if style < 0.75:
            suffix = rng.pick(("", str(1985 + rng.below(27)), str(1 + rng.below(998))))
            return rng.pick(catalog.NICK_WORDS) + suffix
        return f"{rng.pick(catalog.PINYIN_NICKS)}{rng.pick(('', '_'))}{1 + rng.below(9998)}"


def _yuan(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def build_world(
    seed: int,
    orders_per_shop: int,
    anchor: datetime,
    *,
    stage_weights: dict[str, float] | None = None,
    rating_weights: dict[str, float] | None = None,
    pinduoduo_orders_per_shop: int = 0,
) -> World:
    """Generate the world for a seed and anchor; the same inputs give the same world."""
    if anchor.utcoffset() is None:
        raise ValueError("anchor must be timezone-aware")
    builder = _Builder(
        seed, orders_per_shop, anchor, stage_weights=stage_weights, rating_weights=rating_weights
    )
    world = builder.build()
    if pinduoduo_orders_per_shop <= 0:
        return world
    # Pinduoduo lists paid orders only; drawn from a source of their own, after the Taobao
    # shops, so those stay exactly as they were for the seed.
    second = _Builder(
        seed + 100_003, pinduoduo_orders_per_shop, anchor,
        stage_weights=PINDUODUO_STAGE_WEIGHTS, shops=PINDUODUO_SHOPS,
        taken=(builder.used_ids, builder.used_waybills),
    ).build()  # fmt: skip
    return World(
        seed=seed,
        anchor=world.anchor,
        buyers=world.buyers + second.buyers,
        trades=world.generated_trades() + second.generated_trades(),
        shipments=list(world.shipments.values()) + list(second.shipments.values()),
        fates={**world.fates, **second.fates},
        ratings=world.ratings.values(),
        members=world.members_by_shop(),
    )
