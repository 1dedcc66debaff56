"""Generate the buyers' ratings of delivered trades, with revisions and follow-ups to come."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from . import rating_texts as texts
from .config import check_weights
from .dice import Dice, Weighted
from .ratings import BAD, CAUSES, DEFAULT_RATING_WEIGHTS, GOOD, NEUTRAL, RESULTS, Rating
from .scenarios import SIGNED
from .shipment import ShipmentScenario
from .world import Trade

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)

# Parcels that reach the buyer (now or later), so the buyer rates the trade.
RATED_SCENARIOS = SIGNED | {"in_transit", "out_for_delivery", "overdue"}
# Parcels slower than this from shipping to signing count as late.
SLOW_TRANSIT = 3 * DAY

# Late or mishandled parcels draw logistics complaints; parcels on time never do, and only
# they get complaints without a concrete fault ("mood").
_SLOW_CAUSES = Weighted(
    [
        ("logistics", 60),
        ("quality", 10),
        ("wrong_item", 5),
        ("description", 8),
        ("service", 7),
        ("malicious", 10),
    ]
)
_ON_TIME_CAUSES = Weighted(
    [
        ("quality", 25),
        ("wrong_item", 10),
        ("description", 20),
        ("service", 12),
        ("mood", 23),
        ("malicious", 10),
    ]
)
REVISE_SHARE = 0.30
FOLLOW_UP_SHARE = 0.15
# A shop with this many rated trades gets at least these many neutral and bad ratings.
_MIN_RATED = 12
_MIN_NEGATIVE = {NEUTRAL: 4, BAD: 3}
# Causes shared by every sub-order of a trade (the complaint is about the whole order).
_WHOLE_ORDER = frozenset({"logistics", "service", "mood", "malicious"})


@dataclass
class _Draft:
    trade: Trade
    delivered: datetime
    slow: bool
    result: str = GOOD
    cause: str | None = None


def delivery_time(shipment: ShipmentScenario, anchor: datetime) -> tuple[datetime, bool]:
    """Return when the parcel is signed for (or a safe bound after it) and whether it is late."""
    shipped, key = shipment.shipped_at, shipment.key_time
    scenario = shipment.scenario
    if scenario in SIGNED:
        assert key is not None
        late = scenario == "proxy_signed" or key - shipped > SLOW_TRANSIT
        return key, late
    if scenario == "out_for_delivery":
        assert key is not None
        return max(key + 8 * HOUR, anchor + 6 * HOUR), key - shipped > SLOW_TRANSIT
    if scenario == "in_transit":
        return max(shipped + 4 * DAY, anchor + 30 * HOUR), False
    if scenario == "overdue":
        return max(shipped + 16 * DAY, anchor + 3 * DAY), True
    raise ValueError(f"parcels in {scenario!r} are never rated")


class RatingGenerator:
    """Draw ratings from a stream of their own, so they never shift the trades."""

    def __init__(
        self, seed: int, anchor: datetime, weights: dict[str, float] | None = None
    ) -> None:
        self.rng = Dice(seed * 7919 + 0xA7E5)
        self.anchor = anchor
        mix = dict(weights or DEFAULT_RATING_WEIGHTS)
        check_weights("rating_weights", mix, RESULTS)
        self.results: Weighted[str] = Weighted([(r, mix.get(r, 0)) for r in RESULTS])

    def generate(
        self,
        trades: Iterable[Trade],
        shipments: dict[int, ShipmentScenario],
        confirms: dict[int, datetime],
    ) -> list[Rating]:
        """Return every rating of the delivered trades, oldest trade first."""
        rng = self.rng
        drafts: list[_Draft] = []
        for trade in trades:
            if trade.scenario not in RATED_SCENARIOS:
                continue
            delivered, slow = delivery_time(shipments[trade.tid], self.anchor)
            draft = _Draft(trade, delivered, slow, rng.weighted(self.results))
            if draft.result != GOOD:
                draft.cause = self._cause(slow)
            drafts.append(draft)
        self._ensure_negatives(drafts)
        self._ensure_causes(drafts)
        ratings: list[Rating] = []
        for draft in drafts:
            ratings.extend(self._rate(draft, confirms.get(draft.trade.tid)))
        return self._ensure_futures(ratings)

    def _cause(self, slow: bool) -> str:
        return self.rng.weighted(_SLOW_CAUSES if slow else _ON_TIME_CAUSES)

    def _ensure_negatives(self, drafts: list[_Draft]) -> None:
        """Give every shop of a reasonable size a handful of neutral and bad ratings."""
        by_shop: dict[str, list[_Draft]] = {}
        for draft in drafts:
            by_shop.setdefault(draft.trade.shop, []).append(draft)
        for shop_drafts in by_shop.values():
            if len(shop_drafts) < _MIN_RATED:
                continue
            for result, minimum in _MIN_NEGATIVE.items():
                have = sum(d.result == result for d in shop_drafts)
                good = [d for d in shop_drafts if d.result == GOOD]
                for draft in self.rng.sample(good, min(len(good), max(0, minimum - have))):
                    draft.result, draft.cause = result, self._cause(draft.slow)

    def _ensure_causes(self, drafts: list[_Draft]) -> None:
        """Make every cause occur at least once, on a trade it fits."""
        negative = [d for d in drafts if d.cause]
        counts = Counter(d.cause or "" for d in negative)
        for cause in CAUSES:
            if counts[cause] or not counts:
                continue
            donors = [d for d in negative if counts[d.cause or ""] > 1 and _fits(cause, d.slow)]
            if not donors:
                continue
            draft = self.rng.pick(donors)
            counts[draft.cause or ""] -= 1
            draft.cause = cause
            counts[cause] += 1

    def _rate(self, draft: _Draft, confirm: datetime | None) -> list[Rating]:
        rng, trade = self.rng, draft.trade
        created = draft.delivered + rng.between(DAY, 10 * DAY)
        if confirm is not None and created < confirm:
            # Taobao opens rating once the buyer confirms receipt.
            created = confirm + rng.between(10 * MINUTE, 12 * HOUR)
        ratings: list[Rating] = []
        for position, line in enumerate(trade.lines):
            shared = draft.cause in _WHOLE_ORDER
            if draft.result == GOOD or (position and not shared):
                result, cause, content = GOOD, None, texts.positive_text(rng, line.cid)
            elif position and ratings:
                first = ratings[0]
                result, cause, content = first.result, first.cause, first.content
            else:
                assert draft.cause is not None
                result, cause = draft.result, draft.cause
                content = texts.negative_text(rng, cause, result, line.cid)
            ratings.append(
                Rating(
                    tid=trade.tid,
                    oid=line.oid,
                    shop=trade.shop,
                    nick=trade.buyer.nick,
                    item_title=line.title,
                    item_price=line.price,
                    result=result,
                    cause=cause,
                    content=content,
                    created=created,
                    valid_score=not (cause == "malicious" and rng.chance(0.5)),
                )
            )
        return [self._future(r) for r in ratings]

    def _future(
        self, rating: Rating, *, revise: bool | None = None, follow: bool | None = None
    ) -> Rating:
        """Schedule a neutral/bad rating's revision to good and the buyer's follow-up review."""
        if rating.result == GOOD:
            return rating
        rng = self.rng
        if revise is None:
            revise = rating.cause != "malicious" and rng.chance(REVISE_SHARE)
        if follow is None:
            follow = rng.chance(FOLLOW_UP_SHARE)
        revised_at = revised_content = append_at = append_content = None
        if revise:
            revised_at = rating.created + rng.between(2 * DAY, 20 * DAY)
            assert rating.cause is not None
            revised = texts.revised_text(rng, rating.cause)
            revised_content = revised if rng.chance(0.6) else None
        if follow:
            append_at = rating.created + rng.between(DAY, 10 * DAY)
            resolved = revised_at is not None and revised_at <= append_at
            append_content = texts.follow_up_text(
                rng, rating.cause or "", rating.result, resolved=resolved
            )
        return dataclasses.replace(
            rating,
            revised_at=revised_at,
            revised_content=revised_content,
            append_at=append_at,
            append_content=append_content,
        )

    def _ensure_futures(self, ratings: list[Rating]) -> list[Rating]:
        """Give each shop with a few neutral/bad ratings a revision and a follow-up to come."""
        by_shop: dict[str, list[int]] = {}
        for i, rating in enumerate(ratings):
            if rating.result != GOOD:
                by_shop.setdefault(rating.shop, []).append(i)
        for positions in by_shop.values():
            if len(positions) < 3:
                continue
            plain = [
                i
                for i in positions
                if ratings[i].revised_at is None and ratings[i].append_at is None
            ]
            if not any(ratings[i].revised_at for i in positions):
                candidates = [i for i in plain if ratings[i].cause != "malicious"]
                if candidates:
                    i = self.rng.pick(candidates)
                    ratings[i] = self._future(ratings[i], revise=True, follow=False)
                    plain.remove(i)
            if not any(ratings[i].append_at for i in positions) and len(plain) > 1:
                i = self.rng.pick(plain)
                ratings[i] = self._future(ratings[i], revise=False, follow=True)
        return ratings


def _fits(cause: str, slow: bool) -> bool:
    if cause == "logistics":
        return slow
    if cause == "mood":
        return not slow
    return True
